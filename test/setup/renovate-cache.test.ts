import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedInstall } from '../helpers/renovate.js';

/** The cache of real Renovate is reused only when whole: a half-written install is found out, not run. */
describe('the Renovate cache check', () => {
  const dirs: string[] = [];
  afterEach(async () => Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))));

  /** A stand-in install whose renovate.js runs `body`. */
  async function install(body: string, proven?: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'renovate-cache-'));
    dirs.push(dir);
    await mkdir(join(dir, 'node_modules', 'renovate', 'dist'), { recursive: true });
    await writeFile(join(dir, 'node_modules', 'renovate', 'dist', 'renovate.js'), body);
    if (proven) await writeFile(join(dir, '.proven'), proven);
    return dir;
  }

  it('reuses an install that was proven and still runs', async () => {
    expect(cachedInstall(await install('console.log("44.121.2")', '44.121.2'), '44.121.2')).toBeUndefined();
  });

  it('refuses an install that was never proven, though it runs (npm was cut short after writing renovate.js)', async () => {
    expect(cachedInstall(await install('console.log("44.121.2")'), '44.121.2')).toMatch(/never proven/);
  });

  it('refuses a proven install that no longer runs, with the error it prints', async () => {
    const dir = await install("require('core-js-pure/missing')", '44.121.2');
    expect(cachedInstall(dir, '44.121.2')).toMatch(/exited 1: [\s\S]*Cannot find module 'core-js-pure\/missing'/);
  });

  it('refuses an install of another version, and a folder that is not there', async () => {
    expect(cachedInstall(await install('console.log("39.0.0")', '39.0.0'), '44.121.2')).toMatch(/another version/);
    expect(cachedInstall(join(tmpdir(), 'no-such-renovate-cache'), '44.121.2')).toBe('not installed');
  });
});
