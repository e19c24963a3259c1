import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRepo } from '../fixtures/apk-repo.js';
import { ensureBuilt, serveProcess } from '../helpers/cli-process.js';
import { fixtureKey } from '../helpers/fixture-service.js';
import { ROOT } from './helpers.js';

/**
 * The images run `npm ci --omit=dev` beside the built dist/ (Dockerfile's runtime stage, melange's package). Here
 * the same tree is laid out offline: the production closure of package-lock.json copied from node_modules, with
 * dist, bin, config and package.json, in a folder with no node_modules above it. A runtime import of a dev
 * dependency (ajv, fast-check, autocannon) fails here before it fails in an image.
 */
describe('the production install', () => {
  let app: string;
  let repo: { url: string; keyPaths: string[] };

  beforeAll(async () => {
    ensureBuilt();
    app = await mkdtemp(join(tmpdir(), 'apk-runtime-'));
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const production = Object.entries(lock.packages).filter(
      ([path, entry]) => path.startsWith('node_modules/') && !entry.dev,
    );
    expect(production.length).toBeGreaterThan(10);
    for (const [path] of production)
      await cp(join(ROOT, path), join(app, path), { recursive: true, dereference: true });
    for (const part of ['dist', 'bin', 'config', 'package.json'])
      await cp(join(ROOT, part), join(app, part), { recursive: true });
    repo = await writeFixtureRepo(join(app, 'repo'), {
      arches: { x86_64: [{ name: 'bash', version: '5.2.37-r0', buildTime: 1_700_000_000 }] },
      sign: [{ key: fixtureKey() }],
    });
  }, 120_000);
  afterAll(async () => {
    await rm(app, { recursive: true, force: true });
  });

  it('runs vercmp and query', () => {
    const bin = join(app, 'bin', 'apk-indexer.js');
    const vercmp = spawnSync(process.execPath, [bin, 'vercmp'], {
      input: '1.0_rc9 1.0_rc10\n',
      encoding: 'utf8',
      cwd: app,
    });
    expect(vercmp.stderr).toBe('');
    expect(vercmp.stdout).toBe('<\n');
    const query = spawnSync(
      process.execPath,
      [bin, 'query', 'bash', '--index', repo.url, '--arch', 'x86_64', '--key', repo.keyPaths[0]!],
      { encoding: 'utf8', cwd: app },
    );
    expect(query.status, query.stderr).toBe(0);
    expect(JSON.parse(query.stdout)).toEqual({
      bash: {
        releases: [{ version: '5.2.37-r0', releaseTimestamp: '2023-11-14T22:13:20.000Z' }],
        tags: { latest: '5.2.37-r0' },
      },
    });
  });

  it('serves with text logs (pino-pretty), answers, and exits 0 on SIGTERM', async () => {
    const s = await serveProcess(
      ['--index', repo.url, '--arch', 'x86_64', '--key', repo.keyPaths[0]!, '--log-output', 'text'],
      {},
      ['serve'],
      join(app, 'bin', 'apk-indexer.js'),
    );
    const res = await fetch(`http://127.0.0.1:${s.port}/bash/latest`);
    expect(await res.text()).toBe('5.2.37-r0\n');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.output()).toMatch(/index loaded/);
  });
});
