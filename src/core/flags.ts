/**
 * Command-line flags, declared once: every command's flags are a table of these declarations, read by the one
 * parser below; the commands' --help and docs/commands.md are made from the same tables (src/cli/command.ts).
 *
 * Spellings follow Go's flag package (hown3d/renovate-apk-indexer's): `--name value`, `--name=value`, `-name value`
 * and `-name=value` are one flag. Short flags (`-C DIR`) are declared as such. A value may start with a dash
 * (`--first-load-timeout -1s`) but may not be another flag. `--` ends the flags. Every mistake is a UsageError
 * (code `usage`, exit 2) naming the flag as it was written, with the nearest known one suggested.
 */
import { UsageError } from '../errors.js';
import { nearest } from './nearest.js';
import { splitList } from './list.js';

/**
 * What a flag takes: `switch` nothing; `one` one value (given again, the last wins); `list` values that add up over
 * repeats, each split at commas (`--arch a,b --arch c`); `each` values that add up, each taken whole (`--env K=a,b`);
 * `rest` every following argument up to the next flag (`--from-apko a.yaml b.yaml`).
 */
export type Takes = 'switch' | 'one' | 'list' | 'each' | 'rest';

/** One flag: its spellings, what it takes, its help, and how each occurrence changes its value. */
export interface FlagSpec<V> {
  /** Spellings, canonical first: `--index`, then others (`-apk-index-url`, hown3d's) and short ones (`-C`). */
  readonly names: readonly string[];
  readonly takes: Takes;
  /** The value's placeholder in help (`SRC`, `a,b`, `DURATION`); empty for a switch. */
  readonly value: string;
  /** What it does, for --help and docs (Markdown code spans are shown plain in --help). */
  readonly doc: string;
  /** The default as help shows it, with what special values mean. */
  readonly defaultText?: string;
  /** The environment variable that sets the same thing (serve's settings). */
  readonly env?: string;
  /** Left out of --help (still accepted). */
  readonly hidden?: boolean;
  /** The value when the flag is not given. */
  initial(): V;
  /** The value after one more occurrence: `text` as given, `where` the flag as written (for errors). */
  add(current: V, text: string, where: string): V;
}

/** A command's flags by the name its code reads them under. */
export type FlagTable<V> = { readonly [K in keyof V]: FlagSpec<V[K]> };

/** The values a table's flags parse to. */
export type FlagValues<T> = { [K in keyof T]: T[K] extends FlagSpec<infer V> ? V : never };

interface Declared {
  names: readonly string[];
  value?: string;
  doc: string;
  defaultText?: string;
  env?: string;
  hidden?: boolean;
}

const spec = <V>(d: Declared, takes: Takes, initial: () => V, add: FlagSpec<V>['add']): FlagSpec<V> => ({
  ...d,
  value: d.value ?? '',
  takes,
  initial,
  add,
});

/** Builders of flag declarations, by what the flag takes. */
export const flag = {
  /** Given or not: true or false. */
  switch: (d: Declared): FlagSpec<boolean> =>
    spec<boolean>(
      d,
      'switch',
      () => false,
      () => true,
    ),
  /** One value as written; undefined when not given. */
  one: (d: Declared): FlagSpec<string | undefined> =>
    spec<string | undefined>(
      d,
      'one',
      () => undefined,
      (_, text) => text,
    ),
  /** One value, checked and converted by `parse` (which throws a UsageError naming `where`). */
  parsed: <T>(d: Declared, parse: (text: string, where: string) => T): FlagSpec<T | undefined> =>
    spec<T | undefined>(
      d,
      'one',
      () => undefined,
      (_, text, where) => parse(text, where),
    ),
  /** Values adding up over repeats, each split at commas: `--arch a,b --arch c` is a, b, c. */
  list: (d: Declared): FlagSpec<string[]> =>
    spec<string[]>(
      d,
      'list',
      () => [],
      (list, text) => [...list, ...splitList(text)],
    ),
  /** Values adding up over repeats, each taken whole. */
  each: (d: Declared): FlagSpec<string[]> =>
    spec<string[]>(
      d,
      'each',
      () => [],
      (list, text) => [...list, text],
    ),
  /** Every argument after the flag up to the next flag, adding up over repeats. */
  rest: (d: Declared): FlagSpec<string[]> =>
    spec<string[]>(
      d,
      'rest',
      () => [],
      (list, text) => [...list, text],
    ),
};

/** The `--help` every command takes. */
export const HELP_FLAG = flag.switch({ names: ['--help', '-h'], doc: 'this help' });

/** One flag as it was given, in order: where a flag's meaning depends on the one before it (`--alias`). */
export interface GivenFlag<K> {
  key: K;
  /** As written, without `=value`: `-apk-index-url`, `--index`. */
  spelling: string;
  text: string;
}

export interface ParsedArgs<V> {
  values: V;
  positionals: string[];
  given: Array<GivenFlag<Extract<keyof V, string>>>;
  /** `--help` (or `-h`) was given: every command takes it, without declaring it. */
  help: boolean;
}

const bare = (name: string) => name.replace(/^--?/, '');

/** Parses `argv` by `table` (and `--help`). Mistakes are UsageErrors naming the flag as written. */
export function parseFlags<V>(argv: readonly string[], table: FlagTable<V>): ParsedArgs<V> {
  const byName = new Map<string, Extract<keyof V, string>>();
  for (const key in table) for (const name of table[key].names) byName.set(bare(name), key);
  const values: Partial<V> = {};
  for (const key in table) values[key] = table[key].initial();
  const positionals: string[] = [];
  const given: ParsedArgs<V>['given'] = [];
  const isFlag = (arg: string) => {
    const name = bare(arg.replace(/=[\s\S]*$/, ''));
    return /^-./.test(arg) && (byName.has(name) || HELP_FLAG.names.includes(arg));
  };
  let collecting: Extract<keyof V, string> | undefined;
  let rest = false;
  let help = false;
  const helpNames = new Set(HELP_FLAG.names.map(bare));
  const take = (key: Extract<keyof V, string>, spelling: string, text: string) => {
    const declared = table[key];
    // Every key holds its initial value from the start; `??` only tells TypeScript so.
    values[key] = declared.add(values[key] ?? declared.initial(), text, spelling);
    given.push({ key, spelling, text });
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (rest || !/^-./.test(arg)) {
      if (collecting !== undefined && !rest) take(collecting, table[collecting].names[0]!, arg);
      else positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      rest = true;
      continue;
    }
    collecting = undefined;
    const eq = arg.indexOf('=');
    const spelling = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const key = byName.get(bare(spelling));
    if (key === undefined && helpNames.has(bare(spelling)) && inline === undefined) {
      help = true;
      continue;
    }
    if (key === undefined) throw new UsageError(`unknown option ${spelling}${suggestion(spelling, table)}`);
    const declared = table[key];
    if (declared.takes === 'switch') {
      if (inline !== undefined) throw new UsageError(`${spelling} takes no value`);
      take(key, spelling, '');
      continue;
    }
    let text = inline;
    if (text === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next === '--' || isFlag(next)) throw new UsageError(`${spelling} needs a value`);
      text = next;
      i++;
    }
    take(key, spelling, text);
    if (declared.takes === 'rest') collecting = key;
  }
  if (!isWhole(table, values)) throw new Error('parseFlags: a flag without a value');
  return { values, positionals, given, help };
}

/** Every flag of the table has its value. */
function isWhole<V>(table: FlagTable<V>, values: Partial<V>): values is V {
  for (const key in table) if (!(key in values)) return false;
  return true;
}

/** ` (did you mean --index?)`: the nearest declared spelling, or one the written name contains. */
function suggestion<V>(written: string, table: FlagTable<V>): string {
  const name = bare(written);
  const spellings = new Map<string, string>();
  for (const key in table) for (const n of table[key].names) if (!spellings.has(bare(n))) spellings.set(bare(n), n);
  const names = [...spellings.keys()].filter((n) => n.length > 1);
  const best =
    nearest(name, names, Math.max(2, Math.floor(name.length / 3))) ??
    names.find((n) => n.length > 2 && name.includes(n));
  return best === undefined ? '' : ` (did you mean ${spellings.get(best)}?)`;
}

/** The left column of a flag's help line: `-C, --directory DIR`, `--index, -apk-index-url SRC`. */
export function flagSynopsis(f: FlagSpec<unknown>): string {
  const short = f.names.filter((n) => /^-[A-Za-z]$/.test(n));
  const long = f.names.filter((n) => !short.includes(n));
  return `${[...short, ...long].join(', ')}${f.value ? ` ${f.value}` : ''}`;
}

/** The flag's help text, plain: its doc, then its environment variable and default. */
export function flagDoc(f: FlagSpec<unknown>): string {
  const extra = [f.env, f.defaultText ? `default: ${f.defaultText}` : undefined].filter(Boolean);
  return plain(extra.length ? `${f.doc.replace(/\.$/, '')} (${extra.join('; ')})` : f.doc);
}

/** Markdown code spans shown plain. */
export const plain = (text: string) => text.replace(/`/g, '');

/** The values of a table's flags a command was given (for "does not take" checks). */
export function givenKeys<V>(parsed: ParsedArgs<V>): Set<Extract<keyof V, string>> {
  return new Set(parsed.given.map((g) => g.key));
}
