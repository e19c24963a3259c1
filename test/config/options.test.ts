import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationTables } from '../../src/config/options-doc.js';
import {
  CONFIG_FLAG,
  FROM_APKO_FLAG,
  LIMIT_OPTIONS,
  REPOSITORY_OPTIONS,
  SERVICE_OPTIONS,
} from '../../src/config/options.js';
import { HELP_FLAG } from '../../src/core/flags.js';
import { main } from '../../src/cli/main.js';

const COMMAND_FLAGS = [CONFIG_FLAG, FROM_APKO_FLAG, HELP_FLAG].map((f) => ({ flags: f.names, env: f.env }));

const allOptions = [
  ...Object.values(SERVICE_OPTIONS),
  ...Object.values(LIMIT_OPTIONS),
  ...Object.values(REPOSITORY_OPTIONS),
];

async function serveHelp(): Promise<string> {
  let out = '';
  const io = {
    stdin: process.stdin,
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: process.stderr,
  } as never;
  expect(await main(['serve', '--help'], io)).toBe(0);
  return out;
}

describe('the options table is the one source', () => {
  it('docs/configuration.md carries the table as generated (run `npm run docs:generate` after changing src/config/options.ts)', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toContain(configurationTables());
  });

  it('serve --help names every flag and environment variable of the table', async () => {
    const help = await serveHelp();
    for (const option of [...allOptions, ...COMMAND_FLAGS]) {
      if ('kind' in option && option.kind.secret) {
        expect(help).not.toContain(option.flags?.[0] ?? '--refresh-token');
        continue;
      }
      // The left column: short spellings first (`-h, --help`), then the canonical one.
      if (option.flags?.[0]) expect(help).toMatch(new RegExp(`^  (?:-\\w, )?${option.flags[0]}[ ,]`, 'm'));
      if ('env' in option && option.env && option.flags) expect(help).toContain(option.env);
    }
  });

  it('names are unique: no two settings share a file key, variable or flag', () => {
    const seen = new Set<string>();
    for (const option of [...allOptions, ...COMMAND_FLAGS]) {
      const names = [
        ...('file' in option && option.file && !Object.values(REPOSITORY_OPTIONS).includes(option as never)
          ? [`file:${option.file}`]
          : []),
        ...('env' in option && option.env ? [option.env] : []),
        ...(option.flags ?? []).map((f) => f.replace(/^--?/, '-')),
      ];
      for (const name of new Set(names)) {
        expect(seen.has(name), name).toBe(false);
        seen.add(name);
      }
    }
  });
});
