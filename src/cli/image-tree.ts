import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { IndexError } from '../errors.js';
import { ApkoFileError, type ResolvedImage } from '../generate/apko-file.js';
import { ConfigError } from '../config/errors.js';
import { apkArchesOf, archesToLoad, resolveImages, sourceOptions, SOURCE_ARGS, TREE_ARGS } from '../generate/command-options.js';
import { treeImages } from '../generate/apko-tree.js';
import { GenerateInputError, VersionSourceError } from '../generate/errors.js';
import { hasSource, openVersionSource } from '../generate/open-source.js';
import type { VersionSource } from '../generate/version-source.js';
import { splitList } from '../config/layer.js';
import { parseCommandArgs, UsageError } from './args.js';
import type { CliIO } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP_ARG = { help: { type: 'boolean', short: 'h' } } as const;
type Parsed<O extends Options> = ReturnType<typeof parseCommandArgs<typeof SOURCE_ARGS & typeof TREE_ARGS & O & typeof HELP_ARG>>;
/** The options every such command has; TypeScript cannot see them through the generic `O`. */
type CommonValues = Parsed<typeof HELP_ARG>['values'];

/** What `pin` and `check` work on: the apko files as apko resolves them, and the versions to hold them against. */
export interface ImageTree<O extends Options> {
  values: Parsed<O>['values'];
  root: string;
  /** `--arch`, as APK names, for files that name no archs. */
  fallbackArches: string[];
  images: ResolvedImage[];
  /** Files that could not be read or whose includes did not resolve. */
  failures: ApkoFileError[];
  source: VersionSource;
}

/**
 * Parses a command's options, resolves its apko files and opens the indexes, then runs `body`. Usage mistakes,
 * bad input files and unreadable indexes exit 2 with one line naming them, the same way for every such command.
 */
export async function runOnImageTree<O extends Options>(
  command: string,
  help: string,
  options: O,
  args: string[],
  io: CliIO,
  body: (tree: ImageTree<O>) => Promise<number>,
): Promise<number> {
  let parsed: Parsed<O>;
  try {
    parsed = parseCommandArgs(args, { ...SOURCE_ARGS, ...TREE_ARGS, ...options, ...HELP_ARG });
    if ((parsed.values as CommonValues).help) {
      io.stdout.write(help);
      return 0;
    }
    if (!hasSource(sourceOptions(parsed.values))) throw new UsageError('pass --index SRC, --config FILE or --server URL');
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`apk-indexer ${command}: ${err.message}\n\n${help}`);
    return 2;
  }
  const values = parsed.values;
  const common = values as CommonValues;
  const root = resolve(common.directory ?? '.');
  try {
    const fallbackArches = apkArchesOf(splitList(common.arch));
    const includePaths = common['include-path'] ?? [];
    const { images, failures } = parsed.positionals.length > 0 ? await resolveImages(parsed.positionals, { root, includePaths }) : await treeImages(root, includePaths);
    if (images.length === 0 && failures.length === 0) throw new GenerateInputError(`no FILE given and no apko files under ${root}`);
    const source = await openVersionSource(sourceOptions(common), archesToLoad(images, fallbackArches), (m) => io.stderr.write(`warning: ${m}\n`));
    return await body({ values, root, fallbackArches, images, failures, source });
  } catch (err) {
    return reportFailure(command, help, err, io);
  }
}

/**
 * How `init`, `pin` and `check` report what stops them, exit 2: a bad option or value with the usage; a config
 * file mistake, an unreadable index, an unreadable apko file or a server that cannot answer with its message
 * alone. Anything else is a bug, shown with its stack.
 */
export function reportFailure(command: string, help: string, err: unknown, io: CliIO): number {
  if (err instanceof UsageError || err instanceof GenerateInputError) {
    io.stderr.write(`apk-indexer ${command}: ${err.message}\n\n${help}`);
  } else if (err instanceof IndexError || err instanceof ConfigError || err instanceof VersionSourceError || err instanceof ApkoFileError) {
    io.stderr.write(`apk-indexer ${command}: ${err.message}\n`);
  } else {
    io.stderr.write(`apk-indexer ${command}: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  return 2;
}
