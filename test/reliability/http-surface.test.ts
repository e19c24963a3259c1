import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenovateBodySchema } from '../../src/datasource/renovate-body.js';
import { StatusSchema } from '../../src/datasource/status.js';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { AnswerCache, answer } from '../../src/serve/answer-cache.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { rawExchange, type RawResponse } from './raw-http-helper.js';

/**
 * The HTTP surface under random and hostile requests: through fastify.inject (fast, many runs) and through a real
 * socket for what inject cannot express (raw bytes, broken request lines, absolute-form targets, pipelining).
 * Whatever is asked: never a 5xx, never anything but version-map data, probes, metrics or status in a body
 * (no file contents, no key, no stack trace), every refusal one short line, and never a request to the upstream.
 */

const x86: FixturePackage[] = [
  { name: 'bootc', version: '1.16.6-r0', url: 'https://github.com/containers/bootc' },
  { name: 'bootc', version: '1.17.0_rc1-r0' },
  { name: 'libstdc++', version: '14.2.0-r3' },
  { name: 'argo-cd-2.12', version: '2.12.4-r0', provides: ['argo-cd=2.12.4-r0'] },
  { name: 'argo-cd-2.11', version: '2.11.7-r0' },
  { name: 'nightly', version: '2.0.0_beta1-r0', buildTime: 0 },
];
const arm: FixturePackage[] = [
  { name: 'bootc', version: '1.16.6-r0' },
  { name: 'libstdc++', version: '14.2.0-r2' },
];
const VERSIONS = new Set(
  [...x86, ...arm].flatMap((p) => [p.version, ...(p.provides ?? []).map((q) => q.split('=')[1]!)]),
);
const NAMES = [
  'bootc',
  'libstdc++',
  'libstdc%2B%2B',
  'argo-cd',
  'argo-cd-2.12',
  'argo-cd-*',
  'argo-cd*',
  'nightly',
  'no-such-package',
];
const TOKEN = 's3cret-token';

let f: FixtureService;
let port: number;
let upstreamRequests: number;
/** Strings that must never appear in an answer: file contents, the public key, paths and stack frames. */
let forbidden: string[];

beforeAll(async () => {
  f = await startFixtureService({
    repositories: { os: { x86_64: x86, aarch64: arm } },
    settings: { refreshToken: TOKEN },
    listen: true,
  });
  port = Number(new URL(f.baseUrl).port);
  upstreamRequests = f.upstream.requests.length;
  const pem = f.key.publicPem.split('\n').filter((l) => l && !l.startsWith('-----'));
  forbidden = [
    '-----BEGIN',
    pem[1]!,
    pem[3]!,
    'root:x:0:0',
    '[boot loader]',
    f.dir,
    process.cwd(),
    'node_modules',
    'node:internal',
    '    at ',
    '.SIGN.RSA',
    '\u001f\u008b',
  ];
});
afterAll(async () => f?.close());

/** What may come back for a request: checked the same way for inject and raw answers. */
function checkAnswer(
  what: string,
  method: string,
  res: { status: number; headers: Record<string, unknown>; body: string },
): void {
  const context = `${what} -> ${res.status} ${JSON.stringify(res.body.slice(0, 300))}`;
  expect(res.status, context).toBeGreaterThanOrEqual(200);
  expect(res.status, context).toBeLessThan(500);
  for (const word of forbidden)
    expect(res.body.includes(word), `${context}: contains ${JSON.stringify(word)}`).toBe(false);
  if ((method === 'HEAD' && res.status < 400) || res.status === 304) {
    expect(res.body, context).toBe('');
    return;
  }
  const type = String(res.headers['content-type'] ?? '');
  // The human pages (`/`, `/-/changes/...`): a whole page, with scripts refused by its policy.
  if (type.startsWith('text/html')) {
    expect(res.body.startsWith('<!doctype html>'), context).toBe(true);
    expect(String(res.headers['content-security-policy']), context).toContain("default-src 'none'");
    expect(res.body.includes('<script'), context).toBe(false);
    return;
  }
  if (res.status === 200) {
    if (res.body === 'ok\n' || res.body === 'ready\n') return;
    if (res.body.startsWith('# HELP ')) return; // /metrics
    if (type.startsWith('application/json')) {
      const json = JSON.parse(res.body) as Record<string, unknown>;
      if ('arches' in json && 'fixes' in json) return; // /-/changes as JSON
      if ('indexes' in json) {
        // /-/status (or an authorized refresh): configuration and counters, never file contents.
        expect(StatusSchema.strict().safeParse(json).error, context).toBeUndefined();
        return;
      }
      expect(RenovateBodySchema.safeParse(json).error, context).toBeUndefined();
      for (const r of (json as { releases: Array<{ version: string }> }).releases)
        expect(VERSIONS.has(r.version), `${context}: ${r.version}`).toBe(true);
      return;
    }
    expect(type, context).toBe('text/plain; charset=utf-8');
    for (const line of res.body.trimEnd().split('\n')) expect(VERSIONS.has(line), `${context}: ${line}`).toBe(true);
    return;
  }
  // Every refusal (400, 401, 404, 405, 413, 415, 431, ...) is one short line.
  expect(res.body.length, context).toBeLessThanOrEqual(300);
  expect(res.body.replace(/\n$/, '').includes('\n'), context).toBe(false);
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

const hostileSegment = fc.constantFrom(
  '..',
  '.',
  '%2e%2e',
  '%2E%2E',
  '.%2e',
  '%2e.',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  'etc',
  'passwd',
  '~root',
  '%00',
  '%zz',
  '%',
  '%a',
  '%C0%AE',
  '%C0%AE%C0%AE',
  '%E0%A4%A',
  '%FF%FE',
  '%EF%BF%BD',
  '%F0%9F%92%A9',
  '%0A',
  '%0D%0A',
  '%20',
  '%2F',
  '%5C',
  '\\',
  'latest',
  'wildcardVersion',
  '-',
  'status',
  'refresh',
  'metrics',
  'livez',
  'readyz',
  '*',
  '**',
  '*-*',
  '%2A',
  'file:',
  'http:',
  '127.0.0.1',
  'APKINDEX.tar.gz',
  'x86_64',
  'fixture-service.rsa.pub',
  'os',
  '__proto__',
  'constructor',
  'prototype',
  '%25',
  '%2525',
  ';',
  ':',
  '@',
  '+',
  '&',
  '=',
  '$',
);
const encodedString = fc.string({ maxLength: 40, unit: 'binary' }).map((s) => encodeURIComponent(s));
const asciiPath = fc
  .string({ maxLength: 30, unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) })
  .map((s) => s.replace(/[?#]/g, ''));
const longName = fc
  .integer({ min: 100, max: 6000 })
  .chain((n) => fc.constantFrom('a', '%41', '.', '*', '%2e', 'é').map((c) => c.repeat(n)));
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 4, arbitrary: hostileSegment },
  { weight: 2, arbitrary: encodedString },
  { weight: 2, arbitrary: asciiPath },
  { weight: 1, arbitrary: longName },
);
const path = fc.array(segment, { minLength: 0, maxLength: 6 }).map((s) => `/${s.join('/')}`);

const queryKeyArb = fc.constantFrom(
  'arch',
  'repository',
  'format',
  'arch[]',
  'arch[0]',
  '__proto__',
  'constructor',
  '__proto__[arch]',
  'a',
  '',
  '%00',
  '%zz',
  'ARCH',
);
const queryValue = fc.oneof(
  fc.constantFrom(
    'x86_64',
    'aarch64',
    'x86_64,aarch64',
    ',,,',
    'plain',
    'json',
    'yaml',
    '',
    '%zz',
    '%00',
    '%C0%AE',
    'os',
    'os,elsewhere',
    'x86_64%2Caarch64',
  ),
  encodedString,
  fc.integer({ min: 1, max: 3000 }).map((n) => 'x86_64,'.repeat(n)),
);
const query = fc.option(
  fc
    .tuple(fc.array(fc.tuple(queryKeyArb, queryValue), { maxLength: 40 }), fc.constantFrom('&', ';', '&&'))
    .map(([pairs, separator]) => `?${pairs.map(([k, v]) => `${k}=${v}`).join(separator)}`),
  { nil: '' },
);

const headerValue = fc.oneof(
  fc.constantFrom(
    '*',
    '"x"',
    'W/"x"',
    '',
    'Bearer',
    'Bearer ',
    'Bearer wrong',
    `bearer ${TOKEN}x`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
  ),
  fc.string({ maxLength: 60, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
  fc.integer({ min: 1, max: 8000 }).map((n) => 'x'.repeat(n)),
);
const headers = fc.dictionary(
  fc.constantFrom(
    'if-none-match',
    'authorization',
    'accept',
    'accept-encoding',
    'content-type',
    'x-forwarded-for',
    'x-forwarded-host',
    'forwarded',
    'range',
    'cookie',
    'x-http-method-override',
  ),
  headerValue,
  { maxKeys: 5 },
);
const method = fc.constantFrom(
  'GET',
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'PROPFIND',
  'SEARCH',
);
const payload = fc.option(
  fc.oneof(fc.constant('{"url":"file:///etc/passwd"}'), fc.constant('{'), fc.string({ maxLength: 200 })),
  { nil: undefined },
);

// ---------------------------------------------------------------------------------------------------------------

describe('the HTTP surface under random and hostile requests', () => {
  it('never answers a 5xx or anything but version-map data, and never reaches the upstream (inject)', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, query, headers, payload, async (m, p, q, h, body) => {
        const url = p + q;
        // light-my-request refuses some targets (a backslash) before the server sees them; the raw test sends those.
        const res = await f.service.app
          .inject({
            method: m as 'GET',
            url,
            headers: h,
            ...(body !== undefined && m !== 'GET' && m !== 'HEAD' && { payload: body }),
          })
          .catch((err: Error) =>
            err instanceof TypeError && /Invalid URL/.test(err.message) ? undefined : Promise.reject(err),
          );
        fc.pre(res !== undefined);
        checkAnswer(`${m} ${url} ${JSON.stringify(h)}`, m, {
          status: res.statusCode,
          headers: res.headers,
          body: res.body,
        });
        if (m === 'POST' && /^\/-\/refresh(\?|$)/.test(url)) expect(res.statusCode, url).toBe(401);
      }),
      { numRuns: 600 },
    );
    expect(f.upstream.requests.length).toBe(upstreamRequests);
  });

  it('answers unknown names 404 with one short line, whatever the name', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ minLength: 1, maxLength: 3000, unit: 'binary' }), longName.map(decodeURIComponentSafe)),
        async (name) => {
          fc.pre(
            ![
              'bootc',
              'libstdc++',
              'argo-cd',
              'argo-cd-2.12',
              'argo-cd-2.11',
              'nightly',
              'livez',
              'readyz',
              'metrics',
            ].includes(name),
          );
          fc.pre(!name.startsWith('-/') && !name.startsWith('wildcardVersion/'));
          const res = await f.service.app.inject({ method: 'GET', url: `/${encodeURIComponent(name)}` });
          expect(res.statusCode, name).toBe(404);
          expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
          expect(
            res.body.endsWith('\n') && res.body.indexOf('\n') === res.body.length - 1,
            JSON.stringify(res.body),
          ).toBe(true);
          expect(res.body.length).toBeLessThanOrEqual(300);
        },
      ),
      { numRuns: 300 },
    );
    expect(f.upstream.requests.length).toBe(upstreamRequests);
  });

  it('refuses POST /-/refresh for any Authorization header but the token (a property; refresh.test.ts has the fixed cases)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(headerValue, { nil: undefined }), async (authorization) => {
        fc.pre(authorization === undefined || !new RegExp(`^bearer\\s+${TOKEN}\\s*$`, 'i').test(authorization));
        const res = await f.service.app.inject({
          method: 'POST',
          url: '/-/refresh',
          headers: authorization === undefined ? {} : { authorization },
        });
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }),
      { numRuns: 200 },
    );
    expect(f.upstream.requests.length).toBe(upstreamRequests);
    // The token itself works, and only that refresh reaches the upstream: the configured index URLs, nothing else.
    const ok = await f.service.app.inject({
      method: 'POST',
      url: '/-/refresh',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.statusCode).toBe(200);
    const sent = f.upstream.requests.slice(upstreamRequests).map((r) => r.path);
    expect(sent.sort()).toEqual(['/os/aarch64/APKINDEX.tar.gz', '/os/x86_64/APKINDEX.tar.gz']);
    upstreamRequests = f.upstream.requests.length;
  });

  it('stays up and answers every raw request with a short 4xx or real data, never a 5xx (real socket)', async () => {
    const upstreamPort = new URL(f.upstream.url).port;
    const line = (target: string, extra = '') =>
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`;
    const cases: Array<[string, string | Buffer]> = [
      [
        'invalid UTF-8 bytes in the path',
        Buffer.concat([
          Buffer.from('GET /boot'),
          Buffer.from([0xff, 0xfe, 0xc0, 0xae]),
          Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        ]),
      ],
      ['a NUL in the path', 'GET /bootc\0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['a NUL in a header', line('/bootc', 'X-A: a\0b\r\n')],
      ['an overlong request line', line(`/${'a'.repeat(70_000)}`)],
      ['an overlong query', line(`/bootc?arch=${'x86_64,'.repeat(10_000)}`)],
      ['bad percent-encoding', line('/%zz')],
      ['overlong UTF-8 dots', line('/%C0%AE%C0%AE/%C0%AE%C0%AE/etc/passwd')],
      ['traversal', line('/../../../../etc/passwd')],
      ['encoded traversal', line('/%2e%2e/%2e%2e/%2e%2e/etc/passwd')],
      ['encoded slashes', line('/..%2f..%2f..%2fetc%2fpasswd')],
      ['traversal to the key', line('/../os/fixture-service.rsa.pub')],
      ['wildcard traversal', line('/wildcardVersion/..%2f..%2f*')],
      ['wildcard of everything', line('/wildcardVersion/*')],
      ['absolute-form target to the upstream', line(`http://127.0.0.1:${upstreamPort}/os/x86_64/APKINDEX.tar.gz`)],
      ['absolute-form target to a file', line('file:///etc/passwd')],
      ['asterisk-form', 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['an unknown method', 'BREW /bootc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['a lower-case method', 'get /bootc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['PROPFIND', 'PROPFIND /bootc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['CONNECT', `CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}\r\n\r\n`],
      ['a huge header', line('/bootc', `X-Big: ${'b'.repeat(20_000)}\r\n`)],
      ['many headers', line('/bootc', Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}\r\n`).join(''))],
      ['no Host header', 'GET /bootc HTTP/1.1\r\nConnection: close\r\n\r\n'],
      ['two Host headers', 'GET /bootc HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'],
      ['an obs-folded header', line('/bootc', 'X-Fold: a\r\n b\r\n')],
      [
        'Content-Length and chunked',
        'POST /-/refresh HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
      ],
      [
        'a negative Content-Length',
        'POST /-/refresh HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n',
      ],
      [
        'a refresh with a JSON body and no token',
        'POST /-/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n{',
      ],
      [
        'a refresh with a huge body',
        `POST /-/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n${'z'.repeat(2_000_000)}`,
      ],
      [
        'two Authorization headers',
        `POST /-/refresh HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`,
      ],
      ['repeated query keys', line(`/bootc?${'arch=x86_64&'.repeat(100)}`)],
      ['repeated format', line('/bootc?format=plain&format=json')],
      ['prototype keys', line('/bootc?__proto__=x&constructor=y&__proto__[arch]=z&arch[]=x86_64')],
      ['a NUL in the query', line('/bootc?arch=%00&format=%00')],
      ['a fragment', line('/bootc#frag')],
      ['HTTP/1.0', 'GET /bootc HTTP/1.0\r\n\r\n'],
      ['HTTP/9.9', 'GET /bootc HTTP/9.9\r\nHost: x\r\n\r\n'],
      ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
      ['garbage', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256))],
      ['a half request', 'GET /bootc HTTP/1.1\r\nHost: x\r\n'],
      ['a long unknown name', line(`/${'%41'.repeat(5000)}`)],
      ['a long wildcard', line(`/wildcardVersion/${'a'.repeat(4000)}*`)],
      ['a long arch list', line(`/bootc?arch=${'x86_64,'.repeat(140)}aarch64,x86_64`)],
      ['a long repository list', line(`/bootc?repository=${'nope,'.repeat(200)}`)],
      ['a long arch list on a known pattern', line(`/wildcardVersion/argo-cd-*?arch=${'riscv64,'.repeat(140)}`)],
    ];
    // Requests no server can read as one HTTP/1.1 request: it must refuse them (400) or hang up, never wait on them.
    const malformed = new Set(['CONNECT', 'an HTTP/2 preface', 'garbage', 'a half request']);
    for (const [what, request] of cases) {
      // Every request asks for the connection to be closed (or is malformed), so the exchange ends when the server
      // closes it; a server that never answers is reported (closed false after the cap), not taken for a pass.
      // The half request's client then sends nothing more (it half-closes), as a client that gave up would.
      const { responses, raw, closed } = await rawExchange(port, request, { end: what === 'a half request' });
      const seen = `${what}: closed ${closed}, ${JSON.stringify(raw.slice(0, 300))}`;
      if (malformed.has(what)) {
        expect(closed || responses[0]?.status === 400, seen).toBe(true);
        expect(responses.length, seen).toBeLessThanOrEqual(1);
      } else {
        expect(responses, seen).toHaveLength(1);
        expect(closed, seen).toBe(true);
      }
      for (const res of responses) checkAnswer(what, 'GET', res);
      expect(raw.includes('HTTP/1.1 5'), seen).toBe(false);
    }
    // Pipelined requests on one connection, hostile and good mixed: each gets its own answer, in order (the last
    // asks to close, so the exchange ends when the server has answered them all).
    const pipeline = [
      '/bootc',
      '/%zz',
      '/../etc/passwd',
      '/libstdc%2B%2B/latest?arch=x86_64',
      `/${'x'.repeat(2000)}`,
      '/bootc?format=plain',
    ].map((p, i, all) => `GET ${p} HTTP/1.1\r\nHost: x\r\n${i === all.length - 1 ? 'Connection: close\r\n' : ''}\r\n`);
    const piped = await rawExchange(port, pipeline.join(''));
    expect(piped.closed, piped.raw.slice(0, 300)).toBe(true);
    expect(piped.responses.map((r) => r.status)).toEqual([200, 400, 404, 200, 404, 200]);
    for (const res of piped.responses) checkAnswer('pipelined', 'GET', res);
    // Still serving, and the upstream saw nothing.
    expect((await fetch(`${f.baseUrl}/livez`)).status).toBe(200);
    expect(f.upstream.requests.length).toBe(upstreamRequests);
  });

  it('never answers a 5xx to random bytes in the request target (real socket)', async () => {
    const byte = fc.oneof(
      fc.integer({ min: 0x21, max: 0xff }),
      fc.constantFrom(0x25, 0x2e, 0x2f, 0x3f, 0x26, 0x3d, 0x2a),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(byte, { minLength: 1, maxLength: 200 }),
        fc.constantFrom('GET', 'HEAD', 'POST'),
        async (bytes, m) => {
          const request = Buffer.concat([
            Buffer.from(`${m} /`),
            Buffer.from(bytes),
            Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
          ]);
          const what = `${m} ${Buffer.from(bytes).toString('latin1')}`;
          // One request asking to close: exactly one answer (a refusal or real data), then the server hangs up.
          const { responses, raw, closed } = await rawExchange(port, request);
          expect(responses, `${what}: closed ${closed}, ${JSON.stringify(raw.slice(0, 300))}`).toHaveLength(1);
          expect(closed, what).toBe(true);
          for (const res of responses) checkAnswer(what, m, res as RawResponse);
          expect(raw.includes('HTTP/1.1 5'), raw.slice(0, 300)).toBe(false);
        },
      ),
      { numRuns: 120 },
    );
    expect((await fetch(`${f.baseUrl}/livez`)).status).toBe(200);
    expect(f.upstream.requests.length).toBe(upstreamRequests);
  });
});

describe('regressions found by the hostile-request tests', () => {
  const oneShortLine = (body: string) =>
    body.endsWith('\n') && body.indexOf('\n') === body.length - 1 && body.length <= 300;

  it('a malformed URL is refused with one short line however long it is (frameworkErrors echoed the whole URL)', async () => {
    const res = await f.service.app.inject({ method: 'GET', url: `/${'%2e'.repeat(2000)}/%zz` });
    expect(res.statusCode).toBe(400);
    expect(oneShortLine(res.body), res.body.slice(0, 400)).toBe(true);
    expect(res.body).toMatch(/^bad request: '\/(%2e)+.*\.\.\.\n$/);
  });

  it('a 400 for a long or multi-line ?repository= or ?arch= list is one short line (the list was echoed whole, raw)', async () => {
    const urls = [
      `/bootc?repository=${'nope,'.repeat(200)}`,
      `/bootc?arch=${'riscv64,'.repeat(120)}`,
      `/wildcardVersion/argo-cd-*?repository=${'nope,'.repeat(200)}`,
      '/bootc?repository=a%0Ab%0D%0Ac',
      '/bootc?arch=riscv64%0Ainjected: header',
    ];
    for (const url of urls) {
      const res = await f.service.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(oneShortLine(res.body), res.body.slice(0, 400)).toBe(true);
    }
  });

  it('long distinct queries count against the answer cache byte bound (keys were not counted)', () => {
    const cache = new AnswerCache({ maxBytes: 1_000_000 });
    for (let i = 0; i < 1_000; i++)
      cache.put(1, `wildcard\u0000json\u0000${i}${'a'.repeat(10_000)}*`, answer(404, 'text/plain', 'x\n'), true);
    expect(cache.bytes).toBeLessThanOrEqual(1_000_000);
    expect(cache.size).toBeLessThan(100);
  });
});

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
