import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ApkoFileError, ResolvedImage } from './apko-file.js';
import { resolveImages } from './command-options.js';

/** Folders no apko file of a repository lives in. */
const SKIPPED = new Set(['node_modules', 'dist', 'vendor']);

/**
 * Every apko file under `root` (relative, `/`-separated, sorted): every YAML file in the top `apko/` folder (the
 * convention, so a broken one is reported, not skipped), and elsewhere YAML whose top level is an apko image
 * configuration (`contents:` or `include:`, and none of melange's `package:`/`pipeline:`). Hidden folders
 * (`.git`) and dependency folders are skipped.
 */
export async function findApkoFiles(root: string, dir = ''): Promise<string[]> {
  const found: string[] = [];
  let entries;
  try {
    entries = await readdir(join(root, dir), { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !SKIPPED.has(entry.name)) found.push(...(await findApkoFiles(root, path)));
    } else if (entry.isFile() && /\.ya?ml$/.test(entry.name) && (dir === 'apko' || looksLikeApko(await readFile(join(root, path), 'utf8')))) {
      found.push(path);
    }
  }
  return found.sort();
}

function looksLikeApko(text: string): boolean {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return false;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const keys = Object.keys(doc);
  return (keys.includes('contents') || keys.includes('include')) && !keys.includes('package') && !keys.includes('pipeline');
}

/**
 * The images of a tree: every apko file resolved with its includes, keeping as images the files no other file
 * includes and those that name their own `archs:` (a base built on its own too). A fragment only included gets
 * its arches from its includers.
 */
export async function treeImages(root: string, includePaths: readonly string[] = []): Promise<{ files: string[]; images: ResolvedImage[]; failures: ApkoFileError[] }> {
  const files = await findApkoFiles(root);
  const { images, failures } = await resolveImages(files, { root, includePaths });
  const included = new Set(images.flatMap((image) => image.chain.slice(1).map((f) => f.path)));
  return { files, images: images.filter((image) => !included.has(image.file.path) || image.file.archs !== undefined), failures };
}
