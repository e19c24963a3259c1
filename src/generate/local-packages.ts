import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMelangeRecipe } from '../release/recipes.js';

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
    const path = join(dir, name);
    for (const pkg of readMelangeRecipe(await readFile(path, 'utf8'), path)?.packages ?? []) names.add(pkg);
  }
  return names;
}
