import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { toApkArch } from './arch.js';
import { ApkoFileError } from '../errors.js';
import { readApkoFile, type ApkoFile, type ImageSettings, type PackageEntry } from './file.js';
import { parseRepository, uniqueRepositories, type ImageRepository, type RepositoryOrigin } from './repository.js';

export { type ApkoFile, type ImageSettings, type PackageEntry } from './file.js';

/** An image as apko builds it: the file merged with its `include:` chain, the including file winning. */
export interface ResolvedImage extends ImageSettings {
  file: ApkoFile;
  /** The file first, then what it includes, and so on. */
  chain: ApkoFile[];
  /** `archs` as written (nearest file that sets them), and their APK names. */
  archs: string[];
  apkArches: string[];
  unknownArchs: string[];
  /** Where the unknown archs are written (`file:line`), in the same order. */
  unknownArchLocations: string[];
  /** Included packages first, as apko concatenates them. */
  packages: PackageEntry[];
  /**
   * What `apko build` resolves packages from: `build_repositories`, `repositories` and the appended ones
   * (`--build-repository-append`, `--repository-append`), each once. `runtime_repositories` are not among them:
   * apko writes them into the image and never reads them while building.
   */
  repositories: ImageRepository[];
  runtimeRepositories: ImageRepository[];
  /** Keys as written, resolved against the working directory when they are paths. */
  keyring: string[];
}

export interface ResolveOptions {
  /** apko's working directory: file arguments, `include:` and local repositories are resolved against it. */
  root: string;
  /** apko's `--include-paths`, tried after the working directory. */
  includePaths?: readonly string[];
  /** apko's `--repository-append` and `--build-repository-append`, added to every image. */
  repositoryAppend?: readonly string[];
  buildRepositoryAppend?: readonly string[];
}

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/**
 * Loads a file and its `include:` chain as apko does (`ImageConfiguration.Load`): each include is looked up as
 * written against the working directory, then under each include path; the included configuration is merged
 * under the including one (lists concatenated, included first; scalars and `archs` from the nearest file).
 */
export function resolveImage(
  path: string,
  options: ResolveOptions,
  read: (path: string) => ApkoFile = (p) => readApkoFile(p, options.root),
): ResolvedImage {
  const chain: ApkoFile[] = [read(path)];
  const seen = new Set([chain[0]!.absolutePath]);
  for (let file = chain[0]!; file.include !== undefined; file = chain[chain.length - 1]!) {
    const target = findInclude(file.include, options);
    if (target === undefined) {
      throw new ApkoFileError(
        file.path,
        `include: ${file.include} not found (apko resolves it against its working directory ${options.root}, not against ${file.path})`,
        file.includeLine,
      );
    }
    if (seen.has(target))
      throw new ApkoFileError(
        file.path,
        `include: ${file.include} includes itself through its chain`,
        file.includeLine,
      );
    seen.add(target);
    chain.push(read(target));
  }
  const nearest = <T>(pick: (f: ApkoFile) => T | undefined): T | undefined => {
    for (const f of chain) {
      const v = pick(f);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const archsFile = chain.find((f) => f.archs && f.archs.length > 0);
  const archs = archsFile?.archs ?? [];
  const apkArches = archs.map((a) => toApkArch(a.value));
  const bottomUp = [...chain].reverse();
  const repositories: ImageRepository[] = [];
  const runtimeRepositories: ImageRepository[] = [];
  const add = (
    into: ImageRepository[],
    written: string,
    origin: RepositoryOrigin,
    where: string,
    file?: ApkoFile,
    line?: number,
  ) => {
    const repo = parseRepository(written, options.root, origin, where);
    if (!repo)
      throw new ApkoFileError(
        file?.path ?? origin,
        `repository ${JSON.stringify(written)}: expected URL or "@tag URL"`,
        line,
      );
    into.push(repo);
  };
  for (const f of bottomUp)
    for (const r of f.buildRepositories)
      add(repositories, r.value, 'build_repositories', `${f.path}:${r.line}`, f, r.line);
  for (const f of bottomUp)
    for (const r of f.repositories) add(repositories, r.value, 'repositories', `${f.path}:${r.line}`, f, r.line);
  for (const r of options.buildRepositoryAppend ?? [])
    add(repositories, r, '--build-repository-append', '--build-repository-append');
  for (const r of options.repositoryAppend ?? []) add(repositories, r, '--repository-append', '--repository-append');
  for (const f of bottomUp)
    for (const r of f.runtimeRepositories)
      add(runtimeRepositories, r.value, 'repositories', `${f.path}:${r.line}`, f, r.line);
  return {
    file: chain[0]!,
    chain,
    archs: archs.map((a) => a.value),
    apkArches: [...new Set(apkArches.filter((a): a is string => a !== undefined))],
    unknownArchs: archs.filter((_, i) => apkArches[i] === undefined).map((a) => a.value),
    unknownArchLocations: archs.flatMap((a, i) => (apkArches[i] === undefined ? [`${archsFile!.path}:${a.line}`] : [])),
    packages: bottomUp.flatMap((f) => f.packages),
    repositories: uniqueRepositories(repositories),
    runtimeRepositories: uniqueRepositories(runtimeRepositories),
    keyring: [
      ...new Set(
        bottomUp.flatMap((f) =>
          f.keyring.map((k) => (isUrl(k.value) || isAbsolute(k.value) ? k.value : resolve(options.root, k.value))),
        ),
      ),
    ],
    // Included first, the including file winning; own properties whatever the key (Object.assign would set a prototype).
    annotations: Object.fromEntries(bottomUp.flatMap((f) => Object.entries(f.annotations))),
    cmd: nearest((f) => f.cmd || undefined),
    entrypoint: nearest((f) => f.entrypoint || undefined),
    stopSignal: nearest((f) => f.stopSignal || undefined),
    runAs: nearest((f) => f.runAs || undefined),
  };
}

/** apko's `paths.ResolvePath`: the path as written (against the working directory), then under each include path. */
function findInclude(include: string, options: ResolveOptions): string | undefined {
  const candidates = isAbsolute(include)
    ? [include]
    : [
        resolve(options.root, include),
        ...(options.includePaths ?? []).map((p) => resolve(options.root, join(p, include))),
      ];
  return candidates.find(isFile);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
