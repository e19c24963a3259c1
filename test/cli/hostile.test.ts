import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fixtureRepo, runCommand, writeTree } from '../generate/helpers.js';
import { command } from '../helpers/command.js';
import { REASON_HEADER } from '../../src/datasource/reasons.js';
import { StatusSchema, type Status } from '../../src/datasource/status.js';

/**
 * Issue 26 §3 through pin and check: upstream bytes never reach a terminal or a file as they are. A version that is
 * not an APK version (`1.1\x1b[2J\x1b[H-r0`, which clears the screen) is never proposed or written, whether an index
 * or a server holds it; names, versions and file names are printed with control characters escaped.
 */

const pin = command('pin');
const check = command('check');
const EXAMPLE = 'https://packages.example.org/os';
const HOSTILE = '1.1\x1b[2J\x1b[H-r0';
const APP = `archs: [amd64]\ncontents:\n  repositories:\n    - ${EXAMPLE}\n  packages:\n    - foo=0.9-r0\n    - bar=1.0-r0\n    - "evil\\e[31m=1.0-r0"\n`;
/** No raw control character other than a line break, anywhere. */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

describe('hostile versions and escapes through pin and check', () => {
  let dir: string;
  let root: string;
  let index: string[];
  let server: Server;
  let serverUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-hostile-'));
    const repo = await fixtureRepo(join(dir, 'repo'), {
      x86_64: [
        { name: 'foo', version: '1.0-r0' },
        { name: 'foo', version: HOSTILE },
        { name: 'bar', version: '1.0-r0' },
        { name: 'bar', version: '2.0-r0\x1b]0;owned\x07' },
      ],
    });
    index = ['--index', repo.url, '--alias', EXAMPLE, '--key', repo.key];
    // A server that answers like apk-indexer, with the hostile versions in its datasource bodies.
    const bodies: Record<string, string[]> = { foo: ['1.0-r0', HOSTILE], bar: ['1.0-r0', '2.0-r0\x1b]0;owned\x07'] };
    // The status contract, checked by its own schema so that this stand-in cannot drift from the service.
    const status: Status = StatusSchema.parse({
      ready: true,
      generation: 1,
      waitingFor: [],
      repositories: [{ name: 'os', urls: [EXAMPLE], arches: ['x86_64'] }],
      indexes: [
        {
          url: `${EXAMPLE}/x86_64/APKINDEX.tar.gz`,
          arch: 'x86_64',
          repository: 'os',
          consecutiveFailures: 0,
          holdsReadiness: false,
        },
      ],
    });
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname.slice(1));
      if (path === 'readyz') return void res.end('ok\n');
      if (path === '-/status') return void res.end(JSON.stringify(status));
      const versions = bodies[path];
      if (!versions)
        return void res
          .writeHead(404, { [REASON_HEADER]: 'unknown-package' })
          .end(`package ${JSON.stringify(path)} is not in any configured index\n`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ releases: versions.map((version) => ({ version })) }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    serverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    root = await mkdtemp(join(dir, 'tree-'));
    await writeTree(root, { 'apko/app.yaml': APP, 'apko/x\x1b[31m.yaml': APP });
  });

  for (const via of ['index', 'server'] as const) {
    it(`pin moves only to APK versions and writes nothing else into the YAML (--${via})`, async () => {
      const source = via === 'index' ? index : ['--server', serverUrl];
      const stale = await runCommand(pin, ['-C', root, '--check', 'apko/app.yaml', ...source]);
      expect(stale.out).toContain('apko/app.yaml:6  foo  0.9-r0 -> 1.0-r0  (stale)\n');
      expect(stale.out).not.toContain('bar');
      expect(stale.out + stale.err).not.toMatch(RAW);
      const r = await runCommand(pin, ['-C', root, 'apko/app.yaml', ...source]);
      expect(r.out + r.err).not.toMatch(RAW);
      const text = await readFile(join(root, 'apko/app.yaml'), 'utf8');
      expect(text).toBe(APP.replace('foo=0.9-r0', 'foo=1.0-r0'));
      expect((parse(text) as { contents: { packages: string[] } }).contents.packages[0]).toBe('foo=1.0-r0');
    });

    it(`check prints names, versions and file names escaped (--${via})`, async () => {
      const source = via === 'index' ? index : ['--server', serverUrl];
      for (const extra of [[], ['--verbose']]) {
        const r = await runCommand(check, ['-C', root, ...extra, ...source]);
        expect(r.out + r.err, extra.join(' ')).not.toMatch(RAW);
        // The file name and the entry are there, escaped as ls -b shows them.
        expect(r.out).toContain('apko/x\\x1b[31m.yaml:8: evil\\x1b[31m=1.0-r0: ');
        expect(r.code).toBe(1);
      }
      const json = await runCommand(check, ['-C', root, '--json', ...source]);
      expect(json.out).not.toMatch(RAW);
      expect(json.out).not.toContain('owned');
    });
  }
});

describe('names that are also Object.prototype keys (issue 26 §4)', () => {
  it('gen: a kind called __proto__ is unknown, and --env __proto__=... is an environment variable', async () => {
    const gen = command('gen');
    const unknown = await runCommand(gen, ['__proto__']);
    expect(unknown.err.split('\n')[0]).toBe('apk-indexer gen: nothing to generate called __proto__');
    expect(unknown.code).toBe(2);
    const r = await runCommand(gen, [
      'image',
      'web',
      '--package',
      'nginx',
      '--env',
      '__proto__=a',
      '--env',
      'PATH=/bin',
    ]);
    expect(r.code).toBe(0);
    const env = (parse(r.out) as { environment: Record<string, string> }).environment;
    expect(Object.getOwnPropertyNames(env)).toEqual(['__proto__', 'PATH']);
  });

  it('apko annotations keep a key called __proto__ as an annotation, through includes', async () => {
    const { resolveImage } = await import('../../src/apko/image.js');
    const dir = await mkdtemp(join(tmpdir(), 'apk-proto-'));
    try {
      await writeTree(dir, {
        'base.yaml': 'annotations:\n  __proto__: from-base\n  constructor: base\n',
        'image.yaml': 'include: base.yaml\narchs: [amd64]\nannotations:\n  constructor: image\n',
      });
      const image = resolveImage('image.yaml', { root: dir });
      expect(Object.getOwnPropertyNames(image.annotations).sort()).toEqual(['__proto__', 'constructor']);
      expect(Object.getOwnPropertyDescriptor(image.annotations, '__proto__')?.value).toBe('from-base');
      expect(Object.getOwnPropertyDescriptor(image.annotations, 'constructor')?.value).toBe('image');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
