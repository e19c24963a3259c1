/**
 * A command, declared once: its name, one-line summary, usage, what it does, its flags (a table of
 * src/core/flags.ts declarations), its exit statuses and what it runs. Its --help, the usage printed after a
 * command-line mistake, `apk-indexer --help` and docs/commands.md are all made from the declaration, and its
 * arguments are read by the one flag parser.
 *
 * Adding a flag to a command is one entry in its `flags` (then `npm run docs:generate`); its value arrives typed in
 * `run`'s `args.values`. Adding a command is a module under ./commands/ exporting `command = defineCommand({...})`,
 * plus one line in ./commands/index.ts (commands are loaded only when they run).
 */
import {
  flagDoc,
  flagSynopsis,
  HELP_FLAG,
  parseFlags,
  plain,
  type FlagSpec,
  type FlagTable,
  type ParsedArgs,
} from '../core/flags.js';
import type { CliIO } from './io.js';

/** The width --help and the docs wrap text to. */
export const HELP_WIDTH = 100;

export interface CommandSpec<V> {
  name: string;
  /** One line for `apk-indexer --help`. */
  summary: string;
  /** What follows `usage: apk-indexer NAME`, one line per form. */
  usage: readonly string[];
  /** What the command does: paragraphs (a blank line between), wrapped to the width; lines indented by two spaces are kept as written. */
  about: string;
  flags: FlagTable<V>;
  /** Flags listed under headings of their own (the kinds of `gen`); the others are listed under `options:`. */
  sections?: ReadonlyArray<{ title: string; keys: ReadonlyArray<keyof V> }>;
  /** More help after the flags (hown3d's spellings), in the same form as `about`. */
  more?: string;
  /** The exit statuses, after `Exit status:`. */
  exits: string;
  run(args: ParsedArgs<V>, io: CliIO): Promise<number>;
}

/** A declared command, as main runs it and the docs read it. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Its flags, in declaration order, `--help` last. */
  readonly flags: ReadonlyArray<FlagSpec<unknown>>;
  /** Its flags under headings of their own (the kinds of `gen`). */
  readonly sections: ReadonlyArray<{ title: string; flags: ReadonlyArray<FlagSpec<unknown>> }>;
  /** The whole --help text. */
  help(): string;
  /** The usage lines alone: what follows a command-line mistake. */
  usage(): string;
  /** Parses `argv` (printing the help for --help) and runs the command. */
  run(argv: readonly string[], io: CliIO): Promise<number>;
}

export function defineCommand<V>(spec: CommandSpec<V>): Command {
  const flags: Array<FlagSpec<unknown>> = [...Object.values<FlagSpec<unknown>>(spec.flags), HELP_FLAG];
  const usage = () =>
    spec.usage.map((u, i) => `${i === 0 ? 'usage:' : '      '} apk-indexer ${spec.name}${u ? ` ${u}` : ''}`).join('\n');
  const sections = (spec.sections ?? []).map((s) => ({
    title: s.title,
    flags: s.keys.map((key) => spec.flags[key]),
  }));
  const inSections = new Set<FlagSpec<unknown>>(sections.flatMap((s) => s.flags));
  const help = () =>
    [
      usage(),
      '',
      paragraphs(spec.about),
      '',
      'options:',
      flagLines(flags.filter((f) => !inSections.has(f))),
      ...sections.flatMap((s) => ['', paragraphs(`${s.title}:`), flagLines(s.flags)]),
      ...(spec.more ? ['', paragraphs(spec.more)] : []),
      '',
      paragraphs(`Exit status: ${spec.exits}`),
      '70 is a bug in apk-indexer; all statuses and error codes: docs/errors.md.',
      '',
    ].join('\n');
  return {
    name: spec.name,
    summary: spec.summary,
    flags,
    sections,
    help,
    usage,
    async run(argv, io) {
      const args = parseFlags(argv, spec.flags);
      if (args.help) {
        io.stdout.write(help());
        return 0;
      }
      return spec.run(args, io);
    },
  };
}

/** Flags as help lines: the spellings and value on the left, the doc wrapped beside them. */
export function flagLines(flags: ReadonlyArray<FlagSpec<unknown>>): string {
  const rows = flags.filter((f) => !f.hidden).map((f) => [flagSynopsis(f), flagDoc(f)] as const);
  const width = Math.min(28, Math.max(...rows.map(([left]) => left.length)));
  const indent = ' '.repeat(width + 4);
  return rows
    .map(([left, doc]) => {
      const lines = wrap(doc, HELP_WIDTH - indent.length);
      const first = left.length > width ? `  ${left}\n${indent}` : `  ${left.padEnd(width)}  `;
      return first + lines.join(`\n${indent}`);
    })
    .join('\n');
}

/** Paragraphs wrapped to the help's width; lines indented by two spaces (lists, examples) kept as written. */
export function paragraphs(text: string, width = HELP_WIDTH): string {
  return plain(text.trim())
    .split(/\n\s*\n/)
    .map((p) => {
      const lines = p.split('\n');
      if (lines.some((l) => l.startsWith('  '))) return lines.join('\n');
      return wrap(lines.map((l) => l.trim()).join(' '), width).join('\n');
    })
    .join('\n\n');
}

/** Words on lines of at most `width` characters (a longer word has a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
