import { afterEach, describe, expect, it } from 'vitest';
import type { RepositorySettings } from '../../src/config/settings.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';

let f: FixtureService | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

interface LogLine {
  level: number;
  msg: string;
  index?: string;
  reason?: string;
  err?: { type?: string; message?: string; stack?: string };
}

describe('a bug inside a refresh', () => {
  it('is counted as reason internal with its stack logged at error level, not as a network failure', async () => {
    const lines: string[] = [];
    // A repository whose keys are not a list (a state the config loader never builds): the store's own code
    // throws a genuine TypeError while it reads the keys, inside the refresh.
    f = await startFixtureService({
      repositories: {
        os: { x86_64: [{ name: 'curl', version: '8.11.0-r0' }] },
        broken: { x86_64: [{ name: 'bootc', version: '1.16.6-r0' }] },
      },
      repositorySettings: { broken: { keys: null } as unknown as Partial<RepositorySettings> },
      settings: { logLevel: 'info' },
      service: { logStream: { write: (line) => void lines.push(line) } },
    });
    const { app } = f.service;

    const status = (await app.inject({ method: 'GET', url: '/-/status' })).json() as {
      indexes: Array<{ url: string; lastError?: { reason: string; message: string } }>;
    };
    const broken = status.indexes.find((i) => i.url.includes('/broken/'))!;
    expect(broken.lastError?.reason).toBe('internal');
    expect(broken.lastError?.message).toMatch(/\/broken\/x86_64\/APKINDEX\.tar\.gz: .*map/);
    // A retry will not soon fix a bug: it does not hold readiness back.
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/apk_indexer_refresh_failures_total\{[^}]*repository="broken"[^}]*reason="internal"\} 1/);
    expect(metrics).not.toMatch(/apk_indexer_refresh_failures_total\{[^}]*reason="network"\}/);

    const logged = lines.map((l) => JSON.parse(l) as LogLine);
    const errors = logged.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.index).toMatch(/\/broken\/x86_64\/APKINDEX\.tar\.gz$/);
    expect(errors[0]!.err?.type).toBe('TypeError');
    // The stack: where the bug is (the shared loader reads the keys), called from the store's refresh.
    expect(errors[0]!.err?.stack).toMatch(/^TypeError: .*\n\s+at /);
    expect(errors[0]!.err?.stack).toMatch(/\n\s+at IndexStore\.\w+ .*store\.(ts|js)/);
    expect(logged.find((l) => l.msg.startsWith('index refresh failed (internal)'))).toBeDefined();
  });
});
