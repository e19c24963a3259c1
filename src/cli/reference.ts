import type { FlagSpec } from '../core/flags.js';
import type { Command } from './command.js';

/** The first line of docs/commands.md: it is written by `npm run docs:generate`, never by hand. */
export const REFERENCE_HEADER =
  '<!-- generated from the command declarations (src/cli/commands/) by `npm run docs:generate`: do not edit -->';

const code = (s: string) => `\`${s}\``;
// A table row is one line: a doc written over several lines (as --help wraps it anyway) is joined with spaces.
const cell = (s: string) => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

function flagTable(flags: ReadonlyArray<FlagSpec<unknown>>): string[] {
  return [
    '| flag | value | what | default |',
    '| --- | --- | --- | --- |',
    ...flags
      .filter((f) => !f.hidden)
      .map(
        (f) =>
          `| ${f.names.map(code).join(', ')} | ${f.value ? cell(code(f.value)) : ''} | ${cell(f.doc)}${f.env ? ` (also ${code(f.env)})` : ''} | ${cell(f.defaultText ?? '')} |`,
      ),
  ];
}

/** docs/commands.md: every command's usage and flags, from the same declarations as their --help. */
export function commandsReference(commands: readonly Command[]): string {
  const lines = [
    REFERENCE_HEADER,
    '',
    '# Commands',
    '',
    'Every command of `apk-indexer` with its flags, as its `--help` shows them (both are made from the command',
    'declarations in `src/cli/commands/`). Every flag is also taken with one dash (`-index`) and as `--flag=value`;',
    'a mistyped one is named whole with the nearest known one (`unknown option --indx (did you mean --index?)`,',
    'exit 2, code `usage`). Exit statuses and error codes: [errors.md](errors.md); the settings of `serve` (file,',
    'environment, flags): [configuration.md](configuration.md).',
    '',
    ...commands.flatMap((c) => {
      const inSections = new Set(c.sections.flatMap((s) => s.flags));
      return [
        `## ${code(`apk-indexer ${c.name}`)}`,
        '',
        `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
        '',
        '```text',
        c.usage(),
        '```',
        '',
        ...flagTable(c.flags.filter((f) => !inSections.has(f))),
        '',
        ...c.sections.flatMap((s) => [`${s.title}:`, '', ...flagTable(s.flags), '']),
      ];
    }),
    '## Adding a command, a flag or a setting',
    '',
    '- A flag of a command: one entry in its `flags` table (`src/cli/commands/<command>.ts`, or the groups shared by',
    '  `pin`, `check` and `init` in `src/generate/command-options.ts`), built with `flag.switch`, `flag.one`,',
    '  `flag.parsed`, `flag.list`, `flag.each` or `flag.rest` (`src/core/flags.ts`). Its value arrives typed in the',
    "  command's `run` as `args.values.<name>`; its `--help` line and the table here come from the entry.",
    '- A command: a module in `src/cli/commands/` exporting `command = defineCommand({...})` (`src/cli/command.ts`:',
    '  name, summary, usage, what it does, flags, exit statuses, `run`), and one line in',
    '  `src/cli/commands/index.ts`.',
    '- A setting of `serve`: one entry in `src/config/options.ts` (file key, environment variable, flags, kind,',
    "  default, doc); it arrives typed in the service's settings, and becomes a flag of `serve` when it has `flags`.",
    '- Then `npm run docs:generate` rewrites this file and the tables of [configuration.md](configuration.md);',
    '  `test/config/options.test.ts` and `test/ship/docs-commands.test.ts` fail until it has.',
    '',
  ];
  return lines.join('\n');
}
