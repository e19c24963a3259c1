import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { readApkoTree } from '../src/apko/tree.js';
import { lockImage, type LockContext } from '../src/generate/lock-tree.js';
import { HeadFetcher } from '../src/lock/head-fetch.js';
import { newKeyringMemo } from '../src/lock/keyring.js';
import { renderLock } from '../src/lock/lock-file.js';
import { openImages } from '../src/cli/resolve-images.js';
import { parseFlags } from '../src/core/flags.js';
import { APKO_LOCK_FLAGS } from '../src/generate/command-options.js';
import { buildIndexArchive, generateFixtureKey, type FixturePackage } from '../test/fixtures/apk-repo.js';
import { buildApk } from '../test/fixtures/apk-package.js';

/**
 * The lock run of `npm run bench`: every image of a 100-file tree (10 bases, 90 images including them, most for two
 * arches) locked against Wolfi-scale indexes with dependency data (`records` per arch, every version of each name
 * kept, shared libraries provided and depended on as in Wolfi), the newest version of each name a real .apk in a
 * local repository. Timed after the indexes are loaded: once with an empty head cache (every installed package's
 * head read) and once with it filled. Runs in a child process, so its resident memory is the lock run's own.
 */
export interface LockBench {
  records: number;
  images: number;
  packagesLocked: number;
  loadMs: number;
  coldMs: number;
  warmMs: number;
  /** CPU time (user + system) of each run: the figure a loaded machine disturbs least. */
  coldCpuMs: number;
  warmCpuMs: number;
  headReads: number;
  rssMiB: number;
  /** Once the indexes (versions and dependency data, both arches) are loaded, before any lock. */
  rssLoadedMiB: number;
}

const ARCHES = ['x86_64', 'aarch64'];

/** A repository of `records` records per arch whose dependencies resolve (each name needs libraries of earlier ones). */
async function writeRepo(dir: string, records: number): Promise<{ names: string[]; keyPath: string }> {
  const key = generateFixtureKey('bench-lock.rsa.pub');
  const names: string[] = [];
  const newest: FixturePackage[] = [];
  const history: FixturePackage[] = [];
  for (let i = 0; history.length + newest.length < records; i++) {
    const name = `pkg${i}`;
    const versions = 5 + (i % 40);
    // Libraries and tools of earlier names, as a Wolfi package needs glibc's and its siblings' (closures of tens
    // to hundreds of packages).
    const deps =
      i < 10 ? [] : [`so:libpkg${Math.floor(i * 0.5)}.so.1`, `so:libpkg${Math.floor(i * 0.93)}.so.1`, `pkg${i % 10}`];
    for (let v = 0; v < versions; v++) {
      const p: FixturePackage = {
        name,
        version: `1.${v}.0-r0`,
        origin: name,
        depends: deps,
        provides: [`so:libpkg${i}.so.1=1.${v}`, `cmd:${name}=1.${v}.0-r0`],
      };
      (v === versions - 1 ? newest : history).push(p);
    }
    names.push(name);
  }
  for (const arch of ARCHES) {
    await mkdir(join(dir, arch), { recursive: true });
    const indexed: FixturePackage[] = [...history.map((p) => ({ ...p, arch }))];
    for (const p of newest) {
      const apk = buildApk({ ...p, arch }, { sign: { key } });
      await writeFile(join(dir, arch, `${p.name}-${p.version}.apk`), apk.bytes);
      indexed.push({ ...p, arch, checksum: apk.checksum, size: apk.bytes.length });
    }
    await writeFile(join(dir, arch, 'APKINDEX.tar.gz'), buildIndexArchive({ packages: indexed, sign: [{ key }] }));
  }
  const keyPath = join(dir, key.name);
  await writeFile(keyPath, key.publicPem);
  return { names, keyPath };
}

/** 10 bases and 90 images, each image including a base and listing a few packages. */
async function writeTree(root: string, names: readonly string[], keyPath: string, repo: string): Promise<void> {
  await mkdir(join(root, 'bases'), { recursive: true });
  await mkdir(join(root, 'images'), { recursive: true });
  const pick = (i: number, n: number) => Array.from({ length: n }, (_, k) => names[(i * 97 + k * 389) % names.length]!);
  for (let b = 0; b < 10; b++)
    await writeFile(
      join(root, 'bases', `base${b}.yaml`),
      `contents:\n  keyring:\n    - ${keyPath}\n  repositories:\n    - ${repo}\n  packages:\n${pick(b, 3)
        .map((n) => `    - ${n}\n`)
        .join('')}archs:\n  - x86_64\n${b % 5 === 4 ? '' : '  - aarch64\n'}`,
    );
  for (let i = 0; i < 90; i++)
    await writeFile(
      join(root, 'images', `image${i}.yaml`),
      `include: bases/base${i % 10}.yaml\ncontents:\n  packages:\n${pick(i + 10, 4 + (i % 8))
        .map((n) => `    - ${n}\n`)
        .join('')}`,
    );
}

async function child(root: string, cacheDir: string): Promise<void> {
  const silent = new PassThrough();
  silent.resume();
  const io = { stdin: new PassThrough(), stdout: silent, stderr: silent };
  const started = performance.now();
  const opened = await openImages(parseFlags(['-C', root], APKO_LOCK_FLAGS), io, (tree) => tree.images);
  if (!('source' in opened)) throw new Error(`the bench tree ${root} has no image`);
  const loadMs = performance.now() - started;
  globalThis.gc?.();
  const rssLoadedMiB = process.memoryUsage().rss / 2 ** 20;
  const run = async () => {
    const fetcher = new HeadFetcher({ cacheDir });
    const ctx: LockContext = { ...opened, fetcher, keyring: { memo: newKeyringMemo() } };
    const t = performance.now();
    const cpu = process.cpuUsage();
    let packages = 0;
    for (const image of opened.images) {
      const { lock } = await lockImage(image, ctx);
      renderLock(lock);
      packages += lock.contents.packages.length;
    }
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000, packages, reads: fetcher.requests };
  };
  const cold = await run();
  const warm = await run();
  const result: LockBench = {
    records: 0,
    images: opened.images.length,
    packagesLocked: cold.packages,
    loadMs,
    coldMs: cold.ms,
    warmMs: warm.ms,
    coldCpuMs: cold.cpuMs,
    warmCpuMs: warm.cpuMs,
    headReads: cold.reads,
    rssMiB: (globalThis.gc?.(), process.memoryUsage().rss / 2 ** 20),
    rssLoadedMiB,
  };
  process.stdout.write(JSON.stringify(result));
}

export async function measureLock(dir: string, records: number): Promise<LockBench> {
  const repo = join(dir, 'lock-repo');
  const { names, keyPath } = await writeRepo(repo, records);
  const root = join(dir, 'lock-tree');
  await writeTree(root, names, keyPath, repo);
  // 100 files: 90 images, each including one of the 10 bases.
  if (readApkoTree({ root }).images.length !== 90) throw new Error('the bench tree is not 90 images over 10 bases');
  // BENCH_LOCK_PROFILE=DIR writes the child's CPU profile there.
  const profile = process.env.BENCH_LOCK_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_LOCK_PROFILE}`]
    : [];
  const out = execFileSync(
    process.execPath,
    [...profile, '--expose-gc', fileURLToPath(import.meta.url), '--child', root, join(dir, 'lock-cache')],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return { ...(JSON.parse(out) as LockBench), records };
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!);
