import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { readIndexBody } from '../../src/load/load-index.js';
import { resolveLimits } from '../../src/parse/limits.js';
import { bin, ensureBuilt } from '../helpers/cli-process.js';
import { cutShortTar } from '../fixtures/hostile-index.js';

const location = { url: 'file:///cut/x86_64/APKINDEX.tar.gz', arch: 'x86_64', repository: 'cut' };

describe('a tar cut short inside a whole gzip member', () => {
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'cut-short-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is a refused index (reason tar), not an uncaught error', async () => {
    expect(cutShortTar().length).toBeLessThan(300);
    const err = await readIndexBody(Readable.from([cutShortTar()]), location, {
      keys: [],
      limits: resolveLimits({}),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IndexError);
    expect((err as IndexError).reason).toBe('tar');
    expect((err as IndexError).message).toMatch(/cut short|Unexpected end/);
  });

  it('makes query exit 2 with one line naming the file, never 70', async () => {
    const file = join(dir, 'APKINDEX.tar.gz');
    await writeFile(file, cutShortTar());
    const r = spawnSync(process.execPath, [bin, 'query', 'a', '--index', file], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/a bug in apk-indexer| {4}at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(file);
  });
});
