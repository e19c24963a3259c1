import { existsSync, readFileSync } from 'node:fs';

/** The package version, found from both the TypeScript sources and the built files in dist/. */
function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'apk-indexer' && pkg.version) return pkg.version;
    }
  }
  return '0.0.0';
}

export const version: string = readVersion();
