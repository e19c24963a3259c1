import { HELP_FLAG } from '../core/flags.js';
import { CONFIG_FLAG, FROM_APKO_FLAG, type Option, type RepositoryOption } from './options.js';
import { LIMIT_TABLE, REPOSITORY_TABLE, SERVICE_TABLE } from './layer.js';

/** Markers around the generated tables in docs/configuration.md (`npm run docs:generate` rewrites between them). */
export const DOC_BEGIN = '<!-- options table: generated from src/config/options.ts by `npm run docs:generate` -->';
export const DOC_END = '<!-- end of options table -->';

const code = (s: string) => `\`${s}\``;
const flagsOf = (o: { flags?: readonly string[]; kind?: { secret?: true } }) =>
  o.kind?.secret ? '(none: keep secrets out of argv)' : (o.flags ?? []).map(code).join(', ');

/** The tables of docs/configuration.md's "Every setting". */
export function configurationTables(): string {
  const settings: Array<Option<unknown>> = [...Object.values(SERVICE_TABLE), ...Object.values(LIMIT_TABLE)];
  const repository: Array<RepositoryOption<unknown>> = Object.values(REPOSITORY_TABLE);
  return [
    DOC_BEGIN,
    '',
    '| setting | file key | environment | flag | default |',
    '| --- | --- | --- | --- | --- |',
    `| ${CONFIG_FLAG.doc} | | ${code(CONFIG_FLAG.env!)} | ${code(`${CONFIG_FLAG.names[0]} ${CONFIG_FLAG.value}`)} | ${CONFIG_FLAG.defaultText} |`,
    ...settings.map(
      (o) =>
        `| ${o.doc} | ${o.file ? code(o.file) : ''} | ${o.env ? code(o.env) : ''} | ${flagsOf(o)} | ${o.defaultText} |`,
    ),
    `| ${FROM_APKO_FLAG.doc} | | | ${code(`${FROM_APKO_FLAG.names[0]} ${FROM_APKO_FLAG.value}`)} | |`,
    `| help | | | ${HELP_FLAG.names.map(code).join(', ')} | |`,
    '',
    'Each entry of `repositories` in the file takes these keys; in the environment and flags they are comma-separated',
    'lists (repeated flags add up) given beside the URL list (see [Repositories](#repositories)).',
    '',
    '| key | meaning | environment | flag | default |',
    '| --- | --- | --- | --- | --- |',
    ...repository.map(
      (o) => `| ${code(o.file)} | ${o.doc} | ${o.env ? code(o.env) : ''} | ${flagsOf(o)} | ${o.defaultText} |`,
    ),
    '',
    DOC_END,
  ].join('\n');
}
