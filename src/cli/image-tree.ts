import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileConstraints, readApkoTree, type ApkoTree } from '../apko/tree.js';
import type { GivenFlag } from '../core/flags.js';
import { FileError, UsageError } from '../errors.js';
import { apkArchesOf, sourceOptions, type SourceValues, type TreeValues } from '../generate/command-options.js';
import { hasSource, openVersionSource, type SourceOptions } from '../generate/open-source.js';
import type { VersionSource } from '../generate/version-source.js';
import { warner, type CliIO } from './io.js';

/** What `pin` and `check` work on: the apko tree as apko resolves it, and the versions to hold it against. */
export interface ImageTree {
  root: string;
  /** `--arch`, as APK names, for files that name no archs. */
  fallbackArches: string[];
  tree: ApkoTree;
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
 * Reads the apko tree the command line names and opens the indexes for it. Usage mistakes, unreadable indexes and
 * a server that is not an apk-indexer are thrown (UserErrors: main prints one line, exit 2); files apko would
 * refuse are the command's to report (`tree.failures`).
 */
export async function openImageTree(
  args: TreeArgs,
  io: CliIO,
  read: {
    dependencies?: boolean;
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
  const tree = readApkoTree({
    root,
    named: [...args.positionals],
    includePaths: values.includePath,
    repositoryAppend: values.repositoryAppend,
    buildRepositoryAppend: values.buildRepositoryAppend,
  });
  if (tree.targets.length === 0 && tree.failures.length === 0)
    throw new UsageError(`no FILE given and no apko file under ${root}`);
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
  const opened = await openVersionSource(source, archesFor, warner(io), process.env, read.dependencies ?? false);
  return { root, fallbackArches, tree, source: opened, sourceOptions: source };
}
