import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatCold, measureColdQuery, measureColdStart } from './cold.js';
import { measureLoad } from './load.js';
import { formatLoadRefresh, measureLoadRefresh } from './load-refresh.js';
import { measureQueries } from './queries.js';
import { writeScaleRepo } from './wolfi-scale.js';

/** `npm run bench`: the figures BENCHMARKS.md records. Targets are printed beside each, never asserted in tests. */
const records = Number(process.env.BENCH_RECORDS ?? 250_000);
const dir = await mkdtemp(join(tmpdir(), 'apk-bench-'));
/** `BENCH_ONLY=load-refresh npm run bench` runs only the load-while-refreshing piece; `load` and `cold`, those. */
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
  const repo = await writeScaleRepo(dir, { records });
  if (only === 'cold') {
    console.log(await cold(repo));
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
  console.log(
    `index: ${records} records, ${(repo.textBytes / 1e6).toFixed(1)} MB APKINDEX text, ${repo.names.length} names`,
  );
  const load = await measureLoad(repo.indexPath, repo.keyPath);
  if (only === 'load') {
    console.log(JSON.stringify(load));
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
  console.log(
    `resident memory once loaded: ${load.rssMiB.toFixed(0)} MiB, heap ${load.heapMiB.toFixed(0)} MiB (target < 200 MiB)`,
  );
  console.log(
    `resident memory after reading every name once: ${load.rssAllReadMiB.toFixed(0)} MiB, heap ${load.heapAllReadMiB.toFixed(0)} MiB`,
  );
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const q = await measureQueries(dir, repo.keyPath, repo.names, seconds);
  console.log(
    `queries, bare Fastify constant route: ${q.bare.rps.toFixed(0)} req/s, p50 ${q.bare.p50} ms, p99 ${q.bare.p99} ms`,
  );
  console.log(
    `queries, GET /<name>?arch=x86_64 over ${Math.min(repo.names.length, 2000)} names: ${q.datasource.rps.toFixed(0)} req/s, p50 ${q.datasource.p50} ms, p99 ${q.datasource.p99} ms, non-2xx ${q.datasource.non2xx}`,
  );
  console.log(`ratio datasource / bare: ${q.ratio.toFixed(2)}x (target >= 0.8x)`);
  const loadRefresh = await loadWhileRefreshing();
  const coldFigures = await cold(repo);
  console.log(coldFigures);
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ load, queries: q, loadRefresh }));
} finally {
  await rm(dir, { recursive: true, force: true });
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
