import { spawn, spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRepo } from '../fixtures/apk-repo.js';
import { fixtureKey } from '../helpers/fixture-service.js';
import { Upstream } from '../helpers/upstream.js';
import { bin, ensureBuilt, serveProcess as serve } from '../helpers/cli-process.js';
import { eventually } from '../helpers/wait.js';

describe('apk-indexer serve as a process', () => {
  let upstream: Upstream;
  let dir: string;
  let keyPath: string;

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'apk-process-'));
    const key = fixtureKey();
    const repo = await writeFixtureRepo(join(dir, 'os'), {
      arches: { x86_64: [{ name: 'bash', version: '5.2.37-r0' }], aarch64: [{ name: 'bash', version: '5.2.37-r0' }] },
      sign: [{ key }],
    });
    keyPath = repo.keyPaths[0]!;
    upstream = await new Upstream({ root: dir }).start();
  }, 120_000);
  afterAll(async () => {
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts from environment variables, answers, drains an in-flight request on SIGTERM and exits 0', async () => {
    // The aarch64 index hangs, so a query is still waiting for the first load when SIGTERM arrives.
    upstream.fail({ hang: true, path: 'aarch64/APKINDEX.tar.gz' });
    const s = await serve([], {
      APK_INDEXER_INDEX_URL: `${upstream.url}/os`,
      APK_INDEXER_ARCHES: 'x86_64,aarch64',
      APK_INDEXER_KEYS: keyPath,
      APK_INDEXER_LOG_OUTPUT: 'json',
      APK_INDEXER_FIRST_LOAD_TIMEOUT: '60s',
    });
    // One keep-alive connection, open before SIGTERM closes the listener.
    const pool = new Pool(`http://127.0.0.1:${s.port}`, { connections: 1 });
    try {
      const livez = await pool.request({ path: '/livez', method: 'GET' });
      expect([livez.statusCode, await livez.body.text()]).toEqual([200, 'ok\n']);
      // x86_64 has loaded and aarch64 is held, so /bash will wait for the first load (asked on the same connection).
      await eventually(async () => {
        const res = await pool.request({ path: '/readyz', method: 'GET' });
        const readyz = await res.body.text();
        expect([res.statusCode, readyz.startsWith('not ready: 1 of 2 indexes loaded; ')], readyz).toEqual([503, true]);
      });

      // SIGTERM once /bash has been written to the open connection: on loopback the bytes are then in the
      // server's socket buffer, and the server reads them in the same turn as the signal, before any drain timer.
      const written = new Promise<void>((resolve) => {
        const onSent = (message: unknown) => {
          if ((message as { request: { path: string } }).request.path !== '/bash') return;
          unsubscribe('undici:request:bodySent', onSent);
          resolve();
        };
        subscribe('undici:request:bodySent', onSent);
      });
      const inFlight = pool.request({ path: '/bash', method: 'GET' });
      await written;
      const started = Date.now();
      s.child.kill('SIGTERM');
      // Released at once with a 503 (no false 404, no waiting out the 60s first-load timeout).
      const res = await inFlight;
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers.connection).toBe('close');
      expect(await res.body.text()).toBe('indexes are still loading (1 of 2 loaded); retry shortly\n');
      expect(await s.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await pool.destroy();
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
    const lines = s
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['loading 2 indexes', 'shutting down: finishing in-flight requests', 'stopped']),
    );
  });

  it("takes hown3d/renovate-apk-indexer's flags as the whole command line, logs text, and exits 0 on SIGINT", async () => {
    upstream.clearFaults();
    // As its image is run: flags only, no `serve` in front.
    const s = await serve(
      [
        '-apk-index-url',
        `${upstream.url}/os/x86_64/APKINDEX.tar.gz`,
        '-update-interval',
        '2',
        '-log-level',
        'info',
        '-log-output',
        'text',
      ],
      {},
      [],
    );
    const res = await fetch(`http://127.0.0.1:${s.port}/bash/latest`);
    expect(await res.text()).toBe('5.2.37-r0\n');
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    const text = s.output().replace(/\x1b\[[0-9;]*m/g, '');
    expect(text).toMatch(/INFO.*loading 1 index\b/);
    expect(text).toMatch(/WARN.*index loaded without signature verification/);
  });

  it('exits 2 naming the culprit on a bad configuration', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', 'x'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', APK_INDEXER_LOG_OUTPUT: 'xml' },
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toBe('apk-indexer serve: --port: expected a port number 0-65535, got "x"\n');
  });

  it('prints its help with -h and exits 0', async () => {
    const result = spawnSync(process.execPath, [bin, 'serve', '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: apk-indexer serve/);
    expect(result.stdout).toContain('-apk-index-url');
  });
});
