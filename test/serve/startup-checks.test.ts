import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRepo } from '../fixtures/apk-repo.js';
import { bin, ensureBuilt, serveProcess } from '../helpers/cli-process.js';
import { fixtureKey } from '../helpers/fixture-service.js';
import { untilReady } from '../helpers/wait.js';

/** What `serve` refuses before it listens (exit 2, one line, no credentials), and how it stops. */

let dir: string;
let indexPath: string;
let keyPath: string;
beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'apk-startup-'));
  const key = fixtureKey();
  keyPath = (
    await writeFixtureRepo(join(dir, 'os'), {
      sign: [{ key }],
      arches: { x86_64: [{ name: 'bash', version: '5.2.37-r0' }] },
    })
  ).keyPaths[0]!;
  indexPath = join(dir, 'os', 'x86_64', 'APKINDEX.tar.gz');
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function serve(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? '', APK_INDEXER_LOG_OUTPUT: 'json', ...env },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('serve refuses at start, with exit 2 and one line', () => {
  it('a password with an unencoded # (no stack trace, no password)', () => {
    const r = serve(['--index', 'https://robot:s3cr#t-pw@apk.example.test/os']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('%23');
    expect(r.stderr + r.stdout).not.toMatch(/s3cr|t-pw|robot|at .*\.js/);
  });

  it('an unparsable key URL, redacted', () => {
    const r = serve(['--index', indexPath, '--key', 'https://robot:p@ss#w0rdX@keys.example.test:99999/k.rsa.pub']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^apk-indexer serve: --key\[0\]: /);
    expect(r.stderr + r.stdout).not.toMatch(/robot|p@ss|w0rdX/);
  });

  it('a local key that is not there', () => {
    const r = serve(['--index', indexPath, '--key', join(dir, 'missing.rsa.pub')]);
    expect([r.status, r.stderr]).toEqual([
      2,
      `apk-indexer serve: repositories[0] (${indexPath.replace(/\/+$/, '')}): key ${join(dir, 'missing.rsa.pub')}: cannot read: no such file or directory\n`,
    ]);
    expect(r.stdout).not.toContain('index refresh failed');
  });

  it('a local index that is not there', () => {
    const r = serve(['--index', join(dir, 'nowhere', 'APKINDEX.tar.gz'), '--key', keyPath]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `apk-indexer serve: repositories[0] (${join(dir, 'nowhere', 'APKINDEX.tar.gz')}): index ${join(dir, 'nowhere', 'APKINDEX.tar.gz')}: cannot read: no such file or directory\n`,
    );
  });
});

describe('serve with local files', () => {
  it('reads an index file of any name as one index, and drains on SIGHUP as on SIGTERM (exit 0)', async () => {
    const { copyFile } = await import('node:fs/promises');
    const named = join(dir, 'alpine-3.16.tar.gz');
    await copyFile(indexPath, named);
    const s = await serveProcess(['--index', named, '--key', keyPath], { APK_INDEXER_LOG_OUTPUT: 'json' });
    try {
      const url = `http://127.0.0.1:${s.port}`;
      await untilReady(url);
      expect(await (await fetch(`${url}/bash/latest`)).text()).toBe('5.2.37-r0\n');
      s.child.kill('SIGHUP');
      expect(await s.exited).toBe(0);
      const messages = s
        .output()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(messages).toEqual(expect.arrayContaining(['shutting down: finishing in-flight requests', 'stopped']));
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  }, 30_000);
});
