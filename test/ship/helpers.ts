import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = join(ROOT, 'helm/apk-indexer');

export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
export const readYaml = <T = any>(path: string): T => parse(read(path)) as T;
export const readJson = <T = any>(path: string): T => JSON.parse(read(path)) as T;

/** Files under a folder of the repository, as repository-relative paths, sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs)) {
      const p = join(abs, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(ROOT, p));
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}

/** The image every example, the chart and the docs deploy: one name, one tag (package.json's version). */
export const IMAGE_REPOSITORY = 'ghcr.io/apk-indexer/apk-indexer';
export const VERSION: string = readJson<{ version: string }>('package.json').version;
export const IMAGE = `${IMAGE_REPOSITORY}:${VERSION}`;

/** The value at a dotted path of a parsed document, or undefined. */
export function at(doc: unknown, path: readonly (string | number)[]): any {
  let cur: any = doc;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[key];
  }
  return cur;
}

/**
 * The Node.js major of each image definition: Dockerfile `FROM node:N-...`, apko `nodejs-N`, melange's runtime
 * dependency `nodejs-N`. They must agree: the same service on the same Node.js line.
 */
export const nodeMajorOf = {
  dockerfile: (text: string) => [...text.matchAll(/^FROM\s+node:(\d+)[-.\w]*/gim)].map((m) => Number(m[1])),
  packages: (packages: string[]) =>
    packages
      .map((p) => /^nodejs-(\d+)(?:[=@<>~].*)?$/.exec(p)?.[1])
      .filter(Boolean)
      .map(Number),
};
