import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { networkReason } from '../../src/errors.js';
import { fixtureRepo, writeTree } from '../generate/helpers.js';
import { bin, ensureBuilt } from '../helpers/cli-process.js';

/**
 * Issue 10's "whatever goes wrong inside a command, it exits with its documented status and one line" and issue 15's
 * file mistakes, met through the real CLI: stderr is exactly one line, with no stack, and the status is the one
 * docs/errors.md gives (2 a mistake or a file that cannot be used, 70 a bug in apk-indexer).
 */

const env = { PATH: process.env.PATH ?? '' };

function cli(args: string[], options: { cwd?: string; env?: Record<string, string>; node?: string[] } = {}) {
  const r = spawnSync(process.execPath, [...(options.node ?? []), bin, ...args], {
    encoding: 'utf8',
    env: { ...env, ...options.env },
    cwd: options.cwd,
    timeout: 30_000,
  });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

/** One line, ending in a newline, with no stack frame and no Node internals in it. */
function expectOneLine(err: string, line: string | RegExp): void {
  expect(err).not.toMatch(/\n\s+at |node:internal/);
  expect(err.split('\n')).toHaveLength(2);
  if (typeof line === 'string') expect(err).toBe(`${line}\n`);
  else expect(err).toMatch(line);
}

const BASE = `contents:
  repositories:
    - https://packages.example.org/os
  packages:
    - busybox=1.36.1-r9
archs: [amd64]
`;
const MOVED = BASE.replace('busybox=1.36.1-r9', 'busybox=1.36.1-r10');

/** Runs `script` as root of a private mount namespace (a tmpfs can be mounted there). */
function inMountNamespace(script: string, vars: Record<string, string>) {
  return spawnSync('unshare', ['-rm', 'sh', '-c', script], {
    encoding: 'utf8',
    env: { ...env, ...vars },
    timeout: 60_000,
  });
}

/** Whether this machine lets an unprivileged test mount a tmpfs (user namespaces): decided before the tests are collected. */
const canMount = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'apk-errors-probe-'));
  try {
    return inMountNamespace('mount -t tmpfs tmpfs "$MNT"', { MNT: probe }).status === 0;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

describe('errors: one line and the documented status', () => {
  let dir: string;
  let repo: { url: string; key: string };
  let root: string;
  const index = () => ['--index', repo.url, '--alias', 'https://packages.example.org/os', '--key', repo.key];

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'apk-errors-'));
    repo = await fixtureRepo(join(dir, 'repo'), {
      x86_64: [
        { name: 'busybox', version: '1.36.1-r9' },
        { name: 'busybox', version: '1.36.1-r10' },
      ],
    });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    root = await mkdtemp(join(dir, 'tree-'));
    await writeTree(root, { 'apko/base.yaml': BASE });
  });

  const leftovers = () => readdirSync(join(root, 'apko')).filter((f) => f.includes('.tmp'));

  describe('init', () => {
    // Where melange/apk-indexer.yaml builds from: given, so init does not ask this checkout's git.
    const source = [
      '--apk-indexer-source',
      'https://git.example.org/tools/apk-indexer.git',
      '--apk-indexer-ref',
      'v0.1.0',
    ];
    it('DIR under a regular file: one line naming the file, exit 2, nothing written', () => {
      const file = join(dir, 'a-file');
      writeFileSync(file, 'not a directory\n');
      const r = cli(['init', join(file, 'sub'), ...source]);
      expectOneLine(r.err, `apk-indexer init: ${join(file, 'sub')}: ${file} is not a directory`);
      expect(r.code).toBe(2);
      expect(readFileSync(file, 'utf8')).toBe('not a directory\n');
    });

    // Node's recursive mkdir spins forever there (mkdir /proc/x: ENOENT, mkdir /proc: EEXIST, again).
    it.skipIf(!existsSync('/proc/self'))(
      'DIR where the file system holds no new directories (/proc): fails at once, one line, exit 2',
      () => {
        const r = cli(['init', '/proc/apk-indexer-init-test', ...source]);
        expect(r.signal).toBeNull(); // not killed by the timeout: it did not hang
        expectOneLine(
          r.err,
          'apk-indexer init: /proc/apk-indexer-init-test: cannot create the directory: this file system holds no new directories',
        );
        expect(r.code).toBe(2);
      },
    );

    it('a file in the way of a directory it writes: one line naming it, exit 2', () => {
      const target = join(dir, 'init-blocked');
      mkdirSync(target);
      writeFileSync(join(target, 'apko'), 'a file where apko/ goes\n');
      const r = cli(['init', target, '--force', ...source]);
      expectOneLine(r.err, `apk-indexer init: ${join(target, 'apko')}: ${join(target, 'apko')} is not a directory`);
      expect(r.code).toBe(2);
    });
  });

  describe('pin writing files in place', () => {
    it('moves the pin, keeps the mode, and edits the target of a symbolic link, not the link', () => {
      const real = join(root, 'apko', 'real.yaml');
      writeFileSync(real, BASE);
      chmodSync(real, 0o640);
      rmSync(join(root, 'apko', 'base.yaml'));
      symlinkSync('real.yaml', join(root, 'apko', 'base.yaml'));
      const r = cli(['pin', 'apko/real.yaml', '-C', root, ...index()]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(real, 'utf8')).toBe(MOVED);
      expect(statSync(real).mode & 0o777).toBe(0o640);
      expect(lstatSync(join(root, 'apko', 'base.yaml')).isSymbolicLink()).toBe(true);
      expect(leftovers()).toEqual([]);
    });

    it('a read-only file: one line naming it, exit 2, the file untouched (even for root)', () => {
      const file = join(root, 'apko', 'base.yaml');
      chmodSync(file, 0o444);
      const r = cli(['pin', '-C', root, ...index()]);
      expect(r.err).toBe('apk-indexer pin: apko/base.yaml: cannot write: the file is read-only\n');
      expect(r.out).toBe(''); // no move claimed for a file that was not written
      expect(r.code).toBe(2);
      expect(readFileSync(file, 'utf8')).toBe(BASE);
      expect(leftovers()).toEqual([]);
    });

    it.skipIf(!canMount)(
      'a full disk: one line naming the file, exit 2, the file whole and no temporary file left',
      () => {
        const mnt = join(dir, 'full');
        mkdirSync(mnt);
        const r = inMountNamespace(
          `mount -t tmpfs -o size=64k tmpfs "$MNT" && mkdir "$MNT/apko" && cp "$SRC" "$MNT/apko/base.yaml" &&
         (dd if=/dev/zero of="$MNT/fill" bs=4096 2>/dev/null; true) &&
         "$NODE" "$BIN" pin -C "$MNT" ARGS; echo "status=$?"; ls -a "$MNT/apko"; cat "$MNT/apko/base.yaml"`.replace(
            'ARGS',
            index()
              .map((a) => `'${a}'`)
              .join(' '),
          ),
          { MNT: mnt, SRC: join(root, 'apko', 'base.yaml'), NODE: process.execPath, BIN: bin },
        );
        expectOneLine(r.stderr, 'apk-indexer pin: apko/base.yaml: cannot write: no space left on the device');
        expect(r.stdout).toBe(`status=2\n.\n..\nbase.yaml\n${BASE}`); // no move claimed, no temporary file, the file whole
      },
    );

    it.skipIf(!canMount)('a read-only file system: one line naming the file, exit 2, the file untouched', () => {
      const mnt = join(dir, 'ro');
      mkdirSync(mnt);
      const r = inMountNamespace(
        `mount -t tmpfs tmpfs "$MNT" && mkdir "$MNT/apko" && cp "$SRC" "$MNT/apko/base.yaml" && mount -o remount,ro "$MNT" &&
         "$NODE" "$BIN" pin -C "$MNT" ARGS; echo "status=$?"; cat "$MNT/apko/base.yaml"`.replace(
          'ARGS',
          index()
            .map((a) => `'${a}'`)
            .join(' '),
        ),
        { MNT: mnt, SRC: join(root, 'apko', 'base.yaml'), NODE: process.execPath, BIN: bin },
      );
      expectOneLine(r.stderr, 'apk-indexer pin: apko/base.yaml: cannot write: read-only file system');
      expect(r.stdout).toBe(`status=2\n${BASE}`);
    });
  });

  it('gen -o naming a directory: one line, exit 2', () => {
    const r = cli(['gen', 'image', 'web', '--package', 'nginx', '-o', root]);
    expectOneLine(r.err, `apk-indexer gen: -o ${root}: cannot write: is a directory`);
    expect(r.code).toBe(2);
  });

  it('query with an index path that does not exist: the problem in words, exit 2', () => {
    const missing = join(dir, 'nowhere', 'APKINDEX.tar.gz');
    const r = cli(['query', 'busybox', '--index', missing, '--key', repo.key]);
    expectOneLine(r.err, `apk-indexer query: ${missing}: cannot read: no such file or directory`);
    expect(r.code).toBe(2);
  });

  it('a mistyped single-dash flag is named whole, with the nearest option', () => {
    const r = cli(['query', 'bash', '-apk-index-urls', 'x']);
    expect(r.err.split('\n')[0]).toBe('apk-indexer query: unknown option -apk-index-urls (did you mean --index?)');
    expect(r.err).toMatch(/\n\nusage: apk-indexer query /); // a usage mistake: the usage follows
    expect(r.code).toBe(2);
    expect(cli(['pin', '--index']).err.split('\n')[0]).toBe('apk-indexer pin: --index needs a value');
  });

  it('serve with a local key that does not exist: one line, exit 2, through the same mapping', () => {
    const r = cli([
      'serve',
      '--index',
      repo.url,
      '--key',
      join(dir, 'missing.rsa.pub'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ]);
    expectOneLine(
      r.err,
      /^apk-indexer serve: repositories\[0\] \(.*\): key .*missing\.rsa\.pub: cannot read: no such file or directory\n$/,
    );
    expect(r.code).toBe(2);
  });

  describe('a bug in apk-indexer', () => {
    /** A module loaded before the CLI (node --import) that plants the failure. */
    const preload = (name: string, code: string) => {
      const file = join(dir, `${name}.mjs`);
      writeFileSync(file, code);
      return ['--import', pathToFileURL(file).href];
    };

    it('inside a command: one line saying so, exit 70; the stack only with APK_INDEXER_DEBUG=1', () => {
      const node = preload('throws', `process.stdout.write = () => { throw new TypeError('planted'); };\n`);
      const r = cli(['vercmp', '1', '2'], { node });
      expectOneLine(
        r.err,
        'apk-indexer vercmp: internal error, a bug in apk-indexer: TypeError: planted (APK_INDEXER_DEBUG=1 prints the stack)',
      );
      expect(r.code).toBe(70);
      const debug = cli(['vercmp', '1', '2'], { node, env: { APK_INDEXER_DEBUG: '1' } });
      expect(debug.err).toMatch(
        /^apk-indexer vercmp: internal error, a bug in apk-indexer: TypeError: planted\nTypeError: planted\n\s+at /,
      );
      expect(debug.code).toBe(70);
    });

    it("thrown outside any command (uncaught): the same one line and 70, not Node's dump and 1", () => {
      const node = preload('uncaught', `setTimeout(() => { throw new RangeError('late'); }, 10);\n`);
      const r = cli(['vercmp', '1', '2'], { node });
      expectOneLine(
        r.err,
        'apk-indexer vercmp: internal error, a bug in apk-indexer: RangeError: late (APK_INDEXER_DEBUG=1 prints the stack)',
      );
      expect(r.code).toBe(70);
    });

    it("a rejection nobody awaits: the same; a system error on a path is the user's, exit 2, in words", () => {
      const bug = cli(['vercmp', '1', '2'], {
        node: preload('rejects', `setTimeout(() => { void Promise.reject(new Error('nobody awaits')); }, 10);\n`),
      });
      expectOneLine(
        bug.err,
        'apk-indexer vercmp: internal error, a bug in apk-indexer: Error: nobody awaits (APK_INDEXER_DEBUG=1 prints the stack)',
      );
      expect(bug.code).toBe(70);
      const system = `setTimeout(() => { void Promise.reject(Object.assign(new Error("EACCES: permission denied, open '/x/y'"), { code: 'EACCES', syscall: 'open', path: '/x/y' })); }, 10);\n`;
      const user = cli(['vercmp', '1', '2'], { node: preload('system', system) });
      expectOneLine(user.err, 'apk-indexer vercmp: /x/y: permission denied');
      expect(user.code).toBe(2);
    });
  });
});

describe('the one errors module', () => {
  const root = join(import.meta.dirname, '..', '..');
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );

  it('declares every error a user can cause: no UserError subclass, oneLine or cause-unwrapping elsewhere', () => {
    const elsewhere = sources(join(root, 'src'))
      .filter((f) => !f.endsWith(join('src', 'errors.ts')))
      .flatMap((f) => {
        const text = readFileSync(f, 'utf8');
        return [
          ...text.matchAll(/class (\w+) extends (?:UserError|UsageError|ConfigError|IndexError|FileError)\b/g),
          ...text.matchAll(/function (oneLine|brief|firstLine|describeNetworkError)\b/g),
        ].map((m) => `${f.slice(root.length + 1)}: ${m[0]}`);
      });
    expect(elsewhere).toEqual(['src/core/text.ts: function oneLine']);
  });

  it('names a network failure by its innermost cause, as undici and fetch wrap it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(networkReason(new TypeError('fetch failed', { cause: refused }))).toBe('connect ECONNREFUSED 127.0.0.1:1');
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(networkReason(new TypeError('fetch failed', { cause: socket }))).toBe('UND_ERR_SOCKET: other side closed');
    expect(networkReason(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe(
      'timed out',
    );
    expect(networkReason('plain')).toBe('plain');
  });
});

describe('docs/errors.md', () => {
  const root = join(import.meta.dirname, '..', '..');
  const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');

  it('lists every error code src/errors.ts declares, and every exit status', () => {
    const source = readFileSync(join(root, 'src', 'errors.ts'), 'utf8');
    const union = /export type UserErrorCode =([^;]+);/.exec(source)![1]!;
    const codes = [...union.matchAll(/\| '([a-z-]+)'/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(5);
    const documented = [...doc.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]!);
    expect(documented).toEqual(codes);
    const statuses = [...doc.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    const exit = /export const EXIT = \{([^}]+)\}/.exec(source)![1]!;
    expect(statuses).toEqual([...exit.matchAll(/: (\d+)/g)].map((m) => Number(m[1])));
  });
});
