import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildIndexArchive, generateFixtureKey, type FixturePackage } from '../../src/fixtures/apk-repo.js';
import { startFixtureService, type FixtureService, type FixtureServiceOptions, type RepoContent } from '../helpers/fixture-service.js';

const v1: RepoContent = {
  x86_64: [{ name: 'bootc', version: '1.16.6-r0' }, { name: 'bootc', version: '1.16.7-r0' }, { name: 'curl', version: '8.11.0-r0' }],
  aarch64: [{ name: 'bootc', version: '1.16.6-r0' }, { name: 'curl', version: '8.11.0-r0' }],
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

const start = async (options: Partial<FixtureServiceOptions> = {}) => (f = await startFixtureService({ repositories: { os: v1 }, ...options }));
const get = (url: string, headers: Record<string, string> = {}) => f!.service.app.inject({ method: 'GET', url, headers });
const refresh = (headers: Record<string, string> = {}) => f!.service.app.inject({ method: 'POST', url: '/-/refresh', headers });
const status = async () => (await get('/-/status')).json() as { ready: boolean; generation: number; indexes: Array<Record<string, any>> };
const indexStatus = async (arch: string) => (await status()).indexes.find((i) => i.arch === arch)!;

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
    expect((await get('/metrics')).body).toMatch(/apk_indexer_refreshes_total\{[^}]*arch="x86_64"[^}]*outcome="not-modified"\} 1/);
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
    expect((await get('/bootc/latest')).body).toBe('1.17.0-r0\n');
  });

  it('swaps in a changed index as a new generation; unchanged answers keep their ETag', async () => {
    await start();
    const generation = f!.service.store.map.generation;
    const bootc = await get('/bootc');
    const curl = await get('/curl');
    await f!.publish('os', withNewBootc(v1), 'v2');
    await refresh();
    // Both arches were republished (new description), each swap is a generation.
    expect(f!.service.store.map.generation).toBe(generation + 2);
    expect((await get('/bootc/latest')).body).toBe('1.17.0-r0\n');
    expect((await get('/bootc', { 'if-none-match': bootc.headers.etag as string })).statusCode).toBe(200);
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
    f!.upstream.fail({ body: buildIndexArchive({ packages: [{ name: 'bootc', version: '9.9.9-r0' }], sign: [{ key: impostor }] }), path: X86 });
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

    const failures = lines.map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string }).filter((l) => /index refresh failed/.test(l.msg));
    expect(failures.map((l) => l.reason).sort()).toEqual(['gzip', 'http-status', 'signature']);
    for (const l of failures) {
      expect(l.level).toBe(40); // warn
      expect(l.msg).toMatch(/serving the last good data: http:\/\/127\.0\.0\.1:\d+\/os\/(x86_64|aarch64)\/APKINDEX\.tar\.gz: /);
    }

    // Recovery clears the error.
    await refresh();
    expect((await indexStatus('x86_64')).lastError).toBeUndefined();
    expect((await indexStatus('x86_64')).consecutiveFailures).toBe(0);
  });

  it('backs off exponentially after consecutive failures and honours Retry-After', async () => {
    await start({ service: { retryBaseMs: 1_000 } });
    const delay = async () => {
      const s = await indexStatus('x86_64');
      return Date.parse(s.nextRefresh) - Date.parse(s.lastError.at);
    };
    for (const expected of [1_000, 2_000, 4_000]) {
      f!.upstream.fail({ status: 502, path: X86 });
      await refresh();
      expect(await delay()).toBeGreaterThanOrEqual(expected - 5);
      expect(await delay()).toBeLessThan(expected + 200);
    }
    f!.upstream.fail({ status: 429, headers: { 'retry-after': '120' }, path: X86 });
    await refresh();
    expect(await delay()).toBeGreaterThanOrEqual(119_995);
    expect(await delay()).toBeLessThan(120_500);
  });

  it('gives up a refresh that outlasts refreshTimeout, even when bytes keep trickling in', async () => {
    await start({ settings: { refreshTimeoutMs: 300, requestTimeoutMs: 5_000 } });
    const before = await get('/bootc');
    await f!.publish('os', withNewBootc(v1));
    f!.upstream.fail({ trickleEveryMs: 20, path: X86 });
    await refresh();
    const x86 = await indexStatus('x86_64');
    expect(x86.lastError).toMatchObject({ reason: 'network', message: expect.stringContaining('did not finish within refreshTimeout (300ms)') });
    const after = await get('/bootc');
    expect(after.body).toBe(before.body);
    await refresh();
    expect((await get('/bootc/latest')).body).toBe('1.17.0-r0\n');
  });

  it('refreshes on its own at the update interval', async () => {
    await start({ settings: { updateIntervalMs: 100 } });
    await f!.publish('os', withNewBootc(v1));
    const deadline = Date.now() + 5_000;
    while ((await get('/bootc/latest')).body !== '1.17.0-r0\n') {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(f!.upstream.requestsFor(X86).length).toBeGreaterThanOrEqual(2);
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
    while (f!.upstream.requestsFor(X86).length === 0) await new Promise((r) => setTimeout(r, 5));
    await f!.publish('os', withNewBootc(v1));
    const [first, second] = await Promise.all([refresh(), refresh()]);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect((await get('/bootc/latest')).body).toBe('1.17.0-r0\n');
    // The slow first load, then one more read shared by both POSTs.
    expect(f!.upstream.requestsFor(X86).map((r) => r.status)).toEqual([200, 200]);
  });

  it('caps delays a Node timer cannot hold: a 30-day interval and a 60-day Retry-After do not refresh at once', async () => {
    const DAY = 86_400_000;
    await start({ settings: { updateIntervalMs: 30 * DAY } });
    f!.upstream.fail({ status: 429, headers: { 'retry-after': String((60 * DAY) / 1000) }, path: X86 });
    expect((await refresh()).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    // First load: the key and both indexes; the refresh: both indexes (x86_64 answered 429). Nothing since.
    expect(f!.upstream.requestsFor(X86).map((r) => r.status)).toEqual([200, 429]);
    expect(f!.upstream.requestsFor(ARM).map((r) => r.status)).toEqual([200, 304]);
    expect(f!.upstream.requests).toHaveLength(5);
    // In the future either way: the interval capped to ~24.8 days, the Retry-After to what the source allows.
    for (const arch of ['x86_64', 'aarch64']) expect(Date.parse((await indexStatus(arch)).nextRefresh), arch).toBeGreaterThan(Date.now() + 3_600_000);
    expect((await indexStatus('x86_64')).lastError).toMatchObject({ reason: 'http-status' });
  });

  it('treats a refreshTimeout longer than a Node timer holds as a long deadline, not an error', async () => {
    await start({ settings: { refreshTimeoutMs: 60 * 86_400_000 } });
    await f!.publish('os', withNewBootc(v1));
    expect((await refresh()).statusCode).toBe(200);
    expect((await get('/bootc/latest')).body).toBe('1.17.0-r0\n');
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

  it('redacts user:password in repository URLs', async () => {
    const probe = await startFixtureService({ repositories: { os: v1 }, start: false });
    const url = probe.upstream.url.replace('http://', 'http://user:secret@');
    await probe.close();
    f = await startFixtureService({ repositories: { os: v1 }, start: false, repositorySettings: { os: { url: `${url}/os` } } });
    const s = await status();
    expect(s.indexes[0]!.url).toMatch(/^http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/os\/x86_64\/APKINDEX\.tar\.gz$/);
    expect(JSON.stringify(s)).not.toContain('secret');
  });
});

describe('request log', () => {
  it('writes one debug line per answered request at debug level, none at info', async () => {
    for (const logLevel of ['debug', 'info'] as const) {
      const lines: string[] = [];
      await start({ settings: { logLevel }, service: { logStream: { write: (line) => void lines.push(line) } } });
      await get('/bootc');
      await get('/nope');
      const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; url?: string; status?: number }).filter((l) => l.msg === 'request');
      expect(logged.map((l) => [l.level, l.url, l.status]), logLevel).toEqual(logLevel === 'debug' ? [[20, '/bootc', 200], [20, '/nope', 404]] : []);
      await f!.close();
      f = undefined;
    }
  });
});

describe('GET /metrics', () => {
  it('exports index, refresh, request and process metrics from a registry per server', async () => {
    await start();
    const other = await startFixtureService({ repositories: { extra: { x86_64: [{ name: 'zlib', version: '1.3-r0' }] } } });
    try {
      await get('/bootc');
      await get('/nope');
      const text = (await get('/metrics')).body;
      expect(text).toMatch(/apk_indexer_index_records\{index="[^"]+\/os\/x86_64\/APKINDEX\.tar\.gz",arch="x86_64",repository="os"\} 3/);
      expect(text).toMatch(/apk_indexer_index_last_success_timestamp_seconds\{[^}]*arch="aarch64"[^}]*\} \d{10}/);
      expect(text).toMatch(/apk_indexer_refresh_duration_seconds_count\{[^}]*arch="x86_64"[^}]*\} 1/);
      expect(text).toMatch(/apk_indexer_http_requests_total\{route="\/\*",method="GET",status="200"\} 1/);
      expect(text).toMatch(/apk_indexer_http_requests_total\{route="\/\*",method="GET",status="404"\} 1/);
      expect(text).toMatch(/apk_indexer_http_request_duration_seconds_bucket\{[^}]*route="\/\*"[^}]*le="\+Inf"[^}]*\} 1/);
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
    for (const [method, url] of [['HEAD', '/bootc'], ['GET', '/wildcardVersion/boot*'], ['GET', '/livez'], ['POST', '/bootc'], ['DELETE', '/-/status']] as const) {
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
