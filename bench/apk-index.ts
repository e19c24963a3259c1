import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DEFAULTS } from '../src/config/settings.js';
import { buildService } from '../src/serve/app.js';
import { indexDataMember, signatureMember, type FixtureKey } from '../test/fixtures/apk-repo.js';
import { syntheticApkIndex, type ScaleOptions } from './wolfi-scale.js';

export interface ApkIndexFigures {
  /** Records in the index read (x86_64). */
  arches: string[];
  /** First GET of one arch's synthesized index: built, gzipped, sent. */
  buildOneMs: number;
  /** First GET of `all` (the intersection of both arches' indexes). */
  buildAllMs: number;
  /** Median of later GETs of the same index: the cached answer. */
  cachedMs: number;
  /** Its size gzipped, and as text. */
  bytes: number;
  textBytes: number;
  /** The longest the event loop was held while the indexes were built (probes wait at most this). */
  maxLoopDelayMs: number;
  /** The same over 3 s of idling just before: what the machine itself adds. */
  idleLoopDelayMs: number;
}

/**
 * `GET /-/apk/<repository>/<arch>/APKINDEX.tar.gz` over the Wolfi-scale index, served for two arches (the same
 * records written for aarch64 too, so `all` keeps every version): what the first request costs, what a cached one costs,
 * and how long the event loop is held meanwhile (garbage collection included). Over HTTP on 127.0.0.1, one request at
 * a time.
 */
export async function measureApkIndex(
  repoDir: string,
  repo: { keyPath: string; key: FixtureKey },
  options: ScaleOptions,
): Promise<ApkIndexFigures> {
  // The same records on aarch64, signed with the same key.
  const data = indexDataMember(
    syntheticApkIndex(options).text.replaceAll('\nA:x86_64\n', '\nA:aarch64\n'),
    'synthetic wolfi-scale index',
  );
  await mkdir(join(repoDir, 'aarch64'), { recursive: true });
  await writeFile(
    join(repoDir, 'aarch64', 'APKINDEX.tar.gz'),
    Buffer.concat([signatureMember(data, { key: repo.key }), data]),
  );
  const keyPath = repo.keyPath;
  const arches = ['x86_64', 'aarch64'];
  const { app, store } = buildService(
    {
      ...DEFAULTS,
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      repositories: [{ name: 'bench', url: pathToFileURL(repoDir).href, arches, keys: [keyPath] }],
    },
    { logger: false },
  );
  try {
    store.start();
    if (!(await store.whenReady(300_000))) throw new Error('index did not load');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const get = async (path: string) => {
      const started = performance.now();
      const res = await fetch(`${base}${path}`);
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.toString()}`);
      return { ms: performance.now() - started, body };
    };
    // The machine is shared: the loop is also held while the process waits for a core. The same monitor over an
    // idle stretch just before is the floor to read the stall against.
    const idle = monitorEventLoopDelay({ resolution: 10 });
    idle.enable();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    idle.disable();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const one = await get('/-/apk/bench/x86_64/APKINDEX.tar.gz');
    const all = await get('/-/apk/bench/all/APKINDEX.tar.gz');
    delay.disable();
    const cached: number[] = [];
    for (let i = 0; i < 21; i++) cached.push((await get('/-/apk/bench/x86_64/APKINDEX.tar.gz')).ms);
    cached.sort((a, b) => a - b);
    return {
      arches,
      buildOneMs: one.ms,
      buildAllMs: all.ms,
      cachedMs: cached[10]!,
      bytes: one.body.length,
      textBytes: gunzipSync(one.body).length,
      maxLoopDelayMs: delay.max / 1e6,
      idleLoopDelayMs: idle.max / 1e6,
    };
  } finally {
    await app.close();
  }
}

export function formatApkIndex(f: ApkIndexFigures): string {
  return [
    `synthesized APKINDEX (/-/apk/bench/<arch>/APKINDEX.tar.gz, ${f.arches.join(' + ')}): ${(f.bytes / 1e6).toFixed(1)} MB gzipped, ${(f.textBytes / 1e6).toFixed(1)} MB as tar`,
    `  first GET, one arch (build + gzip): ${f.buildOneMs.toFixed(0)} ms; first GET, all: ${f.buildAllMs.toFixed(0)} ms`,
    `  cached GET (median of 21): ${f.cachedMs.toFixed(1)} ms; ratio first / cached: ${(f.buildOneMs / f.cachedMs).toFixed(0)}x`,
    `  longest event-loop stall while building: ${f.maxLoopDelayMs.toFixed(0)} ms (idle, same run: ${f.idleLoopDelayMs.toFixed(0)} ms)`,
  ].join('\n');
}
