import { COMMAND_FLAGS, REPOSITORY_OPTIONS, type Option, type RepositoryOption } from './options.js';
import { SERVICE_ENTRIES } from './layer.js';

/** Markers around the generated tables in docs/configuration.md (`npm run docs:config` rewrites between them). */
export const DOC_BEGIN = '<!-- options table: generated from src/config/options.ts by `npm run docs:config` -->';
export const DOC_END = '<!-- end of options table -->';

const code = (s: string) => `\`${s}\``;
const flagsOf = (o: { flags?: readonly string[]; kind?: { placeholder: string; list?: true; secret?: true } }) =>
  o.kind?.secret ? '(none: keep secrets out of argv)' : (o.flags ?? []).map(code).join(', ');

/** The tables of docs/configuration.md's "Every setting". */
export function configurationTables(): string {
  const service = [
    '| setting | file key | environment | flag | default |',
    '| --- | --- | --- | --- | --- |',
    `| ${COMMAND_FLAGS.config.doc} | | ${code(COMMAND_FLAGS.config.env)} | ${code(`${COMMAND_FLAGS.config.flags[0]} FILE`)} | ${COMMAND_FLAGS.config.defaultText} |`,
    ...SERVICE_ENTRIES.map(
      ({ option }) =>
        `| ${option.doc} | ${option.file ? code(option.file) : ''} | ${option.env ? code(option.env) : ''} | ${flagsOf(option)} | ${option.defaultText} |`,
    ),
    `| ${COMMAND_FLAGS.fromApko.doc} | | | ${code(`${COMMAND_FLAGS.fromApko.flags[0]} ${COMMAND_FLAGS.fromApko.placeholder}`)} | |`,
    `| help | | | ${COMMAND_FLAGS.help.flags.map(code).join(', ')} | |`,
  ];
  const repository = [
    '| key | meaning | environment | flag | default |',
    '| --- | --- | --- | --- | --- |',
    ...Object.values(REPOSITORY_OPTIONS).map(
      (o: RepositoryOption<unknown>) =>
        `| ${code(o.file)} | ${o.doc} | ${o.env ? code(o.env) : ''} | ${flagsOf(o)} | ${o.defaultText} |`,
    ),
  ];
  return [
    DOC_BEGIN,
    '',
    ...service,
    '',
    'Each entry of `repositories` in the file takes these keys; in the environment and flags they are comma-separated',
    'lists (repeated flags add up) given beside the URL list (see [Repositories](#repositories)).',
    '',
    ...repository,
    '',
    DOC_END,
  ].join('\n');
}

const plain = (s: string) => s.replace(/`/g, '');

/** The option lines of `serve --help`. */
export function helpLines(): string {
  const rows: Array<[string, string]> = [];
  const add = (flags: readonly string[] | undefined, placeholder: string, text: string) => {
    // The canonical spelling only: the one-dash spellings are said once, below the list.
    const shown = flags?.filter((f, i) => i === 0 || /^-[a-z]$/.test(f));
    if (shown?.length) rows.push([`${shown.join(', ')}${placeholder ? ` ${placeholder}` : ''}`, text]);
  };
  const c = COMMAND_FLAGS;
  add(c.config.flags, c.config.placeholder, `${c.config.doc} (${c.config.env})`);
  for (const [, o] of Object.entries(REPOSITORY_OPTIONS) as Array<[string, RepositoryOption<unknown>]>) {
    add(
      o.flags,
      o.kind.placeholder,
      `${plain(o.doc)}; repeatable or a,b (${[o.env, `default: ${plain(o.defaultText)}`].filter(Boolean).join('; ')})`,
    );
  }
  add(c.fromApko.flags, c.fromApko.placeholder, plain(c.fromApko.doc));
  for (const { option } of SERVICE_ENTRIES as ReadonlyArray<{ option: Option<unknown> }>) {
    if (option.kind.secret) continue;
    add(
      option.flags,
      option.kind.placeholder,
      `${plain(option.doc)} (${[option.env, `default: ${plain(option.defaultText)}`].filter(Boolean).join('; ')})`,
    );
  }
  add(c.help.flags, '', c.help.doc);
  const width = Math.min(26, Math.max(...rows.map(([f]) => f.length)));
  const indent = ' '.repeat(width + 4);
  return rows
    .map(([f, t]) => {
      const lines = wrap(t, 116 - indent.length);
      const first = f.length > width ? `  ${f}\n${indent}` : `  ${f.padEnd(width)}  `;
      return first + lines.join(`\n${indent}`);
    })
    .join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
