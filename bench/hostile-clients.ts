import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeScaleRepo } from './wolfi-scale.js';

/**
 * `npm run bench:clients`: issue 24's hostile clients against a real `serve` process on 127.0.0.1, and how its
 * probes fare meanwhile, on the listen port and on the management port. Two attacks:
 * - `never-read`: BENCH_SOCKETS (2,000) sockets each send one query and never read, past maxConnections (1024);
 * - `all-busy`: as many queries held waiting for a first load that never comes (an upstream that never answers),
 *   so every connection is busy and none can be shed.
 * During each, 20 probes of /livez (a new connection each, 3 s timeout as the chart's liveness probe) on each port.
 * BENCH_BEFORE=/path/to/bin/apk-indexer.js runs the same against another build too (one without a management port
 * is probed on the listen port only). Figures: probes answered, median and max latency, and the service's
 * connection metrics.
 */

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2_000);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 250_000);
const PROBES = 20;
const PROBE_TIMEOUT_MS = 3_000;
const entries: Array<[string, string]> = [['this build', resolve('bin/apk-indexer.js')]];
if (process.env.BENCH_BEFORE) entries.unshift(['before', resolve(process.env.BENCH_BEFORE)]);

interface Running {
  child: ChildProcess;
  port: number;
  management: number | undefined;
  log: () => string;
}

async function serve(entry: string, args: string[]): Promise<Running> {
  const child = spawn(
    process.execPath,
    [entry, 'serve', ...args, '--host', '127.0.0.1', '--port', '0', '--management-port', '0'],
    { env: { PATH: process.env.PATH ?? '', APK_INDEXER_LOG_OUTPUT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = once(child, 'exit');
  for (const end = Date.now() + 60_000; ; await sleep(50)) {
    const port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1];
    const management = /management port [^"]* at http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1];
    // A build without the setting refuses the flag: run it without.
    if (/management-port/.test(log) && child.exitCode !== null) {
      await exited;
      return serveWithoutManagement(entry, args);
    }
    if (port && management) return { child, port: Number(port), management: Number(management), log: () => log };
    if (child.exitCode !== null || Date.now() > end) throw new Error(`serve did not start: ${log}`);
  }
}

async function serveWithoutManagement(entry: string, args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [entry, 'serve', ...args, '--host', '127.0.0.1', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', APK_INDEXER_LOG_OUTPUT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  for (const end = Date.now() + 60_000; ; await sleep(50)) {
    const port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1];
    if (port) return { child, port: Number(port), management: undefined, log: () => log };
    if (child.exitCode !== null || Date.now() > end) throw new Error(`serve did not start: ${log}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One GET on a connection of its own; the status, or the error, and how long it took. */
function probe(port: number, path: string): Promise<{ ok: boolean; ms: number; outcome: string }> {
  const started = performance.now();
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const finish = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      done({ ok: outcome === '200', ms: performance.now() - started, outcome });
    };
    const timer = setTimeout(() => finish('timeout'), PROBE_TIMEOUT_MS);
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    socket.on('data', (d) => {
      received += d.toString('latin1');
      const status = /^HTTP\/1\.1 (\d+)/.exec(received)?.[1];
      if (status) finish(status);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? 'error'));
    socket.on('close', () => finish(received ? 'cut' : 'reset'));
  });
}

async function probes(port: number | undefined): Promise<string> {
  if (port === undefined) return 'no management port';
  const results = [];
  for (let i = 0; i < PROBES; i++) {
    results.push(await probe(port, '/livez'));
    await sleep(100);
  }
  const answered = results
    .filter((r) => r.ok)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const failed = results.filter((r) => !r.ok).map((r) => r.outcome);
  const median = answered.length ? `${answered[Math.floor(answered.length / 2)]!.toFixed(1)} ms` : '-';
  const max = answered.length ? `${answered.at(-1)!.toFixed(1)} ms` : '-';
  const why = failed.length ? ` (failed: ${[...new Set(failed)].join(', ')})` : '';
  return `${answered.length}/${PROBES} answered, median ${median}, max ${max}${why}`;
}

/** Opens `count` sockets, in batches (the listen backlog is 511), each sending `request` and never reading. */
async function attack(port: number, count: number, request: (i: number) => string): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let at = 0; at < count; at += 100) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(100, count - at) },
        (_, j) =>
          new Promise<Socket>((done) => {
            const s = connect(port, '127.0.0.1');
            s.on('error', () => undefined);
            s.once('connect', () => {
              s.pause();
              s.write(request(at + j));
              done(s);
            });
            s.once('close', () => done(s));
          }),
      ),
    );
    sockets.push(...batch);
  }
  return sockets;
}

async function connectionMetrics(run: Running): Promise<string> {
  const port = run.management ?? run.port;
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const lines = text.split('\n').filter((l) => /^apk_indexer_(connections|dropped_connections_total)\{/.test(l));
    return lines.map((l) => l.replace(/^apk_indexer_/, '')).join('; ') || 'none';
  } catch (err) {
    return `metrics not read: ${(err as Error).message}`;
  }
}

async function untilReady(run: Running): Promise<void> {
  for (const end = Date.now() + 120_000; Date.now() < end; await sleep(200)) {
    const res = await fetch(`http://127.0.0.1:${run.port}/readyz`).catch(() => undefined);
    if (res?.status === 200) return;
  }
  throw new Error(`not ready: ${run.log()}`);
}

async function stop(run: Running): Promise<void> {
  run.child.kill('SIGKILL');
  if (run.child.exitCode === null) await once(run.child, 'exit');
}

const dir = await mkdtemp(join(tmpdir(), 'apk-bench-clients-'));
let hanging: Server | undefined;
try {
  const repo = await writeScaleRepo(join(dir, 'os'), { records: RECORDS });
  const names = repo.names;
  const base = ['--index', join(dir, 'os'), '--arch', 'x86_64', '--key', repo.keyPath];
  // An upstream that accepts and never answers: its index's first load never completes.
  hanging = createServer(() => undefined);
  hanging.listen(0, '127.0.0.1');
  await once(hanging, 'listening');
  const hangUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}/hang`;
  console.log(`index: ${RECORDS} records, ${names.length} names; ${SOCKETS} attacking sockets; maxConnections 1024`);
  for (const [label, entry] of entries) {
    // never-read: one query per socket, never read.
    let run = await serve(entry, base);
    await untilReady(run);
    let sockets = await attack(run.port, SOCKETS, (i) => `GET /${names[i % names.length]} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await sleep(1_000);
    console.log(`${label}, never-read: listen port /livez: ${await probes(run.port)}`);
    console.log(`${label}, never-read: management port /livez: ${await probes(run.management)}`);
    console.log(`${label}, never-read: ${await connectionMetrics(run)}`);
    for (const s of sockets) s.destroy();
    await stop(run);

    // all-busy: queries waiting for a first load that never comes (firstLoadTimeout 60s).
    run = await serve(entry, [...base, '--index', hangUrl, '--first-load-timeout', '60s']);
    sockets = await attack(run.port, SOCKETS, (i) => `GET /${names[i % names.length]} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await sleep(1_000);
    console.log(`${label}, all-busy: listen port /livez: ${await probes(run.port)}`);
    console.log(`${label}, all-busy: management port /livez: ${await probes(run.management)}`);
    console.log(`${label}, all-busy: ${await connectionMetrics(run)}`);
    for (const s of sockets) s.destroy();
    await stop(run);
  }
} finally {
  hanging?.closeAllConnections();
  hanging?.close();
  await rm(dir, { recursive: true, force: true });
}
