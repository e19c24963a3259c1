import { resolve } from 'node:path';
import { readApkoTree, type TreeOptions } from '../apko/tree.js';
import type { ApkoFileError } from '../errors.js';
import { unknownPlaceholders, TAG_PLACEHOLDERS } from './tags.js';
import { affectedImages, releaseImages, type ReleaseImage } from './images.js';
import { findMelangeRecipes } from './recipes.js';
import { UserError } from '../errors.js';

export interface SelectOptions extends Omit<TreeOptions, 'named'> {
  /** FILE arguments: only the images built with them (the file itself, its includers, installers of a recipe). */
  files: readonly string[];
  fallbackArches: readonly string[];
  tagTemplates: readonly string[];
  /** Changed files (absolute); undefined: no change set, every image. */
  changed: readonly string[] | undefined;
}

export interface Selection {
  root: string;
  /** Every image of the tree (before FILE and change narrowing). */
  all: ReleaseImage[];
  /** The images selected, each with the changed (or named) files that select it; none when nothing narrows. */
  selected: { image: ReleaseImage; because: string[] }[];
  failures: ApkoFileError[];
}

/** The images of the tree, narrowed to those built with the FILEs and to those the changed files rebuild. */
export function selectImages(o: SelectOptions): Selection {
  const root = resolve(o.root);
  for (const template of o.tagTemplates) {
    const unknown = unknownPlaceholders(template);
    if (unknown.length > 0)
      throw new UserError(
        'usage',
        `--tag ${template}: no placeholder {{${unknown[0]}}} (known: ${TAG_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})`,
        { usage: true },
      );
  }
  const tree = readApkoTree({ ...o, root });
  const all = releaseImages(tree, {
    fallbackArches: o.fallbackArches,
    tagTemplates: o.tagTemplates,
    recipes: findMelangeRecipes(root),
  });
  let selected = all.map((image) => ({ image, because: [] as string[] }));
  if (o.files.length > 0) {
    const keep = new Set<ReleaseImage>();
    for (const file of o.files) {
      const holding = affectedImages(all, [resolve(root, file)], root);
      if (holding.length === 0)
        throw new UserError('usage', `${file}: no image of the tree under ${root} is built with it`);
      for (const h of holding) keep.add(h.image);
    }
    selected = selected.filter((s) => keep.has(s.image));
  }
  if (o.changed !== undefined) {
    const hit = new Map(affectedImages(all, o.changed, root).map((a) => [a.image, a.because]));
    selected = selected.flatMap((s) => (hit.has(s.image) ? [{ image: s.image, because: hit.get(s.image)! }] : []));
  }
  return { root, all, selected, failures: tree.failures };
}
