import { isMap, parseDocument } from 'yaml';
import { findYamlFiles } from '../apko/tree.js';

/** One melange recipe: what it builds and what its packages need at run time (names, constraints dropped). */
export interface MelangeRecipe {
  /** Absolute path. */
  path: string;
  /** package.name, then each subpackage's name (`${{package.name}}` substituted). */
  packages: string[];
  /** The names they provide (`dependencies.provides`). */
  provides: string[];
  /** The runtime dependencies of the package and its subpackages, as names. */
  runtime: string[];
}

/** A melange recipe: a mapping whose `package` names the package, beside a `pipeline` or `subpackages`. */
export function looksLikeMelange(text: string): boolean {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return false;
  const value = doc.toJS() as Record<string, unknown>;
  const pkg = value.package as { name?: unknown } | null | undefined;
  return typeof pkg?.name === 'string' && ('pipeline' in value || 'subpackages' in value);
}

/** Reads a recipe's names; undefined when the text is not a melange recipe. */
export function readMelangeRecipe(text: string, path: string): MelangeRecipe | undefined {
  let value: unknown;
  try {
    value = parseDocument(text).toJS();
  } catch {
    return undefined;
  }
  const recipe = value as {
    package?: { name?: unknown; dependencies?: Dependencies };
    subpackages?: { name?: unknown; dependencies?: Dependencies }[];
  } | null;
  const name = recipe?.package?.name;
  if (typeof name !== 'string') return undefined;
  const expand = (s: string) => s.replaceAll('${{package.name}}', name);
  const parts = [recipe!.package!, ...(Array.isArray(recipe!.subpackages) ? recipe!.subpackages : [])];
  const packages: string[] = [];
  const provides: string[] = [];
  const runtime: string[] = [];
  for (const part of parts) {
    if (typeof part?.name === 'string') packages.push(expand(part.name));
    provides.push(...names(part?.dependencies?.provides).map(expand));
    runtime.push(...names(part?.dependencies?.runtime).map(expand));
  }
  return { path, packages: [...new Set(packages)], provides: [...new Set(provides)], runtime: [...new Set(runtime)] };
}

type Dependencies = { runtime?: unknown; provides?: unknown };

/** `name`, `name>=1.2`, `name=1.2-r0` -> `name`; non-strings dropped. */
function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((d) => (typeof d === 'string' && /^[^<>=~\s]+/.test(d) ? [/^[^<>=~\s]+/.exec(d)![0]] : []));
}

/** Every melange recipe under `root`, found by content wherever it lives (the folders apko files are looked for in). */
export function findMelangeRecipes(root: string): MelangeRecipe[] {
  return findYamlFiles(root, looksLikeMelange).flatMap((f) => readMelangeRecipe(f.text, f.path) ?? []);
}

/**
 * The recipes an image depends on: those building a name it installs, then, through their runtime dependencies,
 * the recipes building those, and so on. Dependencies on packages from the image's repositories are not followed:
 * that needs the indexes, and a repository's package does not depend on a recipe of this tree.
 */
export function recipesFor(installs: Iterable<string>, recipes: readonly MelangeRecipe[]): MelangeRecipe[] {
  const wanted = [...installs];
  const seen = new Set<string>();
  const found = new Set<MelangeRecipe>();
  while (wanted.length > 0) {
    const name = wanted.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const recipe of recipes) {
      if (found.has(recipe) || !(recipe.packages.includes(name) || recipe.provides.includes(name))) continue;
      found.add(recipe);
      wanted.push(...recipe.runtime);
    }
  }
  return recipes.filter((r) => found.has(r));
}
