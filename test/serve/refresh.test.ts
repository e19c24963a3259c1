import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildIndexArchive, generateFixtureKey, type FixturePackage } from '../fixtures/apk-repo.js';
import {
  fixtureKey,
  startFixtureService,
  type FixtureService,
  type FixtureServiceOptions,
  type RepoContent,
} from '../helpers/fixture-service.js';
import { Upstream } from '../helpers/upstream.js';
import { eventually } from '../helpers/wait.js';

const v1: RepoContent = {
  x86_64: [
    { name: 'bootc', version: '1.16.6-r0' },
    { name: 'bootc', version: '1.16.7-r0' },
    { name: 'curl', version: '8.11.0-r0' },
  ],
  aarch64: [
    { name: 'bootc', version: '1.16.6-r0' },
    { name: 'curl', version: '8.11.0-r0' },
  ],
};
const withNewBootc = (content: RepoContent): RepoContent => ({
  ...content,
  x86_64: [...content.x86_64!, { name: 'bootc', version: '1.17.0-r0' } as FixturePackage],
});
const X86 = 'x86_64/APKINDEX.tar.gz';
const ARM = 'aarch64/APKINDEX.tar.gz';

let f: FixtureService | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const start = async (options: Partial<FixtureServiceOptions> = {}) =>
  (f = await startFixtureService({ repositories: { os: v1 }, ...options }));
const get = (url: string, headers: Record<string, string> = {}) =>
  f!.service.app.inject({ method: 'GET', url, headers });
const refresh = (headers: Record<string, string> = {}) =>
  f!.service.app.inject({ method: 'POST', url: '/-/refresh', headers });
const status = async () =>
  (await get('/-/status')).json() as { ready: boolean; generation: number; indexes: Array<Record<string, any>> };
const indexStatus = async (arch: string) => (await status()).indexes.find((i) => i.arch === arch)!;

interface LogLine {
  level: number;
  msg: string;
  index?: string;
  failures?: number;
  retryInMs?: number;
}
/** A pino stream into `lines`, one JSON object per line. */
const logInto = (lines: string[]) => ({ write: (line: string) => void lines.push(line) });
/** The `index refresh failed` warnings about indexes whose URL ends with `suffix`, oldest first. */
const refreshFailures = (lines: string[], suffix: string) =>
  lines
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.msg.startsWith('index refresh failed') && l.index?.endsWith(suffix));
/** The longest delay a Node timer holds (2^31-1 ms, ~24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

describe('refreshing indexes', () => {
  it('asks conditionally; an unchanged index answers 304 and is not parsed again', async () => {
    await start();
    const generation = f!.service.store.map.generation;
    const before = f!.upstream.requests.length;
    expect((await refresh()).statusCode).toBe(200);
    const sent = f!.upstream.requests.slice(before).filter((r) => r.path.endsWith('APKINDEX.tar.gz'));
    expect(sent).toHaveLength(2);
    for (const r of sent) {
      expect(r.ifNoneMatch).toMatch(/^"[0-9a-f]+"$/);
      expect(r.ifModifiedSince).toBeDefined();
      expect(r.status).toBe(304);
    }
    expect(f!.service.store.map.generation).toBe(generation);
    expect((await get('/metrics')).body).toMatch(
      /apk_indexer_refreshes_total\{[^}]*arch="x86_64"[^}]*outcome="not-modified"\} 1/,
    );
  });

  it('uses If-Modified-Since when the repository sends no ETag', async () => {
    await start({ upstream: { etags: false } });
    const generation = f!.service.store.map.generation;
    await refresh();
    const last = f!.upstream.requestsFor(X86).at(-1)!;
    expect(last.ifNoneMatch).toBeUndefined();
    expect(last.ifModifiedSince).toMatch(/GMT$/);
    expect(last.status).toBe(304);
    expect(f!.service.store.map.generation).toBe(generation);
    // A newer file is read again.
    await f!.publish('os', withNewBootc(v1));
    const later = new Date(Date.now() + 5_000);
    await utimes(join(f!.dir, 'os', 'x86_64', 'APKINDEX.tar.gz'), later, later);
    await refresh();
    expect((await get('/bootc/latest?arch=x86_64')).body).toBe('1.17.0-r0\n');
  });

  it('swaps in a changed index as a new generation; unchanged answers keep their ETag', async () => {
    await start();
    const generation = f!.service.store.map.generation;
    const bootc = await get('/bootc?arch=x86_64');
    const curl = await get('/curl');
    await f!.publish('os', withNewBootc(v1), 'v2');
    await refresh();
    // Both arches were republished (new description), each swap is a generation.
    expect(f!.service.store.map.generation).toBe(generation + 2);
    expect((await get('/bootc/latest?arch=x86_64')).body).toBe('1.17.0-r0\n');
    expect((await get('/bootc?arch=x86_64', { 'if-none-match': bootc.headers.etag as string })).statusCode).toBe(200);
    // Without ?arch=, 1.17.0 (on x86_64 only) is held back: the safe answer did not change.
    expect((await get('/bootc/latest')).body).toBe('1.16.6-r0\n');
    expect((await get('/curl', { 'if-none-match': curl.headers.etag as string })).statusCode).toBe(304);
    expect((await indexStatus('x86_64')).description).toBe('v2');
  });

  it('keeps the last good data on any failure, logs one line per failure and counts it by reason', async () => {
    const lines: string[] = [];
    await start({ settings: { logLevel: 'info' }, service: { logStream: { write: (line) => void lines.push(line) } } });
    const before = (await get('/bootc')).body;
    const impostor = generateFixtureKey('fixture-service.rsa.pub');
    f!.upstream.fail({ status: 500, path: X86 }, { body: Buffer.from('<html>maintenance</html>'), path: ARM });
    await refresh();
    expect((await indexStatus('aarch64')).lastError).toMatchObject({ reason: 'gzip' });
    f!.upstream.fail({
      body: buildIndexArchive({ packages: [{ name: 'bootc', version: '9.9.9-r0' }], sign: [{ key: impostor }] }),
      path: X86,
    });
    await refresh();
    expect((await get('/bootc')).body).toBe(before);
    expect((await get('/readyz')).statusCode).toBe(200);

    const x86 = await indexStatus('x86_64');
    expect(x86.lastError).toMatchObject({ reason: 'signature' });
    expect(x86.consecutiveFailures).toBe(2);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*arch="x86_64"[^}]*reason="http-status"\} 1/);
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*arch="x86_64"[^}]*reason="signature"\} 1/);
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*arch="aarch64"[^}]*reason="gzip"\} 1/);

    const failures = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string })
      .filter((l) => /index refresh failed/.test(l.msg));
    expect(failures.map((l) => l.reason).sort()).toEqual(['gzip', 'http-status', 'signature']);
    for (const l of failures) {
      expect(l.level).toBe(40); // warn
      expect(l.msg).toMatch(
        /serving the last good data: http:\/\/127\.0\.0\.1:\d+\/os\/(x86_64|aarch64)\/APKINDEX\.tar\.gz: /,
      );
    }

    // Recovery clears the error.
    await refresh();
    expect((await indexStatus('x86_64')).lastError).toBeUndefined();
    expect((await indexStatus('x86_64')).consecutiveFailures).toBe(0);
  });

  it('backs off exponentially after consecutive failures and honours Retry-After', async () => {
    const lines: string[] = [];
    await start({ settings: { logLevel: 'warn' }, service: { retryBaseMs: 1_000, logStream: logInto(lines) } });
    // Queued at once: should a retry timer fire between two POSTs, it meets the next fault, and the failures
    // stay consecutive.
    f!.upstream.fail(
      { status: 502, path: X86 },
      { status: 502, path: X86 },
      { status: 502, path: X86 },
      { status: 429, headers: { 'retry-after': '120' }, path: X86 },
    );
    while (f!.upstream.pendingFaults > 0) expect((await refresh()).statusCode).toBe(200);
    // The delay the retry timer was set to, as the warning reports it: 1s, 2s, 4s, then the 2 minutes asked for.
    const retries = refreshFailures(lines, X86)
      .slice(0, 4)
      .map((l) => [l.failures, l.retryInMs]);
    expect(retries).toEqual([
      [1, 1_000],
      [2, 2_000],
      [3, 4_000],
      [4, 120_000],
    ]);
    // /-/status shows the same retry (both clock reads are taken in one synchronous step of the refresh).
    const x86 = await indexStatus('x86_64');
    expect(x86.consecutiveFailures).toBe(4);
    expect(Math.abs(Date.parse(x86.nextRefresh) - Date.parse(x86.lastError.at) - 120_000)).toBeLessThan(1_000);
  });

  it('never backs off longer than the refresh interval: retries after 1s, 2s, then 2s again with a 2s interval', async () => {
    const lines: string[] = [];
    await start({
      settings: { logLevel: 'warn', updateIntervalMs: 2_000 },
      service: { retryBaseMs: 1_000, logStream: logInto(lines) },
    });
    f!.upstream.fail({ status: 502, path: X86 }, { status: 502, path: X86 }, { status: 502, path: X86 });
    while (f!.upstream.pendingFaults > 0) expect((await refresh()).statusCode).toBe(200);
    const retries = refreshFailures(lines, X86)
      .slice(0, 3)
      .map((l) => [l.failures, l.retryInMs]);
    expect(retries).toEqual([
      [1, 1_000],
      [2, 2_000],
      [3, 2_000],
    ]);
  });

  it('gives up a refresh that outlasts refreshTimeout, even when bytes keep trickling in', async () => {
    await start({ settings: { refreshTimeoutMs: 300, requestTimeoutMs: 5_000 } });
    const before = await get('/bootc');
    await f!.publish('os', withNewBootc(v1));
    f!.upstream.fail({ trickleEveryMs: 20, path: X86 });
    await refresh();
    const x86 = await indexStatus('x86_64');
    expect(x86.lastError).toMatchObject({
      reason: 'network',
      message: expect.stringContaining('did not finish within refreshTimeout (300ms)'),
    });
    const after = await get('/bootc');
    expect(after.body).toBe(before.body);
    await refresh();
    expect((await get('/bootc/latest?arch=x86_64')).body).toBe('1.17.0-r0\n');
  });

  it('refreshes on its own at the update interval', async () => {
    await start({ settings: { updateIntervalMs: 100 } });
    await f!.publish('os', withNewBootc(v1));
    // No POST /-/refresh: the interval's timer reads the new index.
    await eventually(async () => expect((await get('/bootc/latest?arch=x86_64')).body).toBe('1.17.0-r0\n'));
    expect(f!.upstream.requestsFor(X86).length).toBeGreaterThanOrEqual(2);
  });

  it('refreshes a repository on its own updateInterval and the others on the global one', async () => {
    await start({
      repositories: { fast: v1, slow: v1 },
      settings: { updateIntervalMs: 3_600_000 },
      repositorySettings: { fast: { updateIntervalMs: 200 } },
    });
    const slowRequests = () => f!.upstream.requests.filter((r) => r.path.startsWith('/slow/'));
    const fastIndex = () => f!.upstream.requestsFor(`/fast/${X86}`).length;
    const loaded = slowRequests().map((r) => r.path);
    // Both publish a new bootc; only the repository with the short interval picks it up on its own.
    await f!.publish('fast', withNewBootc(v1));
    await f!.publish('slow', withNewBootc(v1));
    await eventually(async () =>
      expect((await get('/bootc/latest?arch=x86_64&repository=fast')).body).toBe('1.17.0-r0\n'),
    );
    // A few more of its intervals pass, and the slow repository was asked nothing since its first load.
    const seen = fastIndex();
    await eventually(() =>
      expect(fastIndex(), 'two more refreshes of the fast repository').toBeGreaterThanOrEqual(seen + 2),
    );
    expect(slowRequests().map((r) => r.path)).toEqual(loaded);
    expect((await get('/bootc/latest?arch=x86_64&repository=slow')).body).toBe('1.16.7-r0\n');
    for (const index of (await status()).indexes.filter((i) => i.repository === 'slow')) {
      expect(Date.parse(index.nextRefresh) - Date.parse(index.lastSuccess), index.url).toBeGreaterThan(3_500_000);
    }
  });

  it('protects POST /-/refresh with the refresh token when one is set', async () => {
    await start({ settings: { refreshToken: 's3cret' } });
    const none = await refresh();
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.body).toBe('POST /-/refresh needs "Authorization: Bearer <refreshToken>"\n');
    expect((await refresh({ authorization: 'Bearer wrong' })).statusCode).toBe(401);
    expect((await refresh({ authorization: 's3cret' })).statusCode).toBe(401);
    const before = f!.upstream.requests.length;
    const ok = await refresh({ authorization: 'Bearer s3cret' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ready: true, indexes: [{ arch: 'x86_64' }, { arch: 'aarch64' }] });
    expect(f!.upstream.requests.length).toBe(before + 2);
  });

  it('lets anyone refresh when no token is set', async () => {
    await start();
    expect((await refresh()).statusCode).toBe(200);
  });

  it('POST /-/refresh during a refresh already running reads the index again after it, once for several POSTs', async () => {
    await start({ start: false });
    // The first load of x86_64 is a slow download of the index as it was when asked for.
    f!.upstream.fail({ trickleEveryMs: 1, path: X86 });
    f!.service.store.start();
    await eventually(() => expect(f!.upstream.requestsFor(X86)).not.toHaveLength(0));
    await f!.publish('os', withNewBootc(v1));
    const [first, second] = await Promise.all([refresh(), refresh()]);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect((await get('/bootc/latest?arch=x86_64')).body).toBe('1.17.0-r0\n');
    // The slow first load, then one more read shared by both POSTs.
    expect(f!.upstream.requestsFor(X86).map((r) => r.status)).toEqual([200, 200]);
  });

  it('caps delays a Node timer cannot hold: a 30-day interval and a 60-day Retry-After do not refresh at once', async () => {
    const DAY = 86_400_000;
    await start({ settings: { updateIntervalMs: 30 * DAY } });
    f!.upstream.fail({ status: 429, headers: { 'retry-after': String((60 * DAY) / 1000) }, path: X86 });
    expect((await refresh()).statusCode).toBe(200);
    // First load: the key and both indexes; the refresh: both indexes (x86_64 answered 429). Nothing since: a
    // delay over what a Node timer holds would have fired after 1 ms, and again and again.
    const requests = () => ({
      x86: f!.upstream.requestsFor(X86).map((r) => r.status),
      arm: f!.upstream.requestsFor(ARM).map((r) => r.status),
      all: f!.upstream.requests.length,
    });
    const expected = { x86: [200, 429], arm: [200, 304], all: 5 };
    expect(requests()).toEqual(expected);
    // The next refreshes are set to what a timer holds: the interval capped to ~24.8 days, the Retry-After to the
    // 24 hours the source allows, so /-/status tells when they will really happen.
    const x86 = await indexStatus('x86_64');
    expect(x86.lastError).toMatchObject({ reason: 'http-status' });
    const retryIn = Date.parse(x86.nextRefresh) - Date.parse(x86.lastError.at);
    expect(retryIn).toBeGreaterThanOrEqual(DAY - 1_000);
    expect(retryIn).toBeLessThanOrEqual(DAY + 60_000);
    const arm = await indexStatus('aarch64');
    const refreshIn = Date.parse(arm.nextRefresh) - Date.parse(arm.lastSuccess);
    expect(refreshIn).toBeGreaterThanOrEqual(MAX_TIMER_MS - 1_000);
    expect(refreshIn).toBeLessThanOrEqual(MAX_TIMER_MS + 60_000);
    expect(requests()).toEqual(expected);
  });

  it('treats a refreshTimeout longer than a Node timer holds as a long deadline, not an error', async () => {
    await start({ settings: { refreshTimeoutMs: 60 * 86_400_000 } });
    await f!.publish('os', withNewBootc(v1));
    expect((await refresh()).statusCode).toBe(200);
    expect((await get('/bootc/latest?arch=x86_64')).body).toBe('1.17.0-r0\n');
    expect((await indexStatus('x86_64')).lastError).toBeUndefined();
  });
});

describe('GET /-/status', () => {
  it('shows each index: redacted URL, arch, repository, records, key, validators, last success and next refresh', async () => {
    await start({ settings: { updateIntervalMs: 3_600_000 } });
    const s = await status();
    expect(s).toMatchObject({ ready: true, generation: 2 });
    const x86 = s.indexes.find((i) => i.arch === 'x86_64')!;
    const served = f!.upstream.requestsFor(X86).at(-1)!;
    expect(x86).toMatchObject({
      url: `${f!.upstream.url}/os/x86_64/APKINDEX.tar.gz`,
      arch: 'x86_64',
      repository: 'os',
      records: 3,
      verification: 'verified',
      verifiedBy: 'fixture-service.rsa.pub',
      description: 'fixture repository',
      consecutiveFailures: 0,
    });
    expect(served.status).toBe(200);
    expect(x86.etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(x86.lastModified).toMatch(/GMT$/);
    expect(Date.parse(x86.lastSuccess)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(x86.nextRefresh) - Date.parse(x86.lastSuccess)).toBeGreaterThan(3_500_000);
    expect(x86.lastError).toBeUndefined();
  });

  it('never shows credentials, and sends them only to the repository', async () => {
    await start({
      start: false,
      repositorySettings: { os: { auth: { bearerTokenEnv: 'FIXTURE_TOKEN' } } },
      service: { env: { FIXTURE_TOKEN: 'tok-123' } },
    });
    f!.service.store.start();
    expect(await f!.service.store.whenReady(5_000)).toBe(true);
    for (const r of f!.upstream.requests) expect(r.authorization, r.path).toBe('Bearer tok-123');
    const text = (await get('/-/status')).body + (await get('/metrics')).body;
    expect(text).not.toContain('tok-123');
  });

  it('sends the auth header to the index URLs and to keys on the same host, not to a key on another origin', async () => {
    // The key is published on a second server: same address, another port, so another origin.
    const keyHost = await new Upstream().start();
    try {
      keyHost.files.set('/keys/fixture-service.rsa.pub', Buffer.from(fixtureKey().publicPem));
      await start({
        start: false,
        repositorySettings: {
          os: { auth: { bearerTokenEnv: 'FIXTURE_TOKEN' }, keys: [`${keyHost.url}/keys/fixture-service.rsa.pub`] },
        },
        service: { env: { FIXTURE_TOKEN: 'tok-123' } },
      });
      f!.service.store.start();
      expect(await f!.service.store.whenReady(5_000)).toBe(true);
      expect((await indexStatus('x86_64')).verifiedBy).toBe('fixture-service.rsa.pub');
      expect(keyHost.requests.map((r) => [r.path, r.authorization])).toEqual([
        ['/keys/fixture-service.rsa.pub', undefined],
      ]);
      expect(f!.upstream.requests.map((r) => [r.path, r.authorization]).sort()).toEqual([
        ['/os/aarch64/APKINDEX.tar.gz', 'Bearer tok-123'],
        ['/os/x86_64/APKINDEX.tar.gz', 'Bearer tok-123'],
      ]);
    } finally {
      await keyHost.stop();
    }
  });

  it('redacts user:password in repository URLs', async () => {
    const probe = await startFixtureService({ repositories: { os: v1 }, start: false });
    const url = probe.upstream.url.replace('http://', 'http://user:secret@');
    await probe.close();
    f = await startFixtureService({
      repositories: { os: v1 },
      start: false,
      repositorySettings: { os: { url: `${url}/os` } },
    });
    const s = await status();
    expect(s.indexes[0]!.url).toMatch(/^http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/os\/x86_64\/APKINDEX\.tar\.gz$/);
    expect(JSON.stringify(s)).not.toContain('secret');
  });
});

describe('credentials in logs', () => {
  it('never logs a bearer token, basic credentials, URL credentials or the refresh token, over loads, queries and failed refreshes', async () => {
    const secrets = {
      token: 'tok-9f3a1c',
      user: 'ci-bot',
      password: 'pw-77e2d0',
      urlUser: 'url-bot',
      urlPassword: 'url-pw-4b8e',
      refresh: 'refresh-5d1f',
    };
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const lines: string[] = [];
    await start({
      start: false,
      repositories: { bearer: v1, basic: v1, inurl: v1 },
      repositorySettings: (base) => {
        const withCredentials = base.replace('http://', `http://${secrets.urlUser}:${secrets.urlPassword}@`);
        return {
          bearer: { auth: { bearerTokenEnv: 'T_TOKEN' } },
          basic: { auth: { usernameEnv: 'T_USER', passwordEnv: 'T_PASSWORD' } },
          inurl: { url: `${withCredentials}/inurl`, keys: [`${withCredentials}/inurl/fixture-service.rsa.pub`] },
        };
      },
      settings: { logLevel: 'trace', refreshToken: secrets.refresh },
      service: {
        env: { T_TOKEN: secrets.token, T_USER: secrets.user, T_PASSWORD: secrets.password },
        logStream: logInto(lines),
      },
    });
    f!.service.store.start();
    expect(await f!.service.store.whenReady(5_000)).toBe(true);
    const auth = { authorization: `Bearer ${secrets.refresh}` };
    // Queries, operator routes, a refused and an accepted refresh.
    for (let i = 0; i < 20; i++) await get(i % 2 ? '/bootc' : `/no-such-${i}`);
    await get('/-/status');
    await get('/metrics');
    await refresh({ authorization: 'Bearer wrong' });
    // Failed refreshes of every repository: an HTTP status, a reset, garbage, a bad signature and then its key.
    f!.upstream.fail(
      { status: 401, path: `/bearer/${X86}` },
      { reset: true, path: `/basic/${X86}` },
      { body: Buffer.from('<html>login</html>'), path: `/inurl/${ARM}` },
    );
    f!.upstream.fail({
      body: buildIndexArchive({
        packages: [{ name: 'bootc', version: '9.9.9-r0' }],
        sign: [{ key: generateFixtureKey('fixture-service.rsa.pub') }],
      }),
      path: `/inurl/${X86}`,
    });
    expect((await refresh(auth)).statusCode).toBe(200);
    f!.upstream.fail({ status: 403, path: '/inurl/fixture-service.rsa.pub' });
    expect((await refresh(auth)).statusCode).toBe(200);

    // The credentials did go out, so there was something to leak.
    const sent = (prefix: string) =>
      new Set(f!.upstream.requests.filter((r) => r.path.startsWith(prefix)).map((r) => r.authorization));
    expect(sent('/bearer/')).toEqual(new Set([`Bearer ${secrets.token}`]));
    expect(sent('/basic/')).toEqual(new Set([basic(secrets.user, secrets.password)]));
    expect(sent('/inurl/')).toEqual(new Set([basic(secrets.urlUser, secrets.urlPassword)]));
    // Every failure was logged, the key's too (once for each index of the repository), naming the key URL.
    const reasons = lines
      .map((l) => JSON.parse(l) as LogLine & { reason?: string })
      .filter((l) => l.msg.startsWith('index refresh failed'))
      .map((l) => l.reason);
    expect(reasons.sort()).toEqual(['gzip', 'http-status', 'http-status', 'http-status', 'network', 'signature']);

    const log = lines.join('');
    const forbidden = [
      ...Object.values(secrets).filter((v) => v !== secrets.user && v !== secrets.urlUser),
      Buffer.from(`${secrets.user}:${secrets.password}`).toString('base64'),
      Buffer.from(`${secrets.urlUser}:${secrets.urlPassword}`).toString('base64'),
      `${secrets.urlUser}:`,
    ];
    for (const secret of forbidden) expect(log.includes(secret), secret).toBe(false);
    expect(log).toContain(
      `${f!.upstream.url.replace('http://', 'http://***:***@')}/inurl/fixture-service.rsa.pub: HTTP 403`,
    );
  });
});

describe('request log', () => {
  it('writes one debug line per answered request at debug level, none at info', async () => {
    for (const logLevel of ['debug', 'info'] as const) {
      const lines: string[] = [];
      await start({ settings: { logLevel }, service: { logStream: { write: (line) => void lines.push(line) } } });
      await get('/bootc');
      await get('/nope');
      const logged = lines
        .map((l) => JSON.parse(l) as { level: number; msg: string; url?: string; status?: number })
        .filter((l) => l.msg === 'request');
      expect(
        logged.map((l) => [l.level, l.url, l.status]),
        logLevel,
      ).toEqual(
        logLevel === 'debug'
          ? [
              [20, '/bootc', 200],
              [20, '/nope', 404],
            ]
          : [],
      );
      await f!.close();
      f = undefined;
    }
  });
});

describe('GET /metrics', () => {
  it('exports index, refresh, request and process metrics from a registry per server', async () => {
    await start();
    const other = await startFixtureService({
      repositories: { extra: { x86_64: [{ name: 'zlib', version: '1.3-r0' }] } },
    });
    try {
      await get('/bootc');
      await get('/nope');
      const text = (await get('/metrics')).body;
      expect(text).toMatch(
        /apk_indexer_index_records\{index="[^"]+\/os\/x86_64\/APKINDEX\.tar\.gz",arch="x86_64",repository="os"\} 3/,
      );
      expect(text).toMatch(/apk_indexer_index_last_success_timestamp_seconds\{[^}]*arch="aarch64"[^}]*\} \d{10}/);
      expect(text).toMatch(/apk_indexer_refresh_duration_seconds_count\{[^}]*arch="x86_64"[^}]*\} 1/);
      expect(text).toMatch(/apk_indexer_http_requests_total\{route="\/\*",method="GET",status="200"\} 1/);
      expect(text).toMatch(/apk_indexer_http_requests_total\{route="\/\*",method="GET",status="404"\} 1/);
      expect(text).toMatch(
        /apk_indexer_http_request_duration_seconds_bucket\{[^}]*route="\/\*"[^}]*le="\+Inf"[^}]*\} 1/,
      );
      expect(text).toMatch(/apk_indexer_process_cpu_user_seconds_total \d/);
      expect(text).toMatch(/# TYPE apk_indexer_refresh_failures_total counter/);
      expect(text).not.toContain('/extra/');
      const otherText = (await other.service.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(otherText).toMatch(/repository="extra"/);
      expect(otherText).not.toMatch(/repository="os"/);
    } finally {
      await other.close();
    }
  });

  it('labels requests by route pattern, once each: implicit HEAD routes, wildcard, operator routes, unmatched', async () => {
    await start();
    for (const [method, url] of [
      ['HEAD', '/bootc'],
      ['GET', '/wildcardVersion/boot*'],
      ['GET', '/livez'],
      ['POST', '/bootc'],
      ['DELETE', '/-/status'],
    ] as const) {
      await f!.service.app.inject({ method, url });
    }
    const text = (await get('/metrics')).body;
    const counts = text.split('\n').filter((l) => l.startsWith('apk_indexer_http_requests_total{'));
    expect(counts.sort()).toEqual([
      'apk_indexer_http_requests_total{route="/*",method="HEAD",status="200"} 1',
      'apk_indexer_http_requests_total{route="/livez",method="GET",status="200"} 1',
      'apk_indexer_http_requests_total{route="/wildcardVersion/*",method="GET",status="404"} 1',
      'apk_indexer_http_requests_total{route="unmatched",method="DELETE",status="404"} 1',
      'apk_indexer_http_requests_total{route="unmatched",method="POST",status="404"} 1',
    ]);
  });
});
