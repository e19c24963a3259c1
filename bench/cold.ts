import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeScaleRepo } from './wolfi-scale.js';

/**
 * Cold figures, each a fresh process as a CI job meets them (issue 24), measured against another build with
 * `BENCH_ROOT=/path/to/checkout` (its bin/ and dist/):
 * - `query` over a Wolfi-sized signed index from a local file, net of process start (the same command over a
 *   50-record index), against the fastest node:zlib inflate of the same file, net of a process that does nothing;
 * - a service's cold start to /readyz for a two-arch Wolfi-sized repository served from 127.0.0.1, against a
 *   process that downloads the same bytes from the same server and inflates them, parsing nothing.
 * Medians of interleaved rounds; every contender runs once per round, so the machine's noise hits them alike.
 */
const ROOT = resolve(process.env.BENCH_ROOT ?? fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'apk-indexer.js');
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A child's wall time from spawn to exit, ms; it must exit 0 or 1 (`query` of a name that is there: 0). */
function timed(args: readonly string[]): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`${args.join(' ')}: exit ${run.status}: ${run.stderr.slice(0, 300)}`);
  return ms;
}

/** timed(), without blocking this process: for a child that talks to a server running here. */
async function timedAsync(args: readonly string[]): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`${args.join(' ')}: exit ${code}`);
  return performance.now() - start;
}

/** Peak resident memory of one run (VmHWM), MiB: the command runs in a child that reports it. */
function peakRss(args: readonly string[]): number {
  const script = `process.on('exit', () => process.stderr.write('\\nVmHWM ' + /VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));
import(${JSON.stringify(BIN)});`;
  const run = spawnSync(process.execPath, ['-e', script, '--', ...args], { encoding: 'utf8' });
  return Number(/VmHWM (\d+)/.exec(run.stderr)?.[1] ?? NaN) / 1024;
}

const INFLATE_STREAM = `const z=require('node:zlib'),fs=require('node:fs');fs.createReadStream(process.argv[1],{highWaterMark:1<<18}).pipe(z.createGunzip({chunkSize:4<<20})).on('data',()=>{})`;
const INFLATE_SYNC = `require('node:zlib').gunzipSync(require('node:fs').readFileSync(process.argv[1]),{chunkSize:4<<20})`;

export interface ColdQueryFigures {
  rounds: number;
  /** `query` over the large index, and over the 50-record one (process start, module loading), ms. */
  queryMs: number;
  smallQueryMs: number;
  /** Inflating the same file: streaming, in one call, and a process that does nothing, ms. */
  streamMs: number;
  syncMs: number;
  emptyMs: number;
  /** (query − small query) / (fastest inflate − empty process). Target: ≤ 1.5. */
  ratio: number;
  peakRssMiB: number;
}

export async function measureColdQuery(
  dir: string,
  large: { indexPath: string; keyPath: string; name: string },
  rounds = Number(process.env.BENCH_COLD_ROUNDS ?? 7),
): Promise<ColdQueryFigures> {
  const small = await writeScaleRepo(join(dir, 'small'), { records: 50 });
  const query = (index: string, key: string, name: string) => [BIN, 'query', name, '--index', index, '--key', key];
  const contenders: Record<string, readonly string[]> = {
    query: query(large.indexPath, large.keyPath, large.name),
    small: query(small.indexPath, small.keyPath, small.names[0]!),
    stream: ['-e', INFLATE_STREAM, large.indexPath],
    sync: ['-e', INFLATE_SYNC, large.indexPath],
    empty: ['-e', '0'],
  };
  const samples = new Map(Object.keys(contenders).map((k) => [k, [] as number[]]));
  for (const args of Object.values(contenders)) timed(args); // the page cache warm for every contender
  for (let round = 0; round < rounds; round++)
    for (const [name, args] of Object.entries(contenders)) samples.get(name)!.push(timed(args));
  const m = (name: string) => median(samples.get(name)!);
  return {
    rounds,
    queryMs: m('query'),
    smallQueryMs: m('small'),
    streamMs: m('stream'),
    syncMs: m('sync'),
    emptyMs: m('empty'),
    ratio: (m('query') - m('small')) / (Math.min(m('stream'), m('sync')) - m('empty')),
    peakRssMiB: peakRss(contenders.query!),
  };
}

export interface ColdStartFigures {
  rounds: number;
  records: number;
  /** Spawn of `serve` to the first 200 from /readyz, ms. */
  readyMs: number;
  /** Spawn of a process that downloads both indexes from the same server and inflates them, to its exit, ms. */
  downloadInflateMs: number;
  /** readyMs / downloadInflateMs. Target: ≤ 2. */
  ratio: number;
  /**
   * The /readyz polls answered (503, then the 200) between listen and ready, every round's together: how long a
   * probe, or a query, waits while the indexes load.
   */
  probes: { count: number; p50: number; p90: number; max: number };
}

/**
 * Downloads every URL given at once over HTTP and inflates each as it arrives, output discarded; the process ends
 * when both are done (a process.exit() there once hung in exit while zlib's threads were finishing).
 */
const DOWNLOAD_INFLATE = `const http=require('node:http'),z=require('node:zlib');
for(const u of process.argv.slice(1))http.get(u,{agent:false},(r)=>r.pipe(z.createGunzip({chunkSize:4<<20})).on('data',()=>{}));`;

export async function measureColdStart(
  dir: string,
  records: number,
  rounds = Number(process.env.BENCH_COLD_ROUNDS ?? 5),
): Promise<ColdStartFigures> {
  const arches = ['x86_64', 'aarch64'];
  const repo = await writeScaleRepo(join(dir, 'two-arch'), { records, arches });
  const root = join(dir, 'two-arch');
  const files = new Map<string, Buffer>();
  for (const arch of arches)
    files.set(`/os/${arch}/APKINDEX.tar.gz`, await readFile(join(root, arch, 'APKINDEX.tar.gz')));
  files.set('/os/bench.rsa.pub', await readFile(repo.keyPath));
  const server: Server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/os`;
  try {
    const ready: number[] = [];
    const floor: number[] = [];
    const probes: number[] = [];
    const download = ['-e', DOWNLOAD_INFLATE, ...arches.map((a) => `${base}/${a}/APKINDEX.tar.gz`)];
    await timedAsync(download);
    for (let round = 0; round < rounds; round++) {
      const round = await readyAfter(base, arches);
      ready.push(round.readyMs);
      probes.push(...round.probeMs);
      floor.push(await timedAsync(download));
    }
    const readyMs = median(ready);
    const downloadInflateMs = median(floor);
    probes.sort((a, b) => a - b);
    const at = (q: number) => probes[Math.min(probes.length - 1, Math.floor(q * probes.length))] ?? 0;
    return {
      rounds,
      records,
      readyMs,
      downloadInflateMs,
      ratio: readyMs / downloadInflateMs,
      probes: { count: probes.length, p50: at(0.5), p90: at(0.9), max: probes.at(-1) ?? 0 },
    };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/**
 * Starts `serve` for the repository and times it to the first 200 from /readyz (polled every 5 ms), ms, with the
 * time each answered poll took.
 */
async function readyAfter(base: string, arches: readonly string[]): Promise<{ readyMs: number; probeMs: number[] }> {
  const port = await freePort();
  const start = performance.now();
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--index',
      base,
      '--arch',
      arches.join(','),
      '--key',
      `${base}/bench.rsa.pub`,
      '--log-level',
      'silent',
    ],
    { stdio: 'ignore' },
  );
  try {
    const probeMs: number[] = [];
    for (const deadline = start + 120_000; performance.now() < deadline; await new Promise((r) => setTimeout(r, 5))) {
      const sent = performance.now();
      const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 0) probeMs.push(performance.now() - sent);
      if (status === 200) return { readyMs: performance.now() - start, probeMs };
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
    }
    throw new Error('serve not ready within 120 s');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

export function formatCold(q: ColdQueryFigures, s: ColdStartFigures): string {
  return [
    `cold query (${q.rounds} rounds): query ${q.queryMs.toFixed(0)} ms, 50-record query ${q.smallQueryMs.toFixed(0)} ms, inflate stream ${q.streamMs.toFixed(0)} / sync ${q.syncMs.toFixed(0)} ms, empty process ${q.emptyMs.toFixed(0)} ms`,
    `ratio query / inflate floor, net of process start: ${q.ratio.toFixed(2)}x (target <= 1.5x), peak RSS ${q.peakRssMiB.toFixed(0)} MiB (target <= 200 MiB)`,
    `cold start to /readyz, two arches of ${s.records} records from 127.0.0.1 (${s.rounds} rounds): ${s.readyMs.toFixed(0)} ms; download + inflate, no parsing: ${s.downloadInflateMs.toFixed(0)} ms; ratio ${s.ratio.toFixed(2)}x (target <= 2x)`,
    `/readyz polls answered while loading (${s.probes.count}, every round): p50 ${s.probes.p50.toFixed(1)} ms, p90 ${s.probes.p90.toFixed(1)} ms, max ${s.probes.max.toFixed(1)} ms`,
  ].join('\n');
}
