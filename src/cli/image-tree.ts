import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { fileConstraints, readApkoTree, type ApkoTree } from '../apko/tree.js';
import { apkArchesOf, sourceOptions, SOURCE_ARGS, TREE_ARGS } from '../generate/command-options.js';
import { GenerateInputError } from '../generate/errors.js';
import { findDockerfiles } from '../dockerfile/dockerfile.js';
import { namesDockerfile, readDockerfileTree, type DockerfileTree } from '../generate/dockerfile-tree.js';
import { hasSource, openVersionSource, type SourceOptions } from '../generate/open-source.js';
import type { VersionSource } from '../generate/version-source.js';
import { splitList } from '../config/layer.js';
import { parseCommandArgs, UsageError } from './args.js';
import type { CliIO } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP_ARG = { help: { type: 'boolean', short: 'h' } } as const;
type Parsed<O extends Options> = ReturnType<
  typeof parseCommandArgs<typeof SOURCE_ARGS & typeof TREE_ARGS & O & typeof HELP_ARG>
>;
/** The options every such command has; TypeScript cannot see them through the generic `O`. */
type CommonValues = Parsed<typeof HELP_ARG>['values'];

/** What `pin` and `check` work on: the apko tree as apko resolves it, and the versions to hold it against. */
export interface ImageTree<O extends Options> {
  values: Parsed<O>['values'];
  root: string;
  /** `--arch`, as APK names, for files that name no archs. */
  fallbackArches: string[];
  tree: ApkoTree;
  /** The Dockerfiles and Containerfiles worked on (those named, else every one of the tree), each stage scoped. */
  dockerfiles: DockerfileTree;
  source: VersionSource;
  sourceOptions: SourceOptions;
}

/**
 * Parses a command's options, reads the apko tree and opens the indexes, then runs `body`. Usage mistakes,
 * unreadable indexes and a server that is not an apk-indexer are thrown (UserErrors: main prints one line, exit 2);
 * files apko would refuse are the body's to report (`tree.failures`).
 */
export async function runOnImageTree<O extends Options>(
  help: string,
  options: O,
  args: string[],
  io: CliIO,
  body: (tree: ImageTree<O>) => Promise<number>,
  read: {
    dependencies?: boolean;
    /** Checks of the command's own options, before any index is read. */ precheck?: (
      values: Parsed<O>['values'],
      root: string,
    ) => void;
  } = {},
): Promise<number> {
  const parsed: Parsed<O> = parseCommandArgs(args, { ...SOURCE_ARGS, ...TREE_ARGS, ...options, ...HELP_ARG });
  if ((parsed.values as CommonValues).help) {
    io.stdout.write(help);
    return 0;
  }
  const source: SourceOptions = sourceOptions(parsed.values, parsed.tokens);
  if (!hasSource(source)) throw new UsageError('pass --index SRC, --config FILE or --server URL');
  const values = parsed.values;
  const common = values as CommonValues;
  const root = resolve(common.directory ?? '.');
  read.precheck?.(values, root);
  const fallbackArches = apkArchesOf(splitList(common.arch));
  const namedDockerfiles = parsed.positionals.filter(namesDockerfile);
  const namedApko = parsed.positionals.filter((p) => !namesDockerfile(p));
  const tree = readApkoTree({
    root,
    named: namedApko.length > 0 || namedDockerfiles.length === 0 ? namedApko : undefined,
    includePaths: common['include-path'] ?? [],
    repositoryAppend: common['repository-append'] ?? [],
    buildRepositoryAppend: common['build-repository-append'] ?? [],
  });
  // Named Dockerfiles only: every apko file is read (a FROM may name one of its images), none is a target.
  if (namedApko.length === 0 && namedDockerfiles.length > 0) {
    tree.targets = [];
    tree.failures = [];
  }
  const dockerfilePaths = parsed.positionals.length > 0 ? namedDockerfiles : undefined;
  if (tree.targets.length === 0 && tree.failures.length === 0 && namedDockerfiles.length === 0 && !hasDockerfiles(root))
    throw new GenerateInputError(`no FILE given and no apko file or Dockerfile under ${root}`);
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
    (m) => io.stderr.write(`warning: ${m}\n`),
    process.env,
    read.dependencies ?? false,
  );
  const dockerfiles = readDockerfileTree(root, dockerfilePaths, {
    tree,
    fallbackArches,
    known: opened.held,
    chosen: splitList(common.repository),
  });
  return await body({ values, root, fallbackArches, tree, dockerfiles, source: opened, sourceOptions: source });
}

function hasDockerfiles(root: string): boolean {
  return findDockerfiles(root).length > 0;
}
