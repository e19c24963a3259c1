import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndexArchive } from '../../src/fixtures/apk-repo.js';
import { Upstream } from '../helpers/upstream.js';

const bin = fileURLToPath(new URL('../../bin/apk-indexer.js', import.meta.url));

describe('apk-indexer serve as a process', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await new Upstream().start();
    upstream.files.set('/os/x86_64/APKINDEX.tar.gz', buildIndexArchive({ packages: [{ name: 'bash', version: '5.2.37-r0' }] }));
  });
  afterAll(async () => upstream.stop());

  it('starts from environment variables, answers, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, APK_INDEXER_INDEX_URL: `${upstream.url}/os/x86_64/APKINDEX.tar.gz`, APK_INDEXER_LOG_OUTPUT: 'json', APK_INDEXER_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen line in: ${log}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    const res = await fetch(`http://127.0.0.1:${port}/bash/latest`);
    expect(await res.text()).toBe('5.2.37-r0\n');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(log).toMatch(/"msg":"index signature not verified/);
  });

  it('exits 2 with the reason on a bad configuration', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toMatch(/--port: expected a port number/);
  });
});
