import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFixtureRepo, type FixturePackage } from '../fixtures/apk-repo.js';
import { ensureBuilt, serveProcess } from '../helpers/cli-process.js';
import { fixtureKey, startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { Upstream } from '../helpers/upstream.js';
import { rawExchange } from './raw-http-helper.js';
import { eventually } from '../helpers/wait.js';

/**
 * Issue 24: probes and metrics that clients cannot starve. With the listen port saturated past maxConnections, by
 * sockets that ask and never read or by queries held waiting, the management port answers /livez within 1 s; on the
 * listen port, stalled and idle connections are shed oldest first before a new one is refused; held, shed and
 * refused connections are in /metrics. Bounded: at most 100 sockets on 127.0.0.1, each test under 30 s.
 */

// 15,000 versions under one wildcard: an answer of about 1.1 MB, more than the kernel takes for a socket that is not read.
const MANY: FixturePackage[] = Array.from({ length: 15_000 }, (_, i) => ({
  name: `pkg-${i}`,
  version: `${i}.0.0-r0`,
  buildTime: 1_700_000_000 + i,
}));

let f: FixtureService | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await f?.close();
  f = undefined;
});

const portOf = (url: string) => Number(new URL(url).port);

/** Opens `count` sockets to `port` that each send `request` and never read what comes back. */
async function neverReading(port: number, count: number, request: string): Promise<Socket[]> {
  const opened = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect(port, '127.0.0.1', () => {
            s.pause();
            s.write(request);
            resolve(s);
          });
          s.on('error', () => undefined);
        }),
    ),
  );
  sockets.push(...opened);
  return opened;
}

/** GET within 1 s, or the test fails: what a kubelet probe with `timeoutSeconds: 1` sees. */
async function probe(base: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(1_000) });
  return { status: res.status, body: await res.text() };
}

const metric = (text: string, name: string, labels: string) =>
  Number(new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
/** Connections a listener holds, in every state. */
const held = (text: string, listener: string) =>
  ['busy', 'idle', 'stalled']
    .map((state) => metric(text, 'apk_indexer_connections', `listener="${listener}",state="${state}"`))
    .reduce((a, b) => a + b);

describe('the management port', () => {
  it('answers the probes within 1 s while never-reading sockets hold the listen port past maxConnections', async () => {
    f = await startFixtureService({
      repositories: { os: { x86_64: MANY } },
      listen: true,
      settings: { managementPort: 0, maxConnections: 40, clientTimeoutMs: 60_000 },
    });
    const port = portOf(f.baseUrl);
    // 80 sockets, twice maxConnections, each asking 6 times for 1.1 MB it never reads (more than the kernel takes
    // for a socket, about 4 MB here): their answers stop moving, and nothing frees a slot for 60 s.
    await neverReading(port, 80, `GET /wildcardVersion/pkg-* HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(6));
    await eventually(async () => expect(held((await probe(f!.managementUrl, '/metrics')).body, 'client')).toBe(40));
    expect(await probe(f.managementUrl, '/livez')).toEqual({ status: 200, body: 'ok\n' });
    expect(await probe(f.managementUrl, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    expect((await probe(f.managementUrl, '/-/status')).status).toBe(200);

    // On the listen port, a new connection takes the place of the oldest idle one (a reader whose requests are not
    // read yet, or whose answers the kernel took whole), else of the oldest whose answer stopped moving, once the
    // stall check has seen it stop: probes there answer too (test/serve/connections.test.ts shows which goes first).
    await eventually(async () => {
      const livez = await rawExchange(port, 'GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
        capMs: 1_000,
      });
      expect(livez.responses.map((r) => r.status)).toEqual([200]);
    });
    const metrics = (await probe(f.managementUrl, '/metrics')).body;
    expect(held(metrics, 'client')).toBeLessThanOrEqual(40);
    const closed = ['refused', 'shed-idle', 'shed-stalled'].map((why) =>
      metric(metrics, 'apk_indexer_dropped_connections_total', `listener="client",why="${why}"`),
    );
    // 81 connections or more came to a listener that holds 40: the rest were shed or refused.
    expect(closed.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(41);
    expect(metric(metrics, 'apk_indexer_dropped_connections_total', 'listener="management",why="refused"')).toBe(0);
  }, 30_000);

  it('answers while every client connection is busy and the next is refused', async () => {
    f = await startFixtureService({
      repositories: { os: { x86_64: MANY.slice(0, 10), aarch64: MANY.slice(0, 10) } },
      listen: true,
      start: false,
      settings: { managementPort: 0, maxConnections: 10, firstLoadTimeoutMs: 30_000 },
    });
    // aarch64 never answers: a query without ?arch= waits for its first load, and holds its connection busy.
    f.upstream.fail({ hang: true, path: 'aarch64/APKINDEX.tar.gz' });
    f.service.store.start();
    await neverReading(portOf(f.baseUrl), 10, `GET /pkg-1 HTTP/1.1\r\nHost: x\r\n\r\n`);
    await eventually(async () => {
      const metrics = (await probe(f!.managementUrl, '/metrics')).body;
      expect(metric(metrics, 'apk_indexer_http_requests_total', 'route="/:name",method="GET",status="200"')).toBe(0);
      expect(metric(metrics, 'apk_indexer_connections', 'listener="client",state="busy"')).toBe(10);
    });
    // Nothing to shed: every connection has a request in progress. The listen port refuses the next one...
    await eventually(async () => {
      const refused = await rawExchange(portOf(f!.baseUrl), 'GET /livez HTTP/1.1\r\nHost: x\r\n\r\n', { capMs: 2_000 });
      expect([refused.closed, refused.responses]).toEqual([true, []]);
    });
    // ...and the management port answers, naming what readiness waits for.
    expect(await probe(f.managementUrl, '/livez')).toEqual({ status: 200, body: 'ok\n' });
    const readyz = await probe(f.managementUrl, '/readyz');
    expect(readyz.status).toBe(503);
    expect(readyz.body).toMatch(/^not ready: 1 of 2 indexes loaded; waiting for .*\/os\/aarch64\/APKINDEX\.tar\.gz\n$/);
    const metrics = (await probe(f.managementUrl, '/metrics')).body;
    expect(
      metric(metrics, 'apk_indexer_dropped_connections_total', 'listener="client",why="refused"'),
    ).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('answers GET and HEAD of /livez, /readyz, /metrics and /-/status only; POST /-/refresh stays on the listen port', async () => {
    f = await startFixtureService({
      repositories: { os: { x86_64: MANY.slice(0, 3) } },
      listen: true,
      settings: { managementPort: 0 },
    });
    const m = f.managementUrl;
    expect(m).not.toBe(f.baseUrl);
    expect((await fetch(`${m}/livez`, { method: 'HEAD' })).status).toBe(200);
    expect((await probe(m, '/metrics')).body).toContain('apk_indexer_index_records{');
    expect((await probe(m, '/-/status')).body).toContain('"ready":true');
    for (const [method, path] of [
      ['GET', '/pkg-1'],
      ['GET', '/'],
      ['POST', '/-/refresh'],
      ['GET', '/-/refresh'],
      ['GET', '/%6Civez'],
      ['GET', '/livez/'],
    ] as const) {
      const res = await fetch(`${m}${path}`, { method });
      expect([method, path, res.status, res.headers.get('apk-indexer-reason'), await res.text()]).toEqual([
        method,
        path,
        404,
        'no-route',
        'the management port answers GET /livez, /readyz, /metrics, /-/status only\n',
      ]);
    }
    // The listen port still answers everything, the probes included (GitLab's service wait, Docker's HEALTHCHECK).
    expect((await probe(f.baseUrl, '/livez')).status).toBe(200);
    expect((await fetch(`${f.baseUrl}/-/refresh`, { method: 'POST' })).status).toBe(200);
    // Requests on both ports are counted by route, as one service.
    const metrics = (await probe(m, '/metrics')).body;
    expect(metric(metrics, 'apk_indexer_http_requests_total', 'route="/livez",method="GET",status="200"')).toBe(1);
    // It closes with the service.
    await f.service.app.close();
    expect(f.service.management!.listening).toBe(false);
  });
});

describe('the listen port', () => {
  it('sheds the oldest idle connection for a new one at maxConnections, and counts it', async () => {
    f = await startFixtureService({
      repositories: { os: { x86_64: MANY.slice(0, 3) } },
      listen: true,
      settings: { maxConnections: 20 },
    });
    const port = portOf(f.baseUrl);
    const idle: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      // One by one, so that their order is known: the first is the oldest.
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      idle.push(s);
      sockets.push(s);
    }
    const closedFirst = new Promise<void>((resolve) => idle[0]!.once('close', () => resolve()));
    await eventually(async () => {
      const n = await new Promise<number>((r, j) => f!.service.app.server.getConnections((e, c) => (e ? j(e) : r(c))));
      expect(n).toBe(20);
    });
    const answered = await rawExchange(port, 'GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answered.responses.map((r) => [r.status, r.body])).toEqual([[200, 'ok\n']]);
    await closedFirst;
    expect(idle.slice(1).every((s) => !s.destroyed && s.readyState === 'open')).toBe(true);
    const metrics = await f.service.metrics.registry.metrics();
    expect(metric(metrics, 'apk_indexer_dropped_connections_total', 'listener="client",why="shed-idle"')).toBe(1);
    expect(metric(metrics, 'apk_indexer_dropped_connections_total', 'listener="client",why="refused"')).toBe(0);
  });
});

describe('serve --management-port', () => {
  let upstream: Upstream | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await upstream?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    upstream = dir = undefined;
  });

  it('listens on it beside the listen port, says where, and exits 2 naming it when it is taken', async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'apk-management-'));
    const repo = await writeFixtureRepo(join(dir, 'os'), {
      arches: { x86_64: MANY.slice(0, 3) },
      sign: [{ key: fixtureKey() }],
    });
    upstream = await new Upstream({ root: dir }).start();
    const args = ['--index', `${upstream.url}/os`, '--arch', 'x86_64', '--key', repo.keyPaths[0]!];

    const s = await serveProcess([...args, '--management-port', '0'], {});
    const at = () =>
      /management port \(\/livez, \/readyz, \/metrics, \/-\/status\) at (http:\/\/127\.0\.0\.1:\d+)/.exec(s.output());
    await eventually(() => expect(at()).not.toBeNull());
    const management = at()![1]!;
    expect(await probe(management, '/livez')).toEqual({ status: 200, body: 'ok\n' });
    await eventually(async () => expect((await probe(management, '/readyz')).status).toBe(200));
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);

    // Taken: one line naming host and port, exit 2, as for the listen port.
    const taken = createNetServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as AddressInfo).port;
    try {
      const t = await serveProcess([...args, '--management-port', String(port)], {});
      expect(await t.exited).toBe(2);
      expect(t.output()).toContain(`apk-indexer serve: cannot listen on 127.0.0.1:${port}: the port is already in use`);
      expect(t.output()).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  }, 30_000);
});
