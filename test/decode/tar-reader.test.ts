import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/decode/decode-error.js';
import { readTarFiles, TarReader } from '../../src/decode/tar-reader.js';
import { tarHeader, writeTar } from '../fixtures/tar-writer.js';

const BLOCK = 512;

/** A header as tarHeader writes it, with some fields changed and the checksum made right again. */
function header(file: { name: string; size: number }, change: (block: Buffer) => void = () => undefined): Buffer {
  const block = tarHeader(file);
  change(block);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

const padded = (data: Buffer) => Buffer.concat([data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)]);

/** Reads `tar` in pieces of `size` bytes: every file with its bytes, in order. */
function read(tar: Buffer, size = tar.length): Array<[string, string]> {
  const files: Array<[string, string]> = [];
  const reader = new TarReader((name) => {
    let text = '';
    return { data: (b) => void (text += b.toString('latin1')), end: () => void files.push([name, text]) };
  });
  for (let i = 0; i < tar.length; i += size) reader.push(tar.subarray(i, i + size));
  reader.end();
  return files;
}

function failure(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).reason).toBe('tar');
    return err as DecodeError;
  }
  throw new Error('expected the tar to be refused');
}

describe('the tar reader', () => {
  const tar = writeTar([
    { name: 'DESCRIPTION', data: Buffer.from('fixture repository') },
    { name: 'APKINDEX', data: Buffer.from('P:a\nV:1-r0\n'.repeat(100)) },
  ]);

  it('hands on every regular file whole, however the bytes are cut', () => {
    const whole = read(tar);
    expect(whole).toEqual([
      ['DESCRIPTION', 'fixture repository'],
      ['APKINDEX', 'P:a\nV:1-r0\n'.repeat(100)],
    ]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1500 }), (size) => {
        expect(read(tar, size)).toEqual(whole);
      }),
    );
  });

  it('reads a tar without end blocks, as apk writes its signature tars', () => {
    expect(readTarFiles(writeTar([{ name: '.SIGN.RSA.k', data: Buffer.from('sig') }], { endBlocks: false }))).toEqual([
      { name: '.SIGN.RSA.k', data: Buffer.from('sig') },
    ]);
  });

  it('joins the ustar prefix, applies GNU long names and pax paths to the next entry, strips ./', () => {
    const prefixed = header({ name: 'APKINDEX', size: 2 }, (b) => b.write('dir', 345, 'latin1'));
    const long = 'L'.repeat(150);
    const longName = header({ name: '././@LongLink', size: long.length + 1 }, (b) => b.write('L', 156, 'latin1'));
    const pax = '30 path=APKINDEX.from-pax.txt\n';
    const paxHeader = header({ name: 'PaxHeader', size: pax.length }, (b) => b.write('x', 156, 'latin1'));
    const dotted = header({ name: './DESCRIPTION', size: 1 });
    const files = read(
      Buffer.concat([
        prefixed,
        padded(Buffer.from('ab')),
        longName,
        padded(Buffer.from(`${long}\0`)),
        header({ name: 'short', size: 1 }),
        padded(Buffer.from('c')),
        paxHeader,
        padded(Buffer.from(pax)),
        header({ name: 'ignored', size: 1 }),
        padded(Buffer.from('d')),
        dotted,
        padded(Buffer.from('e')),
        Buffer.alloc(2 * BLOCK),
      ]),
    );
    expect(files).toEqual([
      ['dir/APKINDEX', 'ab'],
      [long, 'c'],
      ['APKINDEX.from-pax.txt', 'd'],
      ['DESCRIPTION', 'e'],
    ]);
  });

  it('skips entries that are not regular files (directories, links), as apk does', () => {
    const dir = header({ name: 'APKINDEX', size: 0 }, (b) => b.write('5', 156, 'latin1'));
    const link = header({ name: 'APKINDEX', size: 0 }, (b) => b.write('2', 156, 'latin1'));
    expect(read(Buffer.concat([dir, link, tarHeader({ name: 'x', size: 0 }), Buffer.alloc(1024)]))).toEqual([
      ['x', ''],
    ]);
  });

  it('refuses a tar cut short in a header, a file or its padding, saying where', () => {
    const cut = (n: number) => failure(() => read(tar.subarray(0, n), 97)).message;
    expect(cut(100)).toBe('cut short inside a header block');
    expect(cut(BLOCK + 5)).toBe('member DESCRIPTION is cut short: 5 of 18 bytes');
    expect(cut(BLOCK + 100)).toBe('cut short inside a padding block');
    expect(cut(3 * BLOCK + 512)).toBe('member APKINDEX is cut short: 512 of 1100 bytes');
  });

  it('refuses a header with a bad checksum, one that is not ustar, and data after the end', () => {
    const bad = Buffer.from(tar);
    bad.write('garbage!', 148, 'latin1');
    expect(failure(() => read(bad)).message).toBe('corrupt tar header at byte 0 (bad checksum)');
    const v7 = header({ name: 'APKINDEX', size: 0 }, (b) => b.fill(0, 257, 265));
    expect(failure(() => read(v7)).message).toBe('not a ustar header at byte 0');
    expect(failure(() => read(Buffer.concat([tar, Buffer.from('junk')]))).message).toMatch(
      /^data after the end of the archive/,
    );
    expect(read(Buffer.concat([tar, Buffer.alloc(4096)]))).toHaveLength(2);
  });

  it('bounds GNU long names and pax records', () => {
    const huge = header({ name: '././@LongLink', size: 1 << 20 }, (b) => b.write('L', 156, 'latin1'));
    expect(failure(() => read(huge)).message).toBe('extended header at byte 0 is larger than 65536 bytes');
  });
});
