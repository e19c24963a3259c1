import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands } from '../../src/cli/commands/index.js';
import { main } from '../../src/cli/main.js';
import { commandsReference } from '../../src/cli/reference.js';
import { readFlags } from '../../src/config/flags.js';
import { CONFIG_FLAG, REPOSITORY_OPTIONS, SERVICE_OPTIONS } from '../../src/config/options.js';
import { capture } from '../helpers/command.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { filesUnder, read, ROOT } from './helpers.js';

/**
 * The docs, run: every flag they give a command is one that command names in its --help and accepts, every
 * APK_INDEXER_* variable they set is a setting, and every route they show answers on a service. What a new user
 * copies from README.md, docs/, examples/ and config/ (and from the files `init` writes) must work as written.
 */

const DOCS = [
  'README.md',
  ...filesUnder('docs'),
  ...filesUnder('examples'),
  ...filesUnder('config'),
  'helm/apk-indexer/README.md',
  'Dockerfile',
  'apko.yaml',
  'melange.yaml',
];

const COMMANDS = ['serve', 'query', 'vercmp', 'init', 'gen', 'pin', 'check', 'images', 'resolve', 'lock'] as const;
type CommandName = (typeof COMMANDS)[number];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in this process, with its own streams. */
async function cli(args: string[]): Promise<Run> {
  const { code, out, err } = await capture((argv, io) => main(argv, io), args, '');
  return { code, stdout: out, stderr: err };
}

/**
 * The flags a text gives each command: `apk-indexer CMD ... --flag` (shell continuations joined), code spans such as
 * `pin --check`, hown3d's `command: [...]` (serve), and the flag column of the settings tables (serve's).
 */
function flagsByCommand(texts: ReadonlyMap<string, string>): Map<CommandName, Map<string, string>> {
  const uses = new Map<CommandName, Map<string, string>>(COMMANDS.map((c) => [c, new Map()]));
  const add = (command: CommandName, flag: string, where: string) => {
    if (!uses.get(command)!.has(flag)) uses.get(command)!.set(flag, where);
  };
  for (const [file, raw] of texts) {
    const text = raw.replace(/\\\n\s*(?:#\s*)?/g, ' ');
    const lineOf = (index: number) => `${file}:${text.slice(0, index).split('\n').length}`;
    // An invocation runs to the end of its line, code span, quote, pipe, list or comment.
    for (const m of text.matchAll(
      /apk-indexer[ \t]+(serve|query|vercmp|init|gen|pin|check|images|resolve|lock)(?=[\s`'"]|$)([^\n`'"|;#&)]*)/g,
    )) {
      for (const f of m[2]!.matchAll(/(?:^|\s)(--?[A-Za-z][\w-]*)/g)) add(m[1] as CommandName, f[1]!, lineOf(m.index));
    }
    // Code spans naming a command without the program: `pin --check`, `gen user --uid N`.
    for (const m of text.matchAll(/`(serve|query|vercmp|init|gen|pin|check|images|resolve|lock)\s([^`]*)`/g)) {
      for (const f of m[2]!.matchAll(/(?:^|\s)(--?[A-Za-z][\w-]*)/g)) add(m[1] as CommandName, f[1]!, lineOf(m.index));
    }
    // hown3d's flags as a container's whole command mean serve.
    for (const m of text.matchAll(/command: \[([^\]\n]*)\]/g)) {
      for (const f of m[1]!.matchAll(/"(-[A-Za-z][\w-]*)"/g)) add('serve', f[1]!, lineOf(m.index));
    }
    // The service's settings tables (an `environment` and a `flag` column): the `flag` column.
    for (const table of text.matchAll(/^\|(.*\bflag\b.*)\|\n\|[- |]+\|\n((?:\|.*\|\n?)+)/gm)) {
      const header = table[1]!.split('|').map((h) => h.trim());
      if (!header.includes('environment')) continue;
      const column = header.indexOf('flag');
      for (const row of table[2]!.split('\n').filter(Boolean)) {
        const cell = row.slice(1, -1).split('|')[column] ?? '';
        for (const f of cell.matchAll(/`(--?[A-Za-z][\w-]*)/g)) add('serve', f[1]!, lineOf(table.index));
      }
    }
  }
  return uses;
}

/** `--flag` as a word of the help text (`[-o FILE]`, `-C, --directory`, `--index SRC`). */
function named(help: string, flag: string): boolean {
  return new RegExp(`(?:^|[\\s\\[(|,])${flag.replace(/[-]/g, '\\-')}(?![\\w-])`, 'm').test(help);
}

describe('the flags the docs give each command', () => {
  let initDir = '';
  let uses: Map<CommandName, Map<string, string>>;
  beforeAll(async () => {
    // What `init` writes (Justfile, .gitlab-ci.yml, comments) is docs a new user runs too.
    initDir = mkdtempSync(join(tmpdir(), 'apk-docs-init-'));
    // With its source named: the checkout this runs from may have no origin (or a local one) and no tag at HEAD.
    const init = await cli([
      'init',
      initDir,
      '--apk-indexer-source',
      'https://git.example.org/you/apk-indexer.git',
      '--apk-indexer-ref',
      'v0.1.0',
    ]);
    expect(init.code, init.stderr).toBe(0);
    const texts = new Map(DOCS.map((f) => [f, read(f)] as const));
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
    for (const f of walk(initDir)) texts.set(`init:${f.slice(initDir.length + 1)}`, readFileSync(f, 'utf8'));
    uses = flagsByCommand(texts);
  });
  afterAll(() => rmSync(initDir, { recursive: true, force: true }));

  it('finds the documented invocations (the extraction itself works)', () => {
    expect([...uses.get('serve')!.keys()]).toEqual(
      expect.arrayContaining(['--config', '--index', '-apk-index-url', '-update-interval', '--public-url']),
    );
    expect([...uses.get('query')!.keys()]).toEqual(expect.arrayContaining(['--index', '--arch', '--key']));
    expect([...uses.get('pin')!.keys()]).toEqual(expect.arrayContaining(['--check', '--server', '--all']));
    expect([...uses.get('gen')!.keys()]).toEqual(expect.arrayContaining(['--renovate-server', '-o']));
    expect([...uses.get('check')!.keys()]).toEqual(expect.arrayContaining(['--server']));
    expect(
      flagsByCommand(new Map([['x.md', '`apk-indexer check --jsn`, `apk-indexer pin \\\n  --lok`']]))
        .get('check')!
        .has('--jsn'),
    ).toBe(true);
    expect(
      flagsByCommand(new Map([['x.md', 'apk-indexer pin \\\n  --lok']]))
        .get('pin')!
        .has('--lok'),
    ).toBe(true);
  });

  it.each(COMMANDS.filter((c) => c !== 'serve'))(
    '%s: each is in its --help and accepted by its parser',
    async (command) => {
      const help = (await cli([command, '--help'])).stdout;
      expect(help).toContain(`usage: apk-indexer ${command}`);
      for (const [flag, where] of uses.get(command)!) {
        expect(named(help, flag), `${where}: ${flag} is not in apk-indexer ${command} --help`).toBe(true);
        const run = await cli([command, flag, 'x', '--help']);
        expect(run.code, `${where}: apk-indexer ${command} ${flag}: ${run.stderr}`).toBe(0);
      }
    },
  );

  it('serve: each is in its --help (one dash or two, as serve takes both) and read by its flag parser', async () => {
    const help = (await cli(['serve', '--help'])).stdout;
    expect(help).toContain('usage: apk-indexer serve');
    for (const [flag, where] of uses.get('serve')!) {
      const long = flag.startsWith('--') ? flag : `-${flag}`;
      expect(named(help, flag) || named(help, long), `${where}: ${flag} is not in apk-indexer serve --help`).toBe(true);
      if (flag === '--help' || flag === '-h') continue;
      let error = '';
      try {
        readFlags([flag, 'x'], ROOT);
      } catch (err) {
        error = (err as Error).message;
      }
      expect(error, `${where}: apk-indexer serve ${flag}`).not.toMatch(/unknown option/);
    }
  });

  it('a flag a command does not take is caught (the check can fail)', async () => {
    expect(named((await cli(['check', '--help'])).stdout, '--no-such-flag')).toBe(false);
    expect((await cli(['check', '--no-such-flag', 'x', '--help'])).code).toBe(2);
    expect(() => readFlags(['--no-such-flag', 'x'], ROOT)).toThrow(/unknown option/);
  });
});

describe('docs/commands.md', () => {
  it('is as generated from the command declarations (run `npm run docs:generate` after changing a command)', async () => {
    expect(read('docs/commands.md')).toBe(commandsReference(await allCommands()));
  });
});

/** Lines that continue a Markdown table without being a row of it (`| ... |`): the table ends there, broken. */
function brokenTableLines(text: string): number[] {
  const broken: number[] = [];
  let fenced = false;
  let inTable = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (!fenced && inTable && line.trim() !== '' && !line.startsWith('|')) broken.push(i + 1);
    inTable = !fenced && line.startsWith('|');
  });
  return broken;
}

describe('the exit statuses', () => {
  it("docs/errors.md's table and the overview `apk-indexer` prints name the same statuses", async () => {
    const table = read('docs/errors.md').split('## Exit status')[1]!.split('\n## ')[0]!;
    const statuses = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => m[1]!);
    expect(statuses).toEqual(['0', '1', '2', '3', '70']);
    const overview = (await cli([])).stdout;
    const line = /Exit status: ([^;]*)/.exec(overview.replace(/\n/g, ' '))?.[1] ?? '';
    expect([...line.matchAll(/(?:^|, )(\d+) /g)].map((m) => m[1]!)).toEqual(statuses);
  });
});

describe('the Markdown tables of the docs', () => {
  it('have every row on one line (a flag doc written over several lines is joined, not cut)', async () => {
    const texts = new Map(DOCS.filter((f) => f.endsWith('.md')).map((f) => [f, read(f)] as const));
    texts.set('generated docs/commands.md', commandsReference(await allCommands()));
    for (const [file, text] of texts) expect(brokenTableLines(text), file).toEqual([]);
    expect(brokenTableLines('| a |\n| --- |\n| one\ntwo |\n')).toEqual([4]);
  });
});

describe('the APK_INDEXER_* variables the docs and examples set', () => {
  const settings = [...Object.values(SERVICE_OPTIONS), ...Object.values(REPOSITORY_OPTIONS), CONFIG_FLAG].flatMap(
    (o) => ('env' in o && o.env ? [o.env] : []),
  );
  // Besides the settings, only what the CLI itself reads from the environment (APK_INDEXER_DEBUG).
  const cliReads = [...read('src/cli/main.ts').matchAll(/process\.env\.(APK_INDEXER_[A-Z0-9_]+)/g)].map((m) => m[1]!);
  const known = new Set<string>([...settings, ...cliReads]);

  it('are settings of src/config/options.ts (or read by src/cli/main.ts)', () => {
    expect(settings.length).toBeGreaterThan(10);
    for (const file of DOCS) {
      for (const m of read(file).matchAll(/\bAPK_INDEXER_[A-Z0-9_]+\b/g))
        expect(known.has(m[0]), `${file}: ${m[0]}`).toBe(true);
    }
    expect(known.has('APK_INDEXER_NO_SUCH_SETTING')).toBe(false);
  });
});

describe('the routes the docs show', () => {
  const TOKEN = 'docs-token';
  let fixture: FixtureService;
  const pkg = (name: string, version: string, extra: object = {}) => ({
    name,
    version,
    origin: name,
    commit: 'a'.repeat(40),
    ...extra,
  });
  const packages = [
    pkg('bash', '5.2.37-r0'),
    pkg('bash', '5.2.37-r1'),
    pkg('bootc', '1.16.7-r0'),
    pkg('argo-cd-2.11', '2.11.7-r0', { provides: ['argo-cd=2.11.7-r0'] }),
    pkg('libstdc++', '14.2.0-r0'),
  ];
  beforeAll(async () => {
    fixture = await startFixtureService({
      repositories: { wolfi: { x86_64: packages, aarch64: packages } },
      settings: { refreshToken: TOKEN, publicUrl: 'https://apk-indexer.example.com' },
    });
  });
  afterAll(() => fixture.close());

  /** Route patterns of the tables (`GET /<name>/latest`) made concrete with the fixture's names. */
  const concrete = (path: string) =>
    path
      .replace('<name>', 'bash')
      .replace('<package>', 'bash')
      .replace('<pattern>', 'argo-cd*')
      .replace('<repository>', 'wolfi')
      .replace('<arch>', 'all')
      .replace('from=A&to=B', 'from=5.2.37-r0&to=5.2.37-r1');

  function documentedRoutes(): Array<{ method: string; url: string; auth: boolean; where: string }> {
    const out: Array<{ method: string; url: string; auth: boolean; where: string }> = [];
    for (const file of DOCS.filter((f) => f.endsWith('.md'))) {
      const text = read(file).replace(/\\\n\s*/g, ' ');
      for (const line of text.split('\n')) {
        if (/^\s*(?:#\s*)?curl\b|\$\(curl|`curl /.test(line) || line.includes(' curl ')) {
          for (const m of line.matchAll(/curl\s([^`\n]*?)(?:'|")?(?:https?:\/\/)?[\w.-]+:3000(\/[^\s'"`]*)?/g)) {
            const args = m[1]!;
            out.push({
              method: /-X\s*POST/.test(args) ? 'POST' : 'GET',
              url: m[2] ?? '/',
              auth: /Authorization: Bearer/.test(args),
              where: `${file}: ${m[0]}`,
            });
          }
        }
        const row = /^\|\s*`(GET|POST) (\/[^`\s]*)`/.exec(line);
        if (row) out.push({ method: row[1]!, url: concrete(row[2]!), auth: true, where: `${file}: ${row[0]}` });
      }
    }
    return out;
  }

  it('finds the curl commands and the route tables', () => {
    const urls = documentedRoutes().map((r) => `${r.method} ${r.url}`);
    expect(urls).toEqual(
      expect.arrayContaining([
        'GET /bash/latest',
        'GET /readyz',
        'GET /-/status',
        'POST /-/refresh',
        'GET /livez',
        'GET /metrics',
        'GET /bootc?arch=x86_64,aarch64',
        'GET /wildcardVersion/argo-cd*',
      ]),
    );
  });

  it('each answers 200 on a service over a signed repository named wolfi', async () => {
    for (const { method, url, auth, where } of documentedRoutes()) {
      const res = await fixture.service.app.inject({
        method: method as 'GET' | 'POST',
        url: concrete(url),
        headers: auth ? { authorization: `Bearer ${TOKEN}` } : {},
      });
      expect(res.statusCode, `${where}: ${method} ${url}: ${res.body.slice(0, 200)}`).toBe(200);
    }
  });

  it('an undocumented path is not answered 200 (the check can fail)', async () => {
    expect((await fixture.service.app.inject({ url: '/-/no-such-route' })).statusCode).not.toBe(200);
  });
});
