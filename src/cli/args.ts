import { parseArgs, type ParseArgsConfig } from 'node:util';
import { nearest } from '../core/nearest.js';
import { UsageError } from '../errors.js';

export { UsageError };

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, with errors in our words that name the whole option as written and the nearest known one. */
export function parseCommandArgs<T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError(describeArgsError(err as Error & { code?: string }, args, options));
  }
}

function describeArgsError(err: Error & { code?: string }, args: string[], options: Options): string {
  // parseArgs names the option in quotes: '-a' (the first letter of -apk-index-urls), '--bogus', '-h, --help'.
  const named = /'(-[^' ,]*)(?:, (--[^' ]+))?(?: <value>)?'/.exec(err.message);
  const option = named?.[2] ?? named?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const written = writtenArg(args, option) ?? option;
    const bare = written.replace(/^-+/, '');
    const hint =
      nearest(bare, Object.keys(options), Math.max(2, Math.floor(bare.length / 3))) ??
      Object.keys(options).find((o) => o.length > 2 && bare.includes(o));
    return `unknown option ${written}${hint ? ` (did you mean --${hint}?)` : ''}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return /argument missing/.test(err.message) ? `${option} needs a value` : `${option} takes no value`;
  }
  return err.message;
}

/** The argument as the user typed it (without any `=value`) that parseArgs reported by its first letter. */
function writtenArg(args: string[], option: string): string | undefined {
  for (const arg of args) {
    if (arg === '--') break;
    const name = arg.split('=')[0]!;
    if (option.startsWith('--') ? name === option : !arg.startsWith('--') && arg.startsWith(option)) return name;
  }
  return undefined;
}
