import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeControl } from '../../src/core/escape.js';
import { RenovateBodySchema } from '../../src/datasource/renovate-body.js';
import type { Release } from '../../src/index/version-map.js';
import { renderReleases } from '../../src/serve/answers.js';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { rawExchange } from '../reliability/raw-http-helper.js';

/**
 * Upstream names and fields are data, never keys of an object, never links but http(s), never raw bytes on a
 * terminal (issue 26 §3, §4).
 */
const x86: FixturePackage[] = [
  { name: '__proto__', version: '1.0-r0', origin: '__proto__' },
  { name: '__proto__', version: '1.1-r0', origin: '__proto__' },
  { name: 'constructor', version: '2.0-r0' },
  { name: 'toString', version: '3.0-r0' },
  // The newest release's U: is a script; the one before it names a real page.
  { name: 'evil', version: '1.0-r0', url: 'https://example.org/evil' },
  { name: 'evil', version: '1.1-r0', url: 'javascript:alert(1)' },
  { name: 'data-link', version: '1.0-r0', url: 'data:text/html,<script>alert(1)</script>' },
  { name: 'spaced-link', version: '1.0-r0', url: 'https://exa mple.org/' },
  { name: 'plain-link', version: '1.0-r0', url: 'http://127.0.0.1:8080/docs' },
];

let f: FixtureService;
beforeAll(async () => {
  f = await startFixtureService({ repositories: { os: { x86_64: x86, aarch64: x86 } } });
});
afterAll(async () => f?.close());

const get = (url: string) => f.service.app.inject({ method: 'GET', url });
const versions = async (url: string) => {
  const res = await get(url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return RenovateBodySchema.parse(res.json()).releases.map((r) => r.version);
};

describe('a package named like an Object.prototype member', () => {
  it('is a package like any other on every route', async () => {
    expect(await versions('/__proto__')).toEqual(['1.0-r0', '1.1-r0']);
    expect(await versions('/constructor')).toEqual(['2.0-r0']);
    expect(await versions('/toString?arch=x86_64,aarch64')).toEqual(['3.0-r0']);
    expect(await versions('/wildcardVersion/__proto__')).toEqual(['1.0-r0', '1.1-r0']);
    expect((await get('/__proto__/latest')).body).toBe('1.1-r0\n');
    expect((await get('/hasOwnProperty')).statusCode).toBe(404);
    const changes = await get('/-/changes/__proto__?from=1.0-r0&to=1.1-r0&format=json');
    expect(changes.statusCode).toBe(200);
    expect(changes.json()).toMatchObject({ name: '__proto__', from: '1.0-r0', to: '1.1-r0' });
    const home = await get('/?q=__proto__');
    expect(home.body).toContain('<h2>__proto__</h2>');
    expect(home.body).toContain('1.1-r0');
  });
});

describe('links from upstream fields', () => {
  it('leave the service only as http(s) URLs: the newest release naming one is the homepage', async () => {
    const evil = (await get('/evil')).json();
    expect(evil.homepage).toBe('https://example.org/evil');
    for (const name of ['data-link', 'spaced-link']) {
      const body = (await get(`/${name}`)).json();
      expect(body, name).not.toHaveProperty('homepage');
      expect(RenovateBodySchema.safeParse(body).error, name).toBeUndefined();
    }
    expect((await get('/plain-link')).json().homepage).toBe('http://127.0.0.1:8080/docs');
    expect(RenovateBodySchema.safeParse({ releases: [], homepage: 'javascript:alert(1)' }).success).toBe(false);
  });
});

describe('text/plain answers', () => {
  it('escape control characters in names they echo, as ls -b does', async () => {
    const c1 = await get('/%C2%9B2Jx');
    expect(c1.statusCode).toBe(404);
    expect(c1.body).toBe('package "\\x9b2Jx" is not in any configured index\n');
    const esc = await get('/%1B%5B2J');
    expect(esc.body).toBe('package "\\u001b[2J" is not in any configured index\n');
    expect((await get('/x?arch=%C2%9B')).body).toBe('?arch=\\x9b: not a configured arch; use one of aarch64, x86_64\n');
    // Raw bytes past ASCII in the request line never reach a route: Node refuses the request, one line, no echo.
    await f.service.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (f.service.app.server.address() as AddressInfo).port;
    const { responses } = await rawExchange(port, 'GET /\xc2\x9b2J HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(responses.map((r) => [r.status, r.headers['apk-indexer-reason'], r.body])).toEqual([
      [400, 'bad-request', 'bad request: not an HTTP/1.1 request this server can read\n'],
    ]);
  });

  it('escape control characters in versions, plain and latest', () => {
    const release = (version: string): Release => ({
      version,
      buildTime: undefined,
      origin: undefined,
      commit: undefined,
      url: undefined,
      arches: ['x86_64'],
      repositories: ['os'],
    });
    const hostile = [release('1.0-r0'), release('1.1\x1b[2J\x1b[H-r0')];
    expect(String(renderReleases('package "x"', hostile, {}, 'plain').body)).toBe('1.0-r0\n1.1\\x1b[2J\\x1b[H-r0\n');
    expect(String(renderReleases('package "x"', hostile, {}, 'latest').body)).toBe('1.1\\x1b[2J\\x1b[H-r0\n');
  });

  it('the escaping: C0, DEL, C1 and bidirectional overrides as escapes; everything else as it is', () => {
    expect(escapeControl('a\x00b\tc\nd\x7fe\x9bf\u202eg')).toBe('a\\x00b\\x09c\\x0ad\\x7fe\\x9bf\\u202eg');
    expect(escapeControl('héllo wörld ✓ 日本')).toBe('héllo wörld ✓ 日本');
  });
});
