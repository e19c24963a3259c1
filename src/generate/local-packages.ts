import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * Names of the packages the melange recipes in `dir` build (packages and subpackages). Images install them from
 * the local ./packages repository (`apko build --repository-append ./packages`), so the indexes do not know them
 * until they are published. A missing directory means none; a file that is not a recipe is skipped.
 */
export async function localPackageNames(dir: string): Promise<Set<string>> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw err;
  }
  const names = new Set<string>();
  for (const name of entries.filter((e) => /\.ya?ml$/.test(e)).sort()) {
    let recipe: unknown;
    try {
      recipe = parse(await readFile(join(dir, name), 'utf8'));
    } catch {
      continue;
    }
    const r = recipe as { package?: { name?: unknown }; subpackages?: unknown } | null;
    if (typeof r?.package?.name === 'string') names.add(r.package.name);
    if (Array.isArray(r?.subpackages)) {
      for (const sub of r.subpackages as { name?: unknown }[]) if (typeof sub?.name === 'string') names.add(sub.name);
    }
  }
  return names;
}
