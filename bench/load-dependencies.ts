import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DependencyIndexReader } from '../src/index/dependency-index.js';
import { loadIndex } from '../src/load/load-index.js';
import { VersionMap } from '../src/index/version-map.js';
import { loadTrustedKeys } from '../src/load/load-keys.js';
import { writeScaleRepo } from './wolfi-scale.js';

/**
 * What `check` pays for dependency data (D: and p:, kept only by check, never by the service): resident memory
 * of one Wolfi-scale index loaded as the service loads it, and loaded with the dependency reader beside it.
 * Run: node --expose-gc dist-bench/bench/load-dependencies.js [records]
 */
const gc = () => (globalThis as { gc?: () => void }).gc?.();

if (process.argv[2] === '--child') {
  const [, , , indexPath, keyPath, mode] = process.argv as [string, string, string, string, string, string];
  const keys = await loadTrustedKeys([keyPath]);
  const reader = mode === 'dependencies' ? new DependencyIndexReader() : undefined;
  const result = await loadIndex(
    { url: indexPath, arch: 'x86_64', repository: 'bench' },
    { keys, ...(reader && { also: reader }) },
  );
  if (result.notModified) throw new Error('unexpected 304');
  const map = new VersionMap([result.snapshot]);
  gc();
  await new Promise((r) => setTimeout(r, 100));
  gc();
  const mem = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      names: map.names().length,
      dependencyRecords: reader?.index?.records.length,
    }),
  );
} else {
  const records = Number(process.argv[2] ?? 250_000);
  const dir = await mkdtemp(join(tmpdir(), 'apk-deps-bench-'));
  try {
    const repo = await writeScaleRepo(dir, { records });
    const self = fileURLToPath(import.meta.url);
    const run = (mode: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['--expose-gc', self, '--child', repo.indexPath, repo.keyPath, mode], {
          encoding: 'utf8',
        }),
      ) as { rss: number; heapUsed: number; dependencyRecords?: number };
    const versions = run('versions');
    const withDeps = run('dependencies');
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    console.log(`${records} records, ${(repo.textBytes / 2 ** 20).toFixed(1)} MiB of APKINDEX text`);
    console.log(`  version map only (the service):  RSS ${mib(versions.rss)}, heap ${mib(versions.heapUsed)}`);
    console.log(
      `  with dependency data (check):    RSS ${mib(withDeps.rss)}, heap ${mib(withDeps.heapUsed)} (${withDeps.dependencyRecords} records)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
