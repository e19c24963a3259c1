import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createGunzip, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEED_BYTES, OUT_CHUNK } from '../src/decode/gzip-members.js';
import { loadIndex } from '../src/load/load-index.js';
import { VersionMap } from '../src/index/version-map.js';
import { loadTrustedKeys } from '../src/load/load-keys.js';
import { writeScaleRepo } from './wolfi-scale.js';

export interface LoadFigures {
  compressedBytes: number;
  /** Rounds measured; each round runs every contender once, interleaved, so noise hits them alike. */
  runs: number;
  /** zlib output buffer and compressed piece size, the same for the floor and the load. */
  chunkBytes: number;
  feedBytes: number;
  records: number;
  names: number;
  gunzipStreamMs: number;
  gunzipSyncMs: number;
  zlibSyncMs: number | undefined;
  loadMs: number;
  /** Median of each round's load / floor (the floor being the faster gunzip of that round). */
  ratio: number;
  /** Median of each round's load / streaming gunzip floor (same file, same read and zlib chunk sizes). */
  ratioStream: number;
  rssMiB: number;
  heapMiB: number;
  /** The same process after every name's releases were read once (release lists are made on first read). */
  rssAllReadMiB: number;
  heapAllReadMiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One timed run after a full GC, in ms. */
async function timeOnce(fn: () => unknown): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The file's source reads 256 KiB at a time (src/source/open.ts); so does the floor. */
const READ_BYTES = 256 * 1024;

/**
 * node:zlib streaming gunzip of every member from the same file, output discarded: what any reader must at least
 * pay. Same read size and zlib output buffer as the load.
 */
function gunzipStream(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(path, { highWaterMark: READ_BYTES })
      .pipe(createGunzip({ chunkSize: OUT_CHUNK }))
      .on('data', () => undefined)
      .on('end', resolve)
      .on('error', reject);
  });
}

/** zlib-sync, if it happens to be installed, inflating the same members (it is not a dependency). */
function zlibSyncInflate(buf: Buffer): (() => void) | undefined {
  let ZlibSync: {
    Inflate: new (opts?: { chunkSize?: number; windowBits?: number }) => {
      push(b: Buffer, flush: number | boolean): void;
      err: number;
      result: unknown;
    };
  };
  try {
    ZlibSync = createRequire(import.meta.url)('zlib-sync');
  } catch {
    return undefined;
  }
  return () => {
    // zlib-sync does one gzip member per inflater; APKINDEX.tar.gz has two, found by their headers.
    const second = findSecondMember(buf);
    for (const part of [buf.subarray(0, second), buf.subarray(second)]) {
      const inflate = new ZlibSync.Inflate({ chunkSize: 256 * 1024, windowBits: 31 });
      inflate.push(part, 4 /* Z_FINISH */);
      if (inflate.err < 0) throw new Error(`zlib-sync error ${inflate.err}`);
    }
  };
}

function findSecondMember(buf: Buffer): number {
  for (let i = 10; i < Math.min(buf.length, 1 << 16); i++) {
    if (buf[i] === 0x1f && buf[i + 1] === 0x8b && buf[i + 2] === 8) {
      try {
        gunzipSync(buf.subarray(0, i));
        return i;
      } catch {
        // not the boundary
      }
    }
  }
  throw new Error('no second gzip member');
}

export async function measureLoad(
  indexPath: string,
  keyPath: string,
  runs = Number(process.env.BENCH_LOAD_RUNS ?? 9),
): Promise<LoadFigures> {
  const keys = await loadTrustedKeys([keyPath]);
  const buf = readFileSync(indexPath);
  const location = { url: indexPath, arch: 'x86_64', repository: 'bench' };
  let records = 0;
  let names = 0;
  const load = async () => {
    const r = await loadIndex(location, { keys });
    if (r.notModified) throw new Error('unexpected 304');
    records = r.snapshot.records;
    names = new VersionMap([r.snapshot]).names().length;
  };
  const zs = zlibSyncInflate(buf);
  const contenders: Array<[string, () => unknown]> = [
    ['stream', () => gunzipStream(indexPath)],
    ['sync', () => gunzipSync(buf, { chunkSize: OUT_CHUNK })],
    ['load', load],
    ...(zs ? [['zlibSync', zs] as [string, () => void]] : []),
  ];
  // Warm up the JIT and the page cache alike for every contender.
  for (const [, fn] of contenders) await fn();
  const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  const ratios: number[] = [];
  const streamRatios: number[] = [];
  for (let round = 0; round < runs; round++) {
    const t: Record<string, number> = {};
    for (const [name, fn] of contenders) samples.get(name)!.push((t[name] = await timeOnce(fn)));
    ratios.push(t.load! / Math.min(t.stream!, t.sync!));
    streamRatios.push(t.load! / t.stream!);
  }
  const child = fileURLToPath(new URL('./load-once.js', import.meta.url));
  const mem = JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', child, indexPath, keyPath], { encoding: 'utf8' }),
  ) as { rss: number; heapUsed: number; rssAllRead: number; heapUsedAllRead: number };
  return {
    compressedBytes: buf.length,
    runs,
    chunkBytes: OUT_CHUNK,
    feedBytes: FEED_BYTES,
    records,
    names,
    gunzipStreamMs: median(samples.get('stream')!),
    gunzipSyncMs: median(samples.get('sync')!),
    zlibSyncMs: zs ? median(samples.get('zlibSync')!) : undefined,
    loadMs: median(samples.get('load')!),
    ratio: median(ratios),
    ratioStream: median(streamRatios),
    rssMiB: mem.rss / 2 ** 20,
    heapMiB: mem.heapUsed / 2 ** 20,
    rssAllReadMiB: mem.rssAllRead / 2 ** 20,
    heapAllReadMiB: mem.heapUsedAllRead / 2 ** 20,
  };
}

export interface TwoArchFigures {
  rounds: number;
  records: number;
  /** Both arches loaded at once, each parsed on the main thread, median ms. */
  mainThreadMs: number;
  /** The same on worker threads (`offThread`, as the service reads), median ms. */
  workersMs: number;
}

/**
 * A repository's two arches loaded at once, as the service does at start and on each refresh: on the main thread,
 * then on worker threads, alternating, after one warm-up of each (the workers stay up between rounds).
 */
export async function measureTwoArches(dir: string, records: number, rounds = 5): Promise<TwoArchFigures> {
  const arches = ['x86_64', 'aarch64'];
  const root = join(dir, 'two-arch-load');
  const repo = await writeScaleRepo(root, { records, arches });
  const keys = await loadTrustedKeys([repo.keyPath]);
  const both = (offThread: boolean) => () =>
    Promise.all(
      arches.map((arch) =>
        loadIndex({ url: join(root, arch, 'APKINDEX.tar.gz'), arch, repository: 'bench' }, { keys, offThread }),
      ),
    );
  const main = both(false);
  const workers = both(true);
  await main();
  await workers();
  const mainMs: number[] = [];
  const workersMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    mainMs.push(await timeOnce(main));
    workersMs.push(await timeOnce(workers));
  }
  return { rounds, records, mainThreadMs: median(mainMs), workersMs: median(workersMs) };
}
