import { headerChecksum, TAR_BLOCK as BLOCK, tarPadding } from './tar-block.js';

/**
 * A ustar writer for regular files, which is all an APKINDEX.tar.gz holds: the service's synthesized indexes
 * (serve/routes/apk-index.ts) and the test fixtures write their archives with it; tar-reader.ts reads them.
 */

export interface TarFile {
  name: string;
  data: Buffer;
  mode?: number;
  /** Seconds since the epoch. */
  mtime?: number;
}

export function tarHeader(file: { name: string; size: number; mode?: number; mtime?: number }): Buffer {
  const header = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(file.name) > 100) throw new Error(`tar name longer than 100 bytes: ${file.name}`);
  header.write(file.name, 0, 'utf8');
  writeOctal(header, 100, 8, file.mode ?? 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, file.size);
  writeOctal(header, 136, 12, Math.floor(file.mtime ?? 0));
  header.write('0', 156, 'latin1');
  header.write('ustar\u000000', 257, 'latin1');
  header.write('root', 265, 'latin1');
  header.write('root', 297, 'latin1');
  header.fill(0x20, 148, 156);
  writeOctal(header, 148, 7, headerChecksum(header));
  return header;
}

/** The end of an archive: two zero blocks. */
export const TAR_END = 2 * BLOCK;

/** One entry: header, data, padding. */
export function tarFile(name: string, data: Buffer, mtime?: number, mode?: number): Buffer {
  return Buffer.concat([
    tarHeader({ name, size: data.length, mode, mtime }),
    data,
    Buffer.alloc(tarPadding(data.length)),
  ]);
}

/** Entries, each padded to whole blocks; `endBlocks: false` leaves off the end-of-archive, as apk's signature tar does. */
export function writeTar(files: readonly TarFile[], options: { endBlocks?: boolean } = {}): Buffer {
  const parts = files.map((f) => tarFile(f.name, f.data, f.mtime, f.mode));
  if (options.endBlocks !== false) parts.push(Buffer.alloc(TAR_END));
  return Buffer.concat(parts);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'latin1');
}
