import { REASONS } from './reasons.js';

export const REASONS_BEGIN =
  '<!-- reason codes: generated from src/datasource/reasons.ts by `npm run docs:generate` -->';
export const REASONS_END = '<!-- end of reason codes -->';

/** docs/configuration.md's table of reason codes, between its markers: a new code is one entry in REASONS. */
export function reasonsTable(): string {
  const rows = Object.entries(REASONS).map(([code, r]) => `| \`${code}\` | ${r.status} | ${r.what} |`);
  return [REASONS_BEGIN, '| code | status | what |', '| --- | --- | --- |', ...rows, '', REASONS_END].join('\n');
}
