import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This tool's own package.json, where it is installed: its folder, version and `repository` field (if any). */
export interface ToolPackage {
  /** The folder holding package.json: a git checkout, an unpacked npm tarball, a node_modules entry. */
  root: string | undefined;
  version: string;
  /** package.json's `repository` as written: a string (`github:owner/name`, a URL) or `{type, url}`. */
  repository: unknown;
}

/** Found from both the TypeScript sources and the built files in dist/. */
function readPackage(): ToolPackage {
  for (const rel of ['../../package.json', '../../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string; repository?: unknown };
      if (pkg.name === 'apk-indexer' && pkg.version)
        return { root: dirname(fileURLToPath(url)), version: pkg.version, repository: pkg.repository };
    }
  }
  return { root: undefined, version: '0.0.0', repository: undefined };
}

export const toolPackage: ToolPackage = readPackage();
export const version: string = toolPackage.version;
