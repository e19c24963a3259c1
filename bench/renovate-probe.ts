import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * An installed Renovate package, outside this project (not a dependency):
 *   npm install --prefix /tmp/renovate-probe renovate@39.264.1   # the newest that runs on Node 20
 * The benches load its modules directly; nothing here reaches the network.
 */
export interface InstalledRenovate {
  dir: string;
  version: string;
  major: number;
  hasMaxMajorIncrement: boolean;
  /** Loads a module of its dist/ tree, e.g. `modules/versioning/index.js`. */
  load<T>(module: string): Promise<T>;
}

export function installedRenovate(dir: string): InstalledRenovate {
  process.env.LOG_LEVEL ??= 'fatal';
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  const options = readFileSync(join(dir, 'dist/config/options/index.js'), 'utf8');
  return {
    dir,
    version,
    major: Number(version.split('.')[0]),
    hasMaxMajorIncrement: options.includes('"maxMajorIncrement"'),
    load: async <T>(module: string) => (await import(pathToFileURL(join(dir, 'dist', module)).href)) as T,
  };
}

/** The package directories named on the command line, or a usage line and exit code 2. */
export function renovateDirs(script: string): string[] {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) {
    console.error(
      `usage: node dist-bench/bench/${script}.js RENOVATE_PACKAGE_DIR...  (e.g. /tmp/renovate-probe/node_modules/renovate)`,
    );
    process.exitCode = 2;
  }
  return dirs;
}
