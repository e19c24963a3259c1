import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRepo } from '../fixtures/apk-repo.js';
import { bin, ensureBuilt } from '../helpers/cli-process.js';
import { untilReady } from '../helpers/wait.js';

/** Issue 15's paper cuts, met as a new user meets them: the real CLI, its exit status and what it prints. */

const env = { PATH: process.env.PATH ?? '' };

function cli(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Runs the CLI with its standard output's reader gone, as `| head` leaves it; `input` is fed to stdin. */
async function withClosedReader(args: string[], opts: { afterFirstChunk?: boolean; input?: string } = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  if (opts.afterFirstChunk) child.stdout.once('data', () => child.stdout.destroy());
  else child.stdout.destroy();
  child.stdin.on('error', () => {}); // the child may stop reading once its reader is gone
  child.stdin.end(opts.input ?? '');
  const [code, signal] = await exited;
  return { code, signal, err };
}

const noStack = /\n\s+at |Error:|node:internal/;

describe('paper cuts (issue 15)', () => {
  let dir: string;
  let index: string;

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'apk-cuts-'));
    await writeFixtureRepo(join(dir, 'repo'), {
      arches: {
        x86_64: [
          { name: 'bash', version: '5.2.37-r0' },
          { name: 'busybox', version: '1.37.0-r0' },
        ],
      },
    });
    index = join(dir, 'repo', 'x86_64', 'APKINDEX.tar.gz');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gen -o into a missing directory: one line naming the path and why, exit 2', () => {
    const target = join(dir, 'no', 'such', 'x.json');
    const r = cli(['gen', 'image', 'web', '--package', 'nginx', '-o', target]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`apk-indexer gen: -o ${target}: cannot write: no such directory\n`);
    expect(existsSync(target)).toBe(false);
  });

  it('query with its reader gone ends quietly, exit 0', async () => {
    const r = await withClosedReader(['query', 'bash', 'busybox', '--index', index]);
    expect(r.err).not.toMatch(noStack);
    expect(r.err).not.toMatch(/EPIPE/);
    expect(r.code).toBe(0);
  });

  it('vercmp reading pairs from stdin, its reader gone after the first answers: ends quietly, exit 0', async () => {
    const input = Array.from({ length: 200_000 }, (_, i) => `1.${i} 1.2`).join('\n');
    const r = await withClosedReader(['vercmp'], { afterFirstChunk: true, input });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('lists --version in the usage, and prints it', () => {
    expect(cli(['--help']).out).toMatch(/apk-indexer --version/);
    expect(cli(['--version']).out).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });

  describe('serve on a port already in use', () => {
    let taken: Server;
    let port: number;
    beforeAll(async () => {
      taken = createServer();
      await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
      port = (taken.address() as { port: number }).port;
    });
    afterAll(async () => {
      await new Promise((r) => taken.close(r));
    });

    it('says so in one line naming host:port, exit 2, and loads no index', () => {
      const r = cli(['serve', '--index', index, '--host', '127.0.0.1', '--port', String(port), '--log-output', 'json']);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`apk-indexer serve: cannot listen on 127.0.0.1:${port}: the port is already in use\n`);
      expect(r.out).not.toMatch(/index loaded|loading \d/);
    });
  });

  for (const format of ['text', 'json']) {
    it(`serve (${format} logs) whose log reader went away keeps serving, and exits 0 on SIGTERM`, async () => {
      const child = spawn(
        process.execPath,
        [
          bin,
          'serve',
          '--index',
          index,
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--log-output',
          format,
          '--log-level',
          'info',
        ],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = once(child, 'exit');
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      let log = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          log += d;
          const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/i.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${log}${err}`)));
      });
      child.stdout.destroy(); // `| head -1` has read its line and gone
      await untilReady(`http://127.0.0.1:${port}`);
      // Requests are logged to the closed pipe; the service still answers them.
      for (let i = 0; i < 5; i++)
        expect(await (await fetch(`http://127.0.0.1:${port}/bash/latest`)).text()).toBe('5.2.37-r0\n');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(err).not.toMatch(/flushSync|EPIPE/);
      expect(code).toBe(0);
    });
  }

  it('check --melange naming a missing folder: exit 2 naming it, before any index is read', async () => {
    const r = cli(['check', '--melange', 'no-such-dir', '--index', join(dir, 'missing', 'APKINDEX.tar.gz')], dir);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe('apk-indexer check: --melange no-such-dir: no such folder');
  });

  it('init --user root is refused (root is uid 0 on every host), nothing written', () => {
    const target = join(dir, 'init-root');
    const r = cli([
      'init',
      target,
      '--user',
      'root',
      '--apk-indexer-source',
      'https://git.example.org/apk-indexer.git',
      '--apk-indexer-ref',
      'v0.1.0',
    ]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/^apk-indexer init: --user root: root exists on every host \(uid 0\)/);
    expect(existsSync(target)).toBe(false);
    expect(cli(['gen', 'user', '--user', 'root']).code).toBe(2);
  });

  it('gen user --uid abc names the flag and the value', () => {
    const r = cli(['gen', 'user', '--uid', 'abc']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe('apk-indexer gen: --uid: expected a whole number, got "abc"');
    expect(r.err).not.toMatch(/NaN/);
  });

  it('pin --check and check naming a file that does not exist: the command prefix, the problem in words, exit 2', () => {
    for (const name of ['pin', 'check']) {
      const r = cli(
        [name, '--check', 'nosuchfile.yaml', '--index', index].filter((a) => name === 'pin' || a !== '--check'),
        dir,
      );
      expect(r.err).toBe(`apk-indexer ${name}: nosuchfile.yaml: cannot read: no such file or directory\n`);
      expect(r.out).toBe('');
      expect(r.code).toBe(2);
    }
  });

  it("help says serve's default repository and keeps each flag's words to the flag", () => {
    const serve = cli(['serve', '--help']).out;
    expect(serve).not.toContain('required (no repository at all');
    expect(serve).toMatch(
      /--index, -apk-index-url URL +base URL[\s\S]*default: Wolfi,\s+https:\/\/packages\.wolfi\.dev\/os/,
    );
    const pin = cli(['pin', '--help']).out;
    const wait = pin.slice(pin.indexOf('  --wait'), pin.indexOf('  --secdb'));
    expect(wait).toMatch(/how long to wait for a --server still loading its indexes \(default:\s+2m\)/);
    expect(wait).not.toContain('/-/changes');
  });
});
