import { readConfigFile } from '../config/file.js';
import { repositoryUrl } from '../apko/repository.js';
import {
  fileConstraints as apkoFileConstraints,
  readApkoTree,
  type FileConstraint as ApkoFileConstraint,
} from '../apko/tree.js';
import { UsageError } from '../errors.js';
import { renovateConfig, type FileConstraint } from './renovate.js';
import type { RenovateConfig } from '../../schemas/renovate-config.js';

export interface TreeRenovateOptions {
  root: string;
  includePaths: readonly string[];
  /** APK arches for images that name none. */
  fallbackArches: readonly string[];
  /** apko's --repository-append and --build-repository-append, as CI passes them to apko build. */
  repositoryAppend?: readonly string[];
  buildRepositoryAppend?: readonly string[];
  /** The service's configuration file: its repository names make `?repository=` filters. */
  config: string | undefined;
  server: string;
  renovateMajor: number;
}

/** What the tree at `root` needs: its apko files, each with its constraint (gen renovate, and check's comparison). */
export async function treeConstraints(
  o: Omit<TreeRenovateOptions, 'server' | 'renovateMajor'>,
): Promise<Map<string, FileConstraint>> {
  const tree = readApkoTree({
    root: o.root,
    includePaths: o.includePaths,
    repositoryAppend: o.repositoryAppend ?? [],
    buildRepositoryAppend: o.buildRepositoryAppend ?? [],
  });
  if (tree.failures.length > 0) throw tree.failures[0]!;
  if (tree.targets.length === 0) throw new UsageError(`no apko files under ${o.root}`);
  const repositories =
    o.config === undefined ? [] : (readConfigFile(o.config).repositories ?? []).map((r) => r.settings);
  return renovateConstraints(
    apkoFileConstraints(tree, o.fallbackArches),
    o.config === undefined ? () => undefined : repositoryNamer(repositories, o.root),
  );
}

/** renovate.json for the tree at `root`. */
export async function treeRenovateConfig(o: TreeRenovateOptions): Promise<RenovateConfig> {
  return renovateConfig({ server: o.server, files: await treeConstraints(o), renovateMajor: o.renovateMajor });
}

/**
 * Every apko file of the tree with what Renovate must ask for it, from the apko model's constraints
 * (`fileConstraints` in src/apko/tree.ts): the arches of every image built with it, and the service's
 * repositories those images build from (tagged ones included: Renovate asks for `name` without the tag).
 * `repositoryName` maps an image repository URL to the service's name for it (undefined: not served, or names
 * unknown); a file whose repositories the service does not all serve gets no `?repository=` filter.
 */
export function renovateConstraints(
  constraints: ReadonlyMap<string, ApkoFileConstraint>,
  repositoryName: (url: string) => string | undefined,
): Map<string, FileConstraint> {
  const out = new Map<string, FileConstraint>();
  for (const [path, c] of constraints) {
    let names: Set<string> | undefined = new Set();
    for (const image of c.images) {
      const served = image.repositories.map((r) => repositoryName(r.url));
      if (served.length === 0 || served.some((n) => n === undefined)) names = undefined;
      else if (names) for (const n of served as string[]) names.add(n);
    }
    out.set(path, { arches: c.arches, repositories: [...(names ?? [])].sort() });
  }
  return out;
}

/** The service's repository names by URL and aliases (compared as the apko model compares repository URLs). */
export function repositoryNamer(
  repositories: readonly { name?: string; url: string; aliases?: readonly string[] }[],
  root = process.cwd(),
): (url: string) => string | undefined {
  const byUrl = new Map<string, string>();
  for (const r of repositories)
    for (const u of [r.url, ...(r.aliases ?? [])])
      byUrl.set(repositoryUrl(u, root), r.name ?? repositoryUrl(r.url, root));
  return (url) => byUrl.get(url);
}
