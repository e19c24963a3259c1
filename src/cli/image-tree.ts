import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileConstraints, readApkoTree, type ApkoTree } from '../apko/tree.js';
import type { GivenFlag } from '../core/flags.js';
import { findDockerfiles } from '../dockerfile/dockerfile.js';
import { FileError, UsageError } from '../errors.js';
import { apkArchesOf, sourceOptions, type SourceValues, type TreeValues } from '../generate/command-options.js';
import { namesDockerfile, readDockerfileTree, type DockerfileTree } from '../generate/dockerfile-tree.js';
import { hasSource, openVersionSource, type SourceOptions } from '../generate/open-source.js';
import type { VersionSource } from '../generate/version-source.js';
import { warner, type CliIO } from './io.js';

/** What `pin` and `check` work on: the apko tree as apko resolves it, and the versions to hold it against. */
export interface ImageTree {
  root: string;
  /** `--arch`, as APK names, for files that name no archs. */
  fallbackArches: string[];
  tree: ApkoTree;
  /** The Dockerfiles and Containerfiles worked on (those named, else every one of the tree), each stage scoped. */
  dockerfiles: DockerfileTree;
  source: VersionSource;
  sourceOptions: SourceOptions;
}

/** The parsed command line of a command with SOURCE_FLAGS and TREE_FLAGS (and flags of its own). */
export interface TreeArgs {
  values: SourceValues & TreeValues;
  positionals: readonly string[];
  given: ReadonlyArray<GivenFlag<string>>;
}

/**
 * Reads the apko tree and the Dockerfiles the command line names and opens the indexes for them. Usage mistakes,
 * unreadable indexes and a server that is not an apk-indexer are thrown (UserErrors: main prints one line, exit 2);
 * files apko would refuse and Dockerfiles that cannot be read are the command's to report (`tree.failures`,
 * `dockerfiles.failures`).
 */
export async function openImageTree(
  args: TreeArgs,
  io: CliIO,
  read: {
    /** Read dependency data (`D:`, `p:` ...) beside the versions: always, or when the tree asks for it. */
    dependencies?: boolean | ((tree: ApkoTree) => boolean);
    /** Checks of the command's own options, before any index is read. */
    precheck?: (root: string) => void;
  } = {},
): Promise<ImageTree> {
  const { values } = args;
  const source = sourceOptions(values, args.given);
  if (!hasSource(source)) throw new UsageError('pass --index SRC, --config FILE or --server URL');
  const root = resolve(values.directory ?? '.');
  // A FILE named on the command line that cannot be read is a mistake in what was given (exit 2), not a finding.
  for (const named of args.positionals) {
    try {
      statSync(resolve(root, named));
    } catch (err) {
      throw FileError.of(named, err, 'cannot read');
    }
  }
  read.precheck?.(root);
  const fallbackArches = apkArchesOf(values.arch);
  const namedDockerfiles = args.positionals.filter(namesDockerfile);
  const namedApko = args.positionals.filter((p) => !namesDockerfile(p));
  const tree = readApkoTree({
    root,
    named: namedApko.length > 0 || namedDockerfiles.length === 0 ? namedApko : undefined,
    includePaths: values.includePath,
    repositoryAppend: values.repositoryAppend,
    buildRepositoryAppend: values.buildRepositoryAppend,
  });
  // Named Dockerfiles only: every apko file is read (a FROM may name one of its images), none is a target.
  if (namedApko.length === 0 && namedDockerfiles.length > 0) {
    tree.targets = [];
    tree.failures = [];
  }
  const dockerfilePaths = args.positionals.length > 0 ? namedDockerfiles : undefined;
  if (
    tree.targets.length === 0 &&
    tree.failures.length === 0 &&
    namedDockerfiles.length === 0 &&
    findDockerfiles(root).length === 0
  )
    throw new UsageError(`no FILE given and no apko file or Dockerfile under ${root}`);
  const constraints = [...fileConstraints(tree, fallbackArches).values()];
  const archesFor = (urls: readonly string[]) => {
    const wanted = constraints
      .flatMap((c) => c.images)
      .filter((i) => i.repositories.some((r) => urls.includes(r.url)))
      .flatMap((i) => i.arches);
    return wanted.length > 0
      ? [...new Set(wanted)]
      : [...new Set([...fallbackArches, ...tree.images.flatMap((i) => i.apkArches)])];
  };
  const opened = await openVersionSource(
    source,
    archesFor,
    warner(io),
    process.env,
    typeof read.dependencies === 'function' ? read.dependencies(tree) : (read.dependencies ?? false),
  );
  const dockerfiles = readDockerfileTree(root, dockerfilePaths, {
    tree,
    fallbackArches,
    known: opened.held,
    chosen: values.repository,
  });
  return { root, fallbackArches, tree, dockerfiles, source: opened, sourceOptions: source };
}
