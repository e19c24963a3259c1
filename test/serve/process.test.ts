import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRepo } from '../../src/fixtures/apk-repo.js';
import { fixtureKey } from '../helpers/fixture-service.js';
import { Upstream } from '../helpers/upstream.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'apk-indexer.js');

/** The newest modification time of the TypeScript sources under `dir`. */
function newest(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
}

/** The bin runs dist/; build it when the sources are newer (`npm test` builds first anyway). */
function ensureBuilt(): void {
  const built = join(root, 'dist', 'src', 'cli', 'commands', 'serve.js');
  let builtAt = 0;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    // not built yet
  }
  if (builtAt >= newest(join(root, 'src'))) return;
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { encoding: 'utf8' });
  if (statSync(built).mtimeMs < builtAt || result.error) throw new Error(`build failed: ${result.stdout}${result.stderr}`);
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the exit code; listened for from the start so an early exit is not missed. */
  exited: Promise<number | null>;
  port: number;
  output: () => string;
}

/** Starts `apk-indexer serve` and waits for its listen line. */
async function serve(args: string[], env: Record<string, string>, command: string[] = ['serve']): Promise<Running> {
  const child = spawn(process.execPath, [bin, ...command, ...args, '--host', '127.0.0.1', '--port', '0'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line in: ${log}`)), 20_000);
    const look = () => {
      // pino-pretty colours and JSON lines both carry the address.
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/i.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${log}`)));
  });
  return { child, exited, port, output: () => log };
}

describe('apk-indexer serve as a process', () => {
  let upstream: Upstream;
  let dir: string;
  let keyPath: string;

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'apk-process-'));
    const key = fixtureKey();
    const repo = await writeFixtureRepo(join(dir, 'os'), { arches: { x86_64: [{ name: 'bash', version: '5.2.37-r0' }], aarch64: [{ name: 'bash', version: '5.2.37-r0' }] }, sign: [{ key }] });
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
    expect((await fetch(`http://127.0.0.1:${s.port}/livez`)).status).toBe(200);
    const inFlight = fetch(`http://127.0.0.1:${s.port}/bash`);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    s.child.kill('SIGTERM');
    expect((await inFlight).status).toBe(503);
    expect(await s.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    const lines = s.output().trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['loading 2 indexes', 'shutting down: finishing in-flight requests', 'stopped']));
  });

  it("takes hown3d/renovate-apk-indexer's flags as the whole command line, logs text, and exits 0 on SIGINT", async () => {
    upstream.clearFaults();
    // As its image is run: flags only, no `serve` in front.
    const s = await serve(['-apk-index-url', `${upstream.url}/os/x86_64/APKINDEX.tar.gz`, '-update-interval', '2', '-log-level', 'info', '-log-output', 'text'], {}, []);
    const res = await fetch(`http://127.0.0.1:${s.port}/bash/latest`);
    expect(await res.text()).toBe('5.2.37-r0\n');
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    const text = s.output().replace(/\x1b\[[0-9;]*m/g, '');
    expect(text).toMatch(/INFO.*loading 1 indexes/);
    expect(text).toMatch(/WARN.*index loaded without signature verification/);
  });

  it('exits 2 naming the culprit on a bad configuration', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', APK_INDEXER_LOG_OUTPUT: 'xml' } });
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
