import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/serve/metrics.js';
import { SecdbStore } from '../../src/serve/secdb-store.js';
import { testSettings } from '../helpers/fixture-service.js';
import { Upstream } from '../helpers/upstream.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

interface LogLine {
  level: number;
  msg: string;
  secdb?: string;
  reason?: string;
  err?: { type?: string; stack?: string };
}

describe('a bug inside a security database refresh', () => {
  it('is counted as reason internal with its stack logged at error level, not as a network failure', async () => {
    const upstream = await new Upstream().start();
    cleanup.push(() => upstream.stop());
    upstream.files.set(
      '/os/security.json',
      Buffer.from(
        JSON.stringify({ packages: [{ pkg: { name: 'openssl', secfixes: { '3.4.0-r1': ['CVE-2024-9143'] } } }] }),
      ),
    );
    const lines: string[] = [];
    const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } });
    cleanup.push(() => app.close());
    const metrics = createMetrics();
    const repository = {
      name: 'os',
      url: `${upstream.url}/os`,
      arches: ['x86_64'],
      keys: [],
      secdb: `${upstream.url}/os/security.json`,
    };
    // A size cap that is no number (a state no caller builds): the reader's own comparison throws a genuine
    // TypeError once the body arrives, inside the refresh.
    const store = new SecdbStore(testSettings([repository]), {
      log: app.log,
      metrics,
      maxBytes: Symbol('not a number') as unknown as number,
      retryBaseMs: 60_000,
    });
    cleanup.push(() => store.stop());
    store.start();
    await store.settled();

    expect(upstream.requestsFor('/os/security.json')).toHaveLength(1);
    expect(store.status()[0]!.lastError?.message).toMatch(/\/os\/security\.json: .*Symbol/);
    const scraped = await metrics.registry.metrics();
    expect(scraped).toMatch(/apk_indexer_secdb_refresh_failures_total\{repository="os",reason="internal"\} 1/);
    expect(scraped).not.toMatch(/apk_indexer_secdb_refresh_failures_total\{[^}]*reason="network"\}/);

    const logged = lines.map((l) => JSON.parse(l) as LogLine);
    const errors = logged.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.secdb).toBe(`${upstream.url}/os/security.json`);
    expect(errors[0]!.err?.type).toBe('TypeError');
    expect(errors[0]!.err?.stack).toMatch(/^TypeError: .*\n\s+at .*load-secdb\.(ts|js)/);
    expect(logged.find((l) => l.msg.startsWith('security database refresh failed (internal)'))).toBeDefined();
  });
});
