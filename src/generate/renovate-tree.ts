import { readConfigFile } from '../config/file.js';
import { repositoryUrl } from '../apko/repository.js';
import {
  fileConstraints as apkoFileConstraints,
  readApkoTree,
  type FileConstraint as ApkoFileConstraint,
} from '../apko/tree.js';
import { UsageError } from '../errors.js';
import { DEFAULT_ARCHES } from '../source/locations.js';
import { configuredRepositories, dockerfileConstraint, packageScope, readDockerfileTree } from './dockerfile-tree.js';
import { renovateConfig, type FileConstraint } from './renovate.js';
import type { RenovateConfig } from '../../schemas/renovate-config.js';

export interface TreeRenovateOptions {
  root: string;
  includePaths: readonly string[];
  /** APK arches for images that name none. */
  fallbackArches: readonly string[];
  /** `--arch` as given: the arches of Dockerfiles not built on an image of the tree (default: their repositories'). */
  dockerArches?: readonly string[];
  /** apko's --repository-append and --build-repository-append, as CI passes them to apko build. */
  repositoryAppend?: readonly string[];
  buildRepositoryAppend?: readonly string[];
  /** The service's configuration file: its repository names make `?repository=` filters. */
  config: string | undefined;
  /** `--repository`: the configured repositories `apk add` reads in Dockerfiles not built on an image of the tree. */
  dockerRepositories?: readonly string[];
  server: string;
  renovateMajor: number;
}

/** What Renovate must ask for each file of the tree: apko files, and Dockerfiles with `apk add` pins. */
export interface TreeConstraints {
  files: Map<string, FileConstraint>;
  /** undefined: the file gets no rule (its stages disagree, or are not checked: `notes` says why). */
  dockerfiles: Map<string, FileConstraint | undefined>;
  /** Why a Dockerfile gets no rule, one line each. */
  notes: string[];
}

/** What the tree at `root` needs: its apko files and Dockerfiles, each with its constraint. */
export async function treeConstraints(
  o: Omit<TreeRenovateOptions, 'server' | 'renovateMajor'>,
): Promise<TreeConstraints> {
  const tree = readApkoTree({
    root: o.root,
    includePaths: o.includePaths,
    repositoryAppend: o.repositoryAppend ?? [],
    buildRepositoryAppend: o.buildRepositoryAppend ?? [],
  });
  if (tree.failures.length > 0) throw tree.failures[0]!;
  const repositories =
    o.config === undefined ? [] : (readConfigFile(o.config).repositories ?? []).map((r) => r.settings);
  const namer = o.config === undefined ? () => undefined : repositoryNamer(repositories, o.root);
  const known = configuredRepositories(repositories, (u) => repositoryUrl(u, o.root), DEFAULT_ARCHES);
  if ((o.dockerRepositories ?? []).length > 0 && o.config === undefined)
    throw new UsageError('--repository names repositories of the service: pass --config FILE too');
  const docker = readDockerfileTree(o.root, undefined, {
    tree,
    fallbackArches: o.dockerArches ?? [],
    imageFallbackArches: o.fallbackArches,
    known,
    chosen: o.dockerRepositories ?? [],
  });
  if (docker.failures.length > 0) throw new UsageError(docker.failures[0]!);
  const withPins = docker.files.filter((d) => d.file.packages.length > 0);
  if (tree.targets.length === 0 && withPins.length === 0)
    throw new UsageError(`no apko files and no Dockerfile with apk add under ${o.root}`);
  const files = renovateConstraints(apkoFileConstraints(tree, o.fallbackArches), namer);
  const dockerfiles = new Map<string, FileConstraint | undefined>();
  const notes: string[] = [];
  for (const d of withPins) {
    const image = dockerfileConstraint(d);
    if (!image) {
      const why = [...new Set(d.file.packages.map((p) => packageScope(d, p.stage)))]
        .flatMap((s) => ('notChecked' in s ? [s.notChecked] : []))
        .join('; ');
      notes.push(
        `${d.file.path}: no rule, Renovate asks the default URL (versions on every arch holding a package): ${why || 'its stages build on images of different arches or repositories'}`,
      );
      dockerfiles.set(d.file.path, undefined);
      continue;
    }
    const constraint = renovateConstraints(
      new Map([
        [d.file.path, { file: d.file.path, images: [image], arches: image.arches, repositories: image.repositories }],
      ]),
      namer,
    ).get(d.file.path)!;
    dockerfiles.set(d.file.path, constraint);
  }
  return { files, dockerfiles, notes };
}

/** renovate.json for the tree at `root`; `notes` say which Dockerfiles get no rule, and why. */
export async function treeRenovateConfig(
  o: TreeRenovateOptions,
  notes: (line: string) => void = () => {},
): Promise<RenovateConfig> {
  const c = await treeConstraints(o);
  for (const note of c.notes) notes(note);
  return renovateConfig({
    server: o.server,
    files: c.files,
    dockerfiles: c.dockerfiles,
    renovateMajor: o.renovateMajor,
  });
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
