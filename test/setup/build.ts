import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function newest(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
}

/** When dist/ was last built (the time of one file every build writes), 0 when it was not. */
function builtAt(): number {
  try {
    return statSync(join(root, 'dist', 'src', 'cli', 'commands', 'serve.js')).mtimeMs;
  } catch {
    return 0;
  }
}

/** True when dist/ holds a build at least as new as every source file. */
export const isBuilt = (): boolean => builtAt() >= newest(join(root, 'src'));

/** Builds dist/ when the sources are newer. Called once per run by the global setup, never from a worker. */
export function buildIfStale(): void {
  if (isBuilt()) return;
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
    { encoding: 'utf8' },
  );
  if (result.status !== 0 || result.error) throw new Error(`build failed: ${result.stdout}${result.stderr}`);
}
