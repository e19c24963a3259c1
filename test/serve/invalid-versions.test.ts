import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';

/** Issue 26 §3: an upstream version that is not an APK version never reaches an answer; operators see the count. */
const ESCAPES = '1.0\x1b[2J\x1b[H-r0';

describe('a served index with records whose version apk would not accept', () => {
  let f: FixtureService;
  const lines: string[] = [];
  beforeAll(async () => {
    f = await startFixtureService({
      repositories: {
        os: {
          x86_64: [
            { name: 'curl', version: '8.11.0-r0' },
            { name: 'curl', version: ESCAPES },
            { name: 'evil', version: '9 9' },
          ],
        },
      },
      settings: { logLevel: 'warn' },
      service: { logStream: { write: (line) => void lines.push(line) } },
    });
  });
  afterAll(() => f.close());

  const get = (url: string) => f.service.app.inject({ method: 'GET', url });

  it('answers without them: the valid versions, a 404 for a name that only had invalid ones', async () => {
    const curl = await get('/curl');
    expect(curl.statusCode).toBe(200);
    expect(curl.json().releases.map((r: { version: string }) => r.version)).toEqual(['8.11.0-r0']);
    expect((await get('/curl/latest')).body).toBe('8.11.0-r0\n');
    expect(curl.body).not.toContain('\\u001b');
    expect((await get('/evil')).statusCode).toBe(404);
  });

  it('counts them in /-/status and /metrics, and warns once per load naming the first, escaped', async () => {
    const status = (await get('/-/status')).json() as { indexes: Array<{ skippedVersions: number }> };
    expect(status.indexes.map((i) => i.skippedVersions)).toEqual([2]);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/^apk_indexer_index_skipped_versions\{[^}]*arch="x86_64"[^}]*\} 2$/m);
    const warnings = lines.filter((l) => l.includes('not a valid APK version'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('2 records or provided versions skipped');
    expect(warnings[0]).not.toContain('\x1b');
    // An unchanged index (a 304) is not read again, and not warned about again.
    await f.refresh();
    expect(lines.filter((l) => l.includes('not a valid APK version'))).toHaveLength(1);
  });
});
