import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** The file list `npm pack` would publish, from the built tree (`npm test` builds first). */
async function packedFiles(): Promise<string[]> {
  // --ignore-scripts: the prepare script (the build) has run already; the list is what counts.
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  return pack!.files.map((f) => f.path);
}

describe('what npm pack ships', () => {
  it('holds the CLI, the compiled src/ and config/, and no fixtures, benchmarks, tests or CI files', async () => {
    const files = await packedFiles();
    expect(files).toContain('package.json');
    expect(files).toContain('bin/apk-indexer.js');
    expect(files).toContain('dist/src/cli/main.js');
    expect(files).toContain('dist/src/serve/store.js');
    expect(files.some((f) => f.startsWith('config/'))).toBe(true);
    const unwanted = files.filter((f) =>
      /(^|\/)(fixtures|bench|test|tests|\.ci)(\/|$)|^dist-bench\/|\.test\.[jt]s$/.test(f),
    );
    expect(unwanted).toEqual([]);
    // Everything compiled comes from src/ (plus the JSON schemas it imports).
    expect(
      files.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/src/') && !f.startsWith('dist/schemas/')),
    ).toEqual([]);
  });
});
