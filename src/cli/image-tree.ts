import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { fileConstraints, readApkoTree, type ApkoTree } from '../apko/tree.js';
import { apkArchesOf, sourceOptions, SOURCE_ARGS, TREE_ARGS } from '../generate/command-options.js';
import { GenerateInputError } from '../generate/errors.js';
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
    /** Read dependency data (`D:`, `p:` ...) beside the versions: always, or when the tree asks for it. */
    dependencies?: boolean | ((tree: ApkoTree) => boolean);
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
  const tree = readApkoTree({
    root,
    named: parsed.positionals,
    includePaths: common['include-path'] ?? [],
    repositoryAppend: common['repository-append'] ?? [],
    buildRepositoryAppend: common['build-repository-append'] ?? [],
  });
  if (tree.targets.length === 0 && tree.failures.length === 0)
    throw new GenerateInputError(`no FILE given and no apko file under ${root}`);
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
    typeof read.dependencies === 'function' ? read.dependencies(tree) : (read.dependencies ?? false),
  );
  return await body({ values, root, fallbackArches, tree, source: opened, sourceOptions: source });
}
