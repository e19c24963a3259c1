import { readConfigFile } from '../config/file.js';
import type { ApkoFile, ResolvedImage } from './apko-file.js';
import { treeImages } from './apko-tree.js';
import { GenerateInputError } from './errors.js';
import { archesByFile } from './file-arches.js';
import { renovateConfig, type FileConstraint } from './renovate.js';
import type { RenovateConfig } from '../../schemas/renovate-config.js';

export interface TreeRenovateOptions {
  root: string;
  includePaths: readonly string[];
  /** APK arches for images that name none. */
  fallbackArches: readonly string[];
  /** The service's configuration file: its repository names make `?repository=` filters. */
  config: string | undefined;
  server: string;
  renovateMajor: number;
}

/** What the tree at `root` needs: its apko files, each with its constraint (gen renovate, and check's comparison). */
export async function treeConstraints(o: Omit<TreeRenovateOptions, 'server' | 'renovateMajor'>): Promise<Map<string, FileConstraint>> {
  const { files, images, failures } = await treeImages(o.root, o.includePaths);
  if (failures.length > 0) throw failures[0]!;
  if (files.length === 0) throw new GenerateInputError(`no apko files under ${o.root}`);
  const repositories = o.config === undefined ? [] : (readConfigFile(o.config).repositories ?? []).map((r) => r.settings);
  return fileConstraints(images, o.fallbackArches, o.config === undefined ? () => undefined : repositoryNamer(repositories));
}

/** renovate.json for the tree at `root`. */
export async function treeRenovateConfig(o: TreeRenovateOptions): Promise<RenovateConfig> {
  return renovateConfig({ server: o.server, files: await treeConstraints(o), renovateMajor: o.renovateMajor });
}

/**
 * Every apko file of the tree with what Renovate must ask for it: the arches of every image built with it, and
 * the service's repositories those images build from. `repositoryName` maps an apko repository URL to the
 * service's name for it (undefined: not served, or names unknown); a file whose repositories the service does
 * not all serve gets no `?repository=` filter.
 */
export function fileConstraints(
  images: readonly ResolvedImage[],
  fallbackArches: readonly string[],
  repositoryName: (url: string) => string | undefined,
): Map<string, FileConstraint> {
  const arches = archesByFile(images, fallbackArches);
  const repositories = new Map<string, Set<string> | undefined>();
  for (const image of images) {
    const urls = image.chain.flatMap(repositoryUrls);
    const names = urls.map(repositoryName);
    const served = names.every((n) => n !== undefined) && names.length > 0 ? new Set(names) : undefined;
    for (const file of image.chain) {
      if (!repositories.has(file.path)) repositories.set(file.path, served && new Set(served));
      else {
        const seen = repositories.get(file.path);
        if (seen && served) for (const n of served) seen.add(n);
        else repositories.set(file.path, undefined);
      }
    }
  }
  return new Map(
    [...arches].map(([path, a]) => [path, { arches: a.arches, repositories: [...(repositories.get(path) ?? [])].sort() }]),
  );
}

/** `contents.repositories` of one file, without tagged ones (`@local /path`): those are not in any index. */
function repositoryUrls(file: ApkoFile): string[] {
  const list = (file.doc.toJS() as { contents?: { repositories?: unknown } } | null)?.contents?.repositories;
  if (!Array.isArray(list)) return [];
  return list.filter((r): r is string => typeof r === 'string' && !r.trim().startsWith('@')).map((r) => r.trim());
}

/** The service's repository names by URL (trailing slashes ignored), from its configuration. */
export function repositoryNamer(repositories: readonly { name?: string; url: string }[]): (url: string) => string | undefined {
  const byUrl = new Map(repositories.map((r) => [trim(r.url), r.name ?? trim(r.url)]));
  return (url) => byUrl.get(trim(url));
}

function trim(url: string): string {
  return url.replace(/\/+$/, '');
}
