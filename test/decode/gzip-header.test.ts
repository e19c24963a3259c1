import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { indexDataMember, renderApkIndex } from '../fixtures/apk-repo.js';
import { MAX_HEADER_BYTES } from '../../src/decode/gzip-members.js';
import { readIndexBody } from '../../src/load/load-index.js';
import { resolveLimits } from '../../src/parse/limits.js';

const location = { url: 'file:///fixture/x86_64/APKINDEX.tar.gz', arch: 'x86_64', repository: 'fixture' };
const FEXTRA = 0x04;
const FNAME = 0x08;

/** A gzip member (from gzipSync, flags 0) with an extra field of `xlen` bytes and optionally a file name added. */
function withExtraField(member: Buffer, xlen: number, name?: string): Buffer {
  const header = Buffer.from(member.subarray(0, 10));
  header[3] = FEXTRA | (name === undefined ? 0 : FNAME);
  const length = Buffer.alloc(2);
  length.writeUInt16LE(xlen);
  const extra = Buffer.alloc(xlen, 0x58);
  const parts = [
    header,
    length,
    extra,
    ...(name === undefined ? [] : [Buffer.from(`${name}\0`, 'latin1')]),
    member.subarray(10),
  ];
  return Buffer.concat(parts);
}

async function* inChunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe('gzip headers', () => {
  it('reads a member whose header has the largest extra field (XLEN 65535) and a name, in any chunking', async () => {
    const member = withExtraField(
      indexDataMember(renderApkIndex([{ name: 'bash', version: '5.2.37-r1' }])),
      65535,
      'APKINDEX.tar',
    );
    for (const size of [97, 4096, 65536, 1 << 20]) {
      const { snapshot } = await readIndexBody(inChunks(member, size), location, { keys: [], limits: resolveLimits() });
      expect(snapshot.packages.get('bash')?.map((r) => r.version)).toEqual(['5.2.37-r1']);
    }
  });

  it('refuses a header that never ends as soon as it is too long, without reading the rest of the download', async () => {
    // A 64 KiB extra field, then a file name that never ends: megabytes of bytes without a zero.
    const start = withExtraField(gzipSync(Buffer.alloc(0)), 65535).subarray(0, 10 + 2 + 65535);
    start[3] = FEXTRA | FNAME;
    const total = 64 * 1024 * 1024;
    let pulled = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < start.length; i += 7000) {
        const piece = start.subarray(i, i + 7000);
        pulled += piece.length;
        yield piece;
      }
      const junk = Buffer.alloc(16 * 1024, 0x41);
      while (pulled < total) {
        pulled += junk.length;
        yield junk;
      }
    }
    const err = await readIndexBody(source(), location, { keys: [], limits: resolveLimits() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexError);
    expect((err as IndexError).reason).toBe('gzip');
    expect((err as IndexError).message).toBe(
      `file:///fixture/x86_64/APKINDEX.tar.gz: member 1: gzip header too long (more than ${MAX_HEADER_BYTES} bytes without its end)`,
    );
    expect(pulled).toBeLessThan(MAX_HEADER_BYTES + 64 * 1024);
  });

  it('reads a 64 KiB extra field followed by junk as a header, and fails in the data, not at the end of the download', async () => {
    const start = withExtraField(gzipSync(Buffer.alloc(0)), 65535).subarray(0, 10 + 2 + 65535);
    let pulled = 0;
    async function* source(): AsyncGenerator<Buffer> {
      pulled += start.length;
      yield start;
      const junk = Buffer.alloc(64 * 1024, 0xff); // deflate block type 3: invalid
      while (pulled < 64 * 1024 * 1024) {
        pulled += junk.length;
        yield junk;
      }
    }
    const err = await readIndexBody(source(), location, { keys: [], limits: resolveLimits() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexError);
    expect((err as IndexError).reason).toBe('gzip');
    expect((err as IndexError).message).toMatch(/member 1: invalid block type/);
    expect(pulled).toBeLessThan(1024 * 1024);
  });

  it('still reports a header cut short as truncated', async () => {
    const member = withExtraField(gzipSync(Buffer.from('x')), 65535);
    const err = await readIndexBody(inChunks(member.subarray(0, 40_000), 1000), location, {
      keys: [],
      limits: resolveLimits(),
    }).catch((e: unknown) => e);
    expect((err as IndexError).message).toMatch(/member 1: truncated gzip header$/);
  });
});
