import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatApkIndex, measureApkIndex } from './apk-index.js';
import { formatCold, measureColdQuery, measureColdStart } from './cold.js';
import { measureLoad, measureTwoArches } from './load.js';
import { formatLoadRefresh, measureLoadRefresh } from './load-refresh.js';
import { measureAnswerMemory, measureQueries } from './queries.js';
import { writeScaleRepo } from './wolfi-scale.js';
import { measureLock, type LockBench } from './lock.js';

/** `npm run bench`: the figures BENCHMARKS.md records. Targets are printed beside each, never asserted in tests. */
const records = Number(process.env.BENCH_RECORDS ?? 250_000);
const dir = await mkdtemp(join(tmpdir(), 'apk-bench-'));
/**
 * `BENCH_ONLY=load-refresh` (or `queries`, `memory`, `apk-index`, `lock`, `load`, `cold`) `npm run bench` runs only
 * that piece.
 */
const only = process.env.BENCH_ONLY;
try {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(
    `machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  if (only === 'load-refresh') {
    await loadWhileRefreshing();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
  if (only === 'lock') {
    printLock(await measureLock(dir, Number(process.env.BENCH_LOCK_RECORDS ?? 60_000)));
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
  if (only === 'queries' || only === 'memory') {
    if (only === 'queries') await queries();
    else await answerMemory(await writeScaleRepo(join(dir, 'memory'), { records }));
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
  const repo = await writeScaleRepo(dir, { records });
  if (only === 'cold') {
    console.log(await cold(repo));
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
  console.log(
    `index: ${records} records, ${(repo.textBytes / 1e6).toFixed(1)} MB APKINDEX text, ${repo.names.length} names`,
  );
  if (only === 'apk-index') {
    console.log(formatApkIndex(await measureApkIndex(dir, repo, { records })));
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
  const load = await measureLoad(repo.indexPath, repo.keyPath);
  const two = await measureTwoArches(dir, records);
  const twoArches = `two arches of ${two.records} records loaded at once (median of ${two.rounds} alternating rounds): on the main thread ${two.mainThreadMs.toFixed(0)} ms, on worker threads ${two.workersMs.toFixed(0)} ms`;
  if (only === 'load') {
    console.log(JSON.stringify(load));
    console.log(twoArches);
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
  const fmt = (ms: number | undefined) => (ms === undefined ? 'not installed' : `${ms.toFixed(0)} ms`);
  console.log(`compressed: ${(load.compressedBytes / 1e6).toFixed(1)} MB`);
  console.log(`gunzip floor, node:zlib stream: ${fmt(load.gunzipStreamMs)}`);
  console.log(`gunzip floor, node:zlib gunzipSync: ${fmt(load.gunzipSyncMs)}`);
  console.log(`zlib-sync inflate (comparison): ${fmt(load.zlibSyncMs)}`);
  console.log(`load into version map (verify + gunzip + tar + parse + index): ${fmt(load.loadMs)}`);
  console.log(
    `ratio load / floor (median of ${load.runs} interleaved rounds, zlib chunks ${load.feedBytes >> 10} KiB in, ${load.chunkBytes >> 10} KiB out): ${load.ratio.toFixed(2)}x (target <= 1.5x)`,
  );
  console.log(twoArches);
  console.log(
    `resident memory once loaded: ${load.rssMiB.toFixed(0)} MiB, heap ${load.heapMiB.toFixed(0)} MiB (target < 200 MiB)`,
  );
  console.log(
    `resident memory after reading every name once: ${load.rssAllReadMiB.toFixed(0)} MiB, heap ${load.heapAllReadMiB.toFixed(0)} MiB`,
  );
  const q = await queries();
  const memory = await answerMemory(repo);
  const apkIndex = await measureApkIndex(dir, repo, { records });
  console.log(formatApkIndex(apkIndex));
  const loadRefresh = await loadWhileRefreshing();
  const lock = await measureLock(dir, Number(process.env.BENCH_LOCK_RECORDS ?? 60_000));
  printLock(lock);
  const coldFigures = await cold(repo);
  console.log(coldFigures);
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ load, queries: q, memory, apkIndex, loadRefresh, lock }));
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** `apk-indexer lock` for every image of a 100-file tree (bench/lock.ts); goal < 10 s, RSS within check's 430 MiB. */
function printLock(l: LockBench): void {
  console.log(
    `lock: ${l.images} images (${l.packagesLocked} packages locked) over ${l.records} records per arch x 2 arches; indexes loaded in ${(l.loadMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `lock after loading: ${(l.coldMs / 1000).toFixed(2)} s (CPU ${(l.coldCpuMs / 1000).toFixed(2)} s) with an empty head cache (${l.headReads} heads read), ${(l.warmMs / 1000).toFixed(2)} s (CPU ${(l.warmCpuMs / 1000).toFixed(2)} s) with it filled (target < 10 s); RSS ${l.rssMiB.toFixed(0)} MiB after GC (target <= 430 MiB; ${l.rssLoadedMiB.toFixed(0)} MiB once the indexes were loaded)`,
  );
}

/** `BENCH_ONLY=cold` runs only these: `query` and `serve` as fresh processes (BENCH_ROOT: another build's). */
async function cold(repo: { indexPath: string; keyPath: string; names: string[] }): Promise<string> {
  const query = await measureColdQuery(dir, { ...repo, name: repo.names[0]! });
  const start = await measureColdStart(dir, records);
  return formatCold(query, start);
}

/** Queries under load while the index changes and the service refreshes, both every second (no target: 0 failures). */
async function loadWhileRefreshing() {
  const figures = await measureLoadRefresh({
    seconds: Number(process.env.BENCH_LOAD_REFRESH_SECONDS ?? 20),
    connections: Number(process.env.BENCH_LOAD_REFRESH_CONNECTIONS ?? 32),
    packages: 500,
    publishEveryMs: 1_000,
    refreshEveryMs: 1_000,
    child: true,
  });
  console.log(formatLoadRefresh(figures));
  console.log(`target: errors, timeouts, non-2xx, mixed-generation and older-than-seen answers all 0`);
  return figures;
}

/**
 * Datasource queries against a bare Fastify route, as issue 24 measures them: `wrk -t1 -c32` rotating over 2,000
 * names of a 100k-entry index (BENCH_QUERY_RECORDS), in alternating rounds (BENCH_QUERY_ROUNDS, BENCH_SECONDS
 * each); BENCH_PROFILE=1 adds a CPU profile of the datasource under the same load.
 */
async function queries() {
  const queryRecords = Number(process.env.BENCH_QUERY_RECORDS ?? 100_000);
  const repo = await writeScaleRepo(join(dir, 'queries'), { records: queryRecords });
  const q = await measureQueries(join(dir, 'queries'), repo.keyPath, repo.names, {
    seconds: Number(process.env.BENCH_SECONDS ?? 10),
    rounds: Number(process.env.BENCH_QUERY_ROUNDS ?? 3),
    profile: Boolean(process.env.BENCH_PROFILE),
  });
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  console.log(
    `queries (${q.tool} -t1 -c${q.connections}, ${q.seconds} s a run, ${q.rounds.length} alternating rounds): GET /<name>?arch=x86_64 rotating over ${q.names} names of a ${queryRecords}-record index, against a bare Fastify route with a constant JSON body in the same process`,
  );
  for (const [i, r] of q.rounds.entries())
    console.log(
      `  round ${i + 1}: bare ${r.bare.rps.toFixed(0)} req/s (p99 ${ms(r.bare.p99)}, ${r.bare.cpuMicrosPerRequest.toFixed(1)} µs CPU/req), datasource ${r.datasource.rps.toFixed(0)} req/s (p99 ${ms(r.datasource.p99)}, ${r.datasource.cpuMicrosPerRequest.toFixed(1)} µs CPU/req, non-2xx ${r.datasource.non2xx}): ${r.ratio.toFixed(2)}x`,
    );
  console.log(
    `  medians: bare ${q.bare.rps.toFixed(0)} req/s, p50 ${ms(q.bare.p50)}, p99 ${ms(q.bare.p99)}; datasource ${q.datasource.rps.toFixed(0)} req/s, p50 ${ms(q.datasource.p50)}, p99 ${ms(q.datasource.p99)}, non-2xx ${q.datasource.non2xx}, errors ${q.datasource.errors}`,
  );
  console.log(
    `  ratio datasource / bare: ${q.ratio.toFixed(2)}x (target >= 0.9x); CPU per request, bare / datasource: ${q.cpuRatio.toFixed(2)}x`,
  );
  if (q.profile) {
    console.log('  profile of the datasource under that load, top self time (idle left out):');
    for (const e of q.profile) console.log(`    ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name} ${e.where}`);
  }
  return q;
}

/**
 * The service's memory over the large index: every name read once through it (target RSS <= 300 MiB), then
 * BENCH_DISTINCT (250,000; 1,000,000 takes about ten minutes here) distinct query strings, which the answer cache's
 * byte bound holds level.
 */
async function answerMemory(repo: { keyPath: string; names: string[]; indexPath: string }) {
  const repoDir = join(repo.indexPath, '..', '..');
  const m = await measureAnswerMemory(repoDir, repo.keyPath, repo.names, {
    distinct: Number(process.env.BENCH_DISTINCT ?? 250_000),
  });
  const f = (n: number) => n.toFixed(0);
  console.log(
    `service memory over ${m.names} names (answerCacheBytes ${m.answerCacheBytes ?? 'default'}), after a full GC: loaded ${f(m.loaded.rssMiB)} MiB RSS (heap ${f(m.loaded.heapMiB)} MiB); every name read once ${f(m.allRead.rssMiB)} MiB RSS (heap ${f(m.allRead.heapMiB)}, cache ${f(m.allRead.cacheMiB)} MiB in ${m.allRead.entries} answers; target <= 300 MiB)`,
  );
  for (const s of m.distinct)
    console.log(
      `  after ${s.requests} distinct query strings: ${f(s.rssMiB)} MiB RSS (heap ${f(s.heapMiB)} of ${f(s.heapTotalMiB)}, external ${f(s.externalMiB)}, cache ${f(s.cacheMiB)} MiB, ${s.evictions} evicted)`,
    );
  return m;
}
