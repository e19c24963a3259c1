import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildService, type Service } from '../../src/serve/app.js';
import { indexDataMember, signatureMember } from '../fixtures/apk-repo.js';
import { fixtureKey, testSettings } from '../helpers/fixture-service.js';

/**
 * Issue 26 §4: four signed repositories whose indexes never end (a valid signature member by the trusted key's
 * name, then compressed bytes forever) took the process to 1,149 MB. With one total budget for the bytes held
 * until verified, the downloads share it: each is refused (`limit`) once waiting cannot help, and every byte is
 * given back. Bounded: the upstream on 127.0.0.1 stops with the test; the service retries only after a minute.
 */
const BUDGET = 4 * 1024 * 1024;
const REPOSITORIES = 4;

describe('several endless signed upstreams against the total download budget', () => {
  let server: Server;
  let url: string;
  let service: Service;
  let dir: string;
  const sockets = new Set<Socket>();
  let sent = 0;

  beforeAll(async () => {
    const key = fixtureKey();
    dir = await mkdtemp(join(tmpdir(), 'apk-endless-'));
    await writeFile(join(dir, key.name), key.publicPem);
    // The signature member is real (signed by the trusted key's name); the gzip member that follows never ends:
    // after its header, stored deflate blocks (not final, 65,535 bytes each) forever.
    const gzipHeader = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]);
    const head = Buffer.concat([signatureMember(indexDataMember('P:a\nV:1-r0\n'), { key }), gzipHeader]);
    const block = Buffer.concat([Buffer.from([0x00, 0xff, 0xff, 0x00, 0x00]), Buffer.alloc(0xffff, 0x41)]);
    const filler = Buffer.concat(Array.from({ length: 4 }, () => block));
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(head);
      const pump = () => {
        while (!res.destroyed) {
          sent += filler.length;
          if (!res.write(filler)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const repositories = Array.from({ length: REPOSITORIES }, (_, i) => ({
      name: `r${i}`,
      url: `${url}/r${i}`,
      arches: ['x86_64'],
      keys: [join(dir, key.name)],
    }));
    service = buildService(testSettings(repositories, { downloadBudgetBytes: BUDGET, logLevel: 'silent' }), {
      logger: false,
      retryBaseMs: 60_000,
    });
    await service.app.ready();
    service.store.start();
  });

  afterAll(async () => {
    await service?.app.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses every download cleanly (limit), keeps the service up, and holds nothing after', async () => {
    const status = async () =>
      (await service.app.inject({ method: 'GET', url: '/-/status' })).json() as {
        indexes: Array<{ lastError?: { reason: string; message: string } }>;
      };
    await expect
      .poll(async () => (await status()).indexes.map((i) => i.lastError?.reason), { timeout: 20_000, interval: 50 })
      .toEqual(Array.from({ length: REPOSITORIES }, () => 'limit'));
    for (const index of (await status()).indexes)
      expect(index.lastError!.message).toMatch(/download budget of 4194304 bytes/);
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^apk_indexer_download_held_bytes 0$/m);
    expect((await service.app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
    // Without the budget each would have read up to maxCompressedBytes (256 MiB); the socket buffers hold a little more.
    expect(sent).toBeLessThan(BUDGET + REPOSITORIES * 16 * 1024 * 1024);
  });
});
