import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/settings.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { runCommand, writeTree } from './helpers.js';
import { command } from '../helpers/command.js';

const check = command('check');
const pin = command('pin');

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};

describe('--server that cannot answer yet, or is not an apk-indexer', () => {
  let dir: string;
  let stalled: Server;
  let notIndexer: Server;
  let service: Service;
  const sockets = new Set<Socket>();
  let stalledUrl: string;
  let notIndexerUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-server-'));
    await writeTree(dir, {
      'apko/one.yaml':
        'archs: [amd64]\ncontents:\n  repositories: [https://packages.wolfi.dev/os]\n  packages:\n    - curl=8.10.0-r0\n',
    });
    // An upstream that accepts the connection and never answers: the service stays "still loading".
    stalled = createServer(() => {});
    stalled.on('connection', (s) => sockets.add(s));
    stalledUrl = await listen(stalled);
    // Another service on the URL: 404 to everything.
    notIndexer = createServer((_req, res) => res.writeHead(404).end('Not Found'));
    notIndexerUrl = await listen(notIndexer);
    service = buildService(
      {
        ...DEFAULTS,
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        repositories: [{ name: 'wolfi', url: stalledUrl, arches: ['x86_64'], keys: [] }],
      },
      { logger: false },
    );
    service.store.start();
    await service.app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    service.store.stop();
    await service.app.close();
    for (const s of sockets) s.destroy();
    stalled.close();
    notIndexer.close();
    await rm(dir, { recursive: true, force: true });
  });

  const serviceUrl = () => `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;

  it('waits for a service still loading, then says "still loading" (exit 2) when --wait runs out', async () => {
    for (const command of [pin, check]) {
      const r = await runCommand(command, ['-C', dir, '--server', serviceUrl(), '--wait', '1s']);
      expect(r.code).toBe(2);
      expect(
        r.err.startsWith(
          `apk-indexer ${command === pin ? 'pin' : 'check'}: ${serviceUrl()}: still loading after 1 s (not ready: 0 of 1 index loaded`,
        ),
      ).toBe(true);
      expect(r.err).toMatch(/\); --wait DURATION waits longer\n$/);
    }
  });

  it('recognises a URL that is not an apk-indexer and exits 2 naming it', async () => {
    const r = await runCommand(pin, ['-C', dir, '--check', '--server', notIndexerUrl]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `apk-indexer pin: ${notIndexerUrl}: not an apk-indexer: GET /readyz answered 404 (is the URL the service's root?)\n`,
    );
    const c = await runCommand(check, ['-C', dir, '--server', `${notIndexerUrl}/wrong/path`]);
    expect(c.code).toBe(2);
    expect(c.err).toContain('not an apk-indexer: GET /readyz answered 404');
  });

  it('refuses a --wait that is not a duration', async () => {
    const r = await runCommand(pin, ['-C', dir, '--server', serviceUrl(), '--wait', 'soon']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^apk-indexer pin: --wait takes a duration like 90s or 5m, not soon\n/);
  });
});
