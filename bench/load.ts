import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createGunzip, gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { loadIndex } from '../src/index/load.js';
import { VersionMap } from '../src/index/version-map.js';
import { loadTrustedKeys } from '../src/source/keys.js';

export interface LoadFigures {
  compressedBytes: number;
  records: number;
  names: number;
  gunzipStreamMs: number;
  gunzipSyncMs: number;
  zlibSyncMs: number | undefined;
  loadMs: number;
  ratio: number;
  rssMiB: number;
  heapMiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(fn: () => Promise<unknown> | unknown, runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

/** node:zlib streaming gunzip of every member, output discarded: what any reader must at least pay. */
function gunzipStream(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(path, { highWaterMark: 256 * 1024 })
      .pipe(createGunzip({ chunkSize: 256 * 1024 }))
      .on('data', () => undefined)
      .on('end', resolve)
      .on('error', reject);
  });
}

/** zlib-sync, if it happens to be installed, inflating the same members (it is not a dependency). */
function zlibSyncInflate(buf: Buffer): (() => void) | undefined {
  let ZlibSync: { Inflate: new (opts?: { chunkSize?: number; windowBits?: number }) => { push(b: Buffer, flush: number | boolean): void; err: number; result: unknown } };
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

export async function measureLoad(indexPath: string, keyPath: string, runs = 5): Promise<LoadFigures> {
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
  await load(); // warm up the JIT and the page cache alike for every contender
  await gunzipStream(indexPath);
  const gunzipStreamMs = await time(() => gunzipStream(indexPath), runs);
  const gunzipSyncMs = await time(() => gunzipSync(buf), runs);
  const zs = zlibSyncInflate(buf);
  const zlibSyncMs = zs ? await time(zs, runs) : undefined;
  const loadMs = await time(load, runs);
  const floor = Math.min(gunzipStreamMs, gunzipSyncMs);
  const child = fileURLToPath(new URL('./load-once.js', import.meta.url));
  const mem = JSON.parse(execFileSync(process.execPath, ['--expose-gc', child, indexPath, keyPath], { encoding: 'utf8' })) as { rss: number; heapUsed: number };
  return {
    compressedBytes: buf.length,
    records,
    names,
    gunzipStreamMs,
    gunzipSyncMs,
    zlibSyncMs,
    loadMs,
    ratio: loadMs / floor,
    rssMiB: mem.rss / 2 ** 20,
    heapMiB: mem.heapUsed / 2 ** 20,
  };
}
