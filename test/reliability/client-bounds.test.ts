import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixturePackage } from '../fixtures/apk-repo.js';
import { ScanGate } from '../../src/serve/scan-gate.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { rawExchange } from './raw-http-helper.js';
import { eventually } from '../helpers/wait.js';

/**
 * Clients that hold what they ask for: readers that never read, connection floods, requests that never finish.
 * Bounded: a few hundred sockets on 127.0.0.1, a few seconds each.
 */

// 15,000 versions under one wildcard: an answer of about 1.1 MB.
const MANY: FixturePackage[] = Array.from({ length: 15_000 }, (_, i) => ({
  name: `pkg-${i}`,
  version: `${i}.0.0-r0`,
  buildTime: 1_700_000_000 + i,
}));
const WILDCARD = '/wildcardVersion/pkg-*';

let f: FixtureService;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  f = await startFixtureService({
    repositories: { os: { x86_64: MANY } },
    listen: true,
    settings: { clientTimeoutMs: 1_500, maxConnections: 400 },
  });
  port = (f.service.app.server.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await f?.close();
});

/** Opens `count` sockets that each send `request` and never read what comes back. */
async function stuckReaders(count: number, request: string): Promise<Socket[]> {
  const opened = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => {
            s.pause(); // never read: the answer piles up on the server's side
            s.write(request);
            resolve(s);
          });
          s.on('error', () => undefined);
          s.once('error', reject);
        }),
    ),
  );
  sockets.push(...opened);
  return opened;
}

/**
 * A full garbage collection, so that RSS compares like with like. Without --expose-gc there is no `global.gc`: the
 * flag is set at run time and a fresh context hands the function out.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** One request on a connection of its own, closed after the answer (so no keep-alive connection stays counted). */
async function get(path: string) {
  const { responses } = await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  return responses[0]!;
}

function connections(): Promise<number> {
  return new Promise((resolve, reject) =>
    f.service.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}

describe('clients cannot exhaust the service', () => {
  it('readers that never read do not each hold a copy of a 1 MB answer, and are let go after clientTimeout', async () => {
    const full = await get(WILDCARD);
    expect(full.status).toBe(200);
    expect(full.body.length).toBeGreaterThan(1_000_000);
    // The server's side of each connection: the event to wait for is every one of them having been handed its first
    // answer whole (bytesWritten counts what waits in the socket's buffer too).
    const held: Socket[] = [];
    const onConnection = (socket: Socket) => held.push(socket);
    f.service.app.server.on('connection', onConnection);
    collectGarbage();
    const before = process.memoryUsage().rss;
    // 100 connections, 6 pipelined requests each: what the kernel does not take (it takes about 4 MB per socket
    // here) stays in the service. As strings, each socket held its own copy of the rest: 69 MB more here.
    const request = `GET ${WILDCARD} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(6);
    const readers = await stuckReaders(100, request);
    await eventually(() => {
      expect(held).toHaveLength(100);
      expect(held.filter((s) => s.bytesWritten >= full.body.length)).toHaveLength(100);
    });
    collectGarbage();
    const grown = process.memoryUsage().rss - before;
    f.service.app.server.off('connection', onConnection);
    // One shared buffer: the growth is the sockets' bookkeeping (5 MB here), not a copy per connection.
    expect(grown).toBeLessThan(30 * 1024 * 1024);
    // Stalled for clientTimeout (1.5 s here, 30 s by default): the service closes them.
    await eventually(async () => expect(await connections()).toBe(0));
    const metrics = (await get('/metrics')).body;
    const stalled = /apk_indexer_dropped_connections_total\{listener="client",why="stalled"\} (\d+)/.exec(metrics);
    expect(Number(stalled?.[1])).toBeGreaterThanOrEqual(readers.length);
  }, 60_000);

  it('holds at most maxConnections connections: the next takes the place of the oldest idle one', async () => {
    const idle = await Promise.all(
      Array.from(
        { length: 400 },
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect(port, '127.0.0.1', () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    sockets.push(...idle);
    await eventually(async () => expect(await connections()).toBe(400));
    const oldestClosed = new Promise((resolve) => idle[0]!.once('close', resolve));
    // A probe, say, arriving past the bound: answered, in the place of the oldest idle connection.
    expect((await get('/livez')).status).toBe(200);
    await oldestClosed;
    expect(await connections()).toBeLessThanOrEqual(400);
    const metrics = await f.service.metrics.registry.metrics();
    expect(metrics).toMatch(/^apk_indexer_dropped_connections_total\{listener="client",why="shed-idle"\} 1$/m);
    expect(metrics).not.toContain('why="refused"');
    for (const s of idle) s.destroy();
    await eventually(async () => expect(await connections()).toBe(0));
  }, 30_000);

  it('a POST announcing a body it never sends is answered 408 and closed after clientTimeout', async () => {
    const held = await rawExchange(port, 'POST /-/refresh HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', {
      capMs: 10_000,
    });
    expect(held.closed).toBe(true);
    expect(held.responses.map((r) => r.status)).toEqual([408]);
    const headers = await rawExchange(port, 'GET /livez HTTP/1.1\r\nHost: x\r\n', { capMs: 10_000 });
    expect(headers.closed).toBe(true);
    expect(headers.responses.map((r) => r.status)).toEqual([408]);
  }, 30_000);
});

describe('expensive queries cannot starve the service', () => {
  it('spellings of one filter share one cached answer: duplicates, blanks, order, a 16 KB repetition', async () => {
    const { cache } = f.service;
    const first = await get(`${WILDCARD}?arch=x86_64&format=plain`);
    expect(first.status).toBe(200);
    const size = cache.size;
    const spellings = [
      'x86_64,,x86_64',
      '%20x86_64%20,',
      `${'x86_64,'.repeat(140)}x86_64`,
      'x86_64&arch=x86_64',
      `${'x86_64,'.repeat(140)}&arch=${'x86_64,'.repeat(140)}`,
    ];
    for (const arch of spellings) {
      const res = await get(`${WILDCARD}?arch=${arch}&format=plain`);
      expect([res.status, res.body === first.body], arch.slice(0, 30)).toEqual([200, true]);
    }
    expect(cache.size).toBe(size);
    const tooMany = await get(`${WILDCARD}?repository=${Array.from({ length: 40 }, (_, i) => `r${i}`).join(',')}`);
    expect(tooMany.status).toBe(400);
  });

  it('answers a burst of distinct scans with the answer or 503 with Retry-After, and the probes meanwhile', async () => {
    const paths = [
      '/wildcardVersion/pkg-1*',
      '/wildcardVersion/pkg-2*',
      '/wildcardVersion/pkg-3*',
      '/wildcardVersion/pkg-4*',
      '/wildcardVersion/pkg-5*',
      '/wildcardVersion/pkg-6*',
    ];
    const answers = await Promise.all([...paths.map((p) => get(`${p}?format=plain`)), get('/livez'), get('/readyz')]);
    expect(answers.slice(-2).map((a) => a.status)).toEqual([200, 200]);
    for (const [i, a] of answers.slice(0, -2).entries()) {
      // pkg-N* matches pkg-N<digits>: one version each
      const prefix = `pkg-${i + 1}`;
      if (a.status === 503) expect(a.headers['retry-after']).toBe('1');
      else
        expect([a.status, a.body.split('\n').length - 1], paths[i]).toEqual([
          200,
          MANY.filter((p) => p.name.startsWith(prefix) && p.name.length > prefix.length).length,
        ]);
    }
  });
});

describe('a scan gate', () => {
  it('runs at most its bound of distinct computations; identical ones share the one running', async () => {
    const gate = new ScanGate<string>(2);
    const release: Array<() => void> = [];
    const held = (v: string) => () => new Promise<string>((r) => release.push(() => r(v)));
    const a = gate.run('a', held('a'));
    const b = gate.run('b', held('b'));
    expect(gate.run('c', held('c'))).toBeUndefined();
    expect(gate.run('a', held('other'))).toBe(a);
    release.forEach((r) => r());
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(await gate.run('c', async () => 'c')).toBe('c');
  });
});
