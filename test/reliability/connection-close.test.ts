import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureKey, writeFixtureRepo } from '../fixtures/apk-repo.js';
import { openSource } from '../../src/source/open.js';
import { bin, ensureBuilt, serveProcess } from '../helpers/cli-process.js';
import { eventually, untilReady } from '../helpers/wait.js';

/**
 * An upstream that answers as `python3 -m http.server` does: HTTP/1.0, the whole response in one write, then the
 * connection closed. undici 7.30 hit an uncatchable `assert(!this.paused)` on such answers and killed the process.
 */
const run = promisify(execFile);
const key = generateFixtureKey('close.rsa.pub');
let dir: string;
let server: Server;
let baseUrl: string;
let served = 0;
/** Answers whose last byte and FIN the server has handed to the kernel. */
let ended = 0;
let keyPath = '';
const sockets = new Set<Socket>();

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'apk-close-'));
  // Megabytes that compress poorly, so the client's parser pauses for its reader while the close is on its way.
  const many = (arch: string) =>
    Array.from({ length: 3_000 }, (_, i) => ({
      name: `pkg-${i}`,
      version: `1.${i}.0-r0`,
      arch,
      buildTime: 1_700_000_000 + i,
      description: randomBytes(60).toString('base64'),
    }));
  keyPath = (
    await writeFixtureRepo(join(dir, 'one'), {
      sign: [{ key }],
      arches: { x86_64: many('x86_64'), aarch64: many('aarch64') },
    })
  ).keyPaths[0]!;
  await writeFixtureRepo(join(dir, 'two'), {
    sign: [{ key }],
    arches: { x86_64: [{ name: 'bootc', version: '1.16.7-r0' }], aarch64: [{ name: 'bootc', version: '1.16.7-r0' }] },
  });
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('finish', () => ended++);
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', async (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = decodeURIComponent(/^GET (\S+)/.exec(head)?.[1] ?? '/');
      head = '';
      let body: Buffer;
      let status = '200 OK';
      try {
        body = await readFile(join(dir, path));
      } catch {
        body = Buffer.from('not found\n');
        status = '404 Not Found';
      }
      served++;
      // As http.server does: the headers, the file in 64 KiB writes, then close.
      socket.write(
        `HTTP/1.0 ${status}\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nContent-type: application/gzip\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      for (let at = 0; at < body.length; at += 65_536) socket.write(body.subarray(at, at + 65_536));
      socket.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('an upstream that closes the connection right after the body', () => {
  it('the client reads the whole body even when its reader lags behind the close (undici#5360)', async () => {
    // 64 KiB fill the body stream's buffer exactly: the parser pauses on the last byte, then the FIN arrives.
    const expected = randomBytes(64 * 1024);
    await writeFile(join(dir, 'blob'), expected);
    for (let i = 0; i < 5; i++) {
      const before = ended;
      const opened = await openSource(`${baseUrl}/blob`);
      if (opened.notModified) throw new Error('no validators were sent');
      // A slow reader: it reads nothing until the rest of the body and the FIN are on their way (the parser pauses
      // under backpressure meanwhile).
      await eventually(() => expect(ended).toBe(before + 1));
      const chunks: Buffer[] = [];
      for await (const chunk of opened.body) chunks.push(chunk);
      expect(Buffer.concat(chunks).equals(expected)).toBe(true);
    }
  });

  it('query reads two repositories from it 20 times in a row, every run a success', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const args = [
        bin,
        'query',
        'pkg-2999',
        'bootc',
        '--index',
        `${baseUrl}/one`,
        '--index',
        `${baseUrl}/two`,
        '--arch',
        'x86_64,aarch64',
        '--key',
        keyPath,
      ];
      try {
        const { stdout } = await run(process.execPath, args, { timeout: 20_000 });
        const json = JSON.parse(stdout) as Record<string, { tags: { latest: string } } | null>;
        outcomes.push(`${json['pkg-2999']?.tags.latest} ${json.bootc?.tags.latest}`);
      } catch (err) {
        const e = err as { code?: number; stderr?: string };
        outcomes.push(`exit ${e.code}: ${e.stderr?.split('\n').slice(0, 3).join(' | ')}`);
      }
    }
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => '1.2999.0-r0 1.16.7-r0'));
  }, 240_000);

  it('a running serve reads it at start and on 15 forced refreshes without dying', async () => {
    const before = served;
    const service = await serveProcess(
      ['--index', `${baseUrl}/one`, '--index', `${baseUrl}/two`, '--arch', 'x86_64,aarch64', '--key', keyPath],
      { APK_INDEXER_REFRESH_MIN_INTERVAL: '0' },
    );
    try {
      const url = `http://127.0.0.1:${service.port}`;
      await untilReady(url, 20_000);
      for (let i = 0; i < 15; i++) {
        const refreshed = await fetch(`${url}/-/refresh`, { method: 'POST' });
        expect(refreshed.status).toBe(200);
        const status = (await refreshed.json()) as { indexes: Array<{ lastError?: unknown; records: number }> };
        expect(status.indexes.map((x) => [x.records, x.lastError ?? null])).toEqual([
          [3_000, null],
          [3_000, null],
          [1, null],
          [1, null],
        ]);
      }
      const answer = await fetch(`${url}/pkg-2999/latest`);
      expect(await answer.text()).toBe('1.2999.0-r0\n');
      expect(service.child.exitCode).toBeNull();
      expect(served - before).toBeGreaterThanOrEqual(4 * 16);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  }, 240_000);
});
