import { copyFile, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndexArchive, generateFixtureKey } from '../fixtures/apk-repo.js';
import { openSource } from '../../src/source/open.js';

/** A file:// index is re-read when its content changes, however its size and mtime look. */

const key = generateFixtureKey('file-change.rsa.pub');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-file-change-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(path: string, etag?: string) {
  const opened = await openSource(path, { etag });
  if (opened.notModified) return { notModified: true as const };
  const parts: Buffer[] = [];
  for await (const chunk of opened.body) parts.push(chunk);
  return { notModified: false as const, etag: opened.etag!, bytes: Buffer.concat(parts) };
}

describe('a file:// index', () => {
  it('replaced by one of the same size and mtime (cp -p, rsync -t) is read again; untouched or rewritten unchanged, it is not', async () => {
    const path = join(dir, 'APKINDEX.tar.gz');
    const a = buildIndexArchive({ packages: [{ name: 'bash', version: '5.2.37-r1' }], sign: [{ key }] });
    // Another index of exactly the same size (compressed sizes vary by a byte or two: try a few versions).
    let b = a;
    for (let r = 2; r < 200 && (b === a || b.length !== a.length); r++)
      b = buildIndexArchive({ packages: [{ name: 'bash', version: `5.2.37-r${r}` }], sign: [{ key }] });
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(false);
    await writeFile(path, a);
    const first = await read(path);
    expect(first.notModified).toBe(false);
    const { etag } = first as { etag: string };
    expect(await read(path, etag)).toEqual({ notModified: true });

    // cp -p: new bytes of the same size, then the old mtime put back.
    const { atime, mtime } = await stat(path);
    await writeFile(path, b);
    await utimes(path, atime, mtime);
    expect((await stat(path)).size).toBe(a.length);
    expect((await stat(path)).mtimeMs).toBe(mtime.getTime());
    const second = await read(path, etag);
    expect(second.notModified).toBe(false);
    expect((second as { bytes: Buffer }).bytes.equals(b)).toBe(true);

    // rsync -t: a new file renamed over it, same size and mtime as the one before.
    const other = join(dir, 'staged');
    await writeFile(other, a);
    await utimes(other, atime, mtime);
    await copyFile(other, path);
    await utimes(path, atime, mtime);
    const third = await read(path, (second as { etag: string }).etag);
    expect((third as { bytes: Buffer }).bytes.equals(a)).toBe(true);

    // The same content written again (a touch, a deploy that rewrites every file): not re-read.
    await writeFile(path, await readFile(other));
    expect(await read(path, (third as { etag: string }).etag)).toEqual({ notModified: true });
  });
});
