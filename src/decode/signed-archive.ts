import { crc32, inflateRawSync } from 'node:zlib';
import { GzipError, gzipHeaderLength, MAX_HEADER_BYTES } from './gzip-members.js';
import { parseSignatureName, type SignatureEntry } from './signature.js';
import { entryName, readTarEntries } from './tar-header.js';

/** Inflated bytes a signature member may hold; a member that inflates to more is the signed one. */
const MAX_SIGNATURE_MEMBER = 64 * 1024;
const MAX_SIGNATURE_MEMBERS = 31;

/** The whole body, refused as soon as it passes `maxBytes` (compressed): a signature is checked over all of it. */
export async function bufferBounded(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes)
      throw new GzipError('limit', `is larger than ${maxBytes} bytes compressed (the compressed size limit)`);
    parts.push(chunk);
  }
  return Buffer.concat(parts, size);
}

/** An archive whose members are not signatures then data; the caller adds the source. */
export class ArchiveShapeError extends Error {
  constructor(
    readonly reason: 'tar' | 'format',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Finds where the signature members end in a whole APKINDEX.tar.gz and reads their signatures, inflating only
 * them: a member is a signature member when it inflates to at most 64 KiB and its first tar entry is `.SIGN.*`.
 * The first other member starts the signed data, which runs to the end of the file; of it at most 64 KiB are
 * inflated here (to see that it is not a signature), and nothing is parsed.
 */
export function splitSignedArchive(bytes: Buffer): { signatures: SignatureEntry[]; dataOffset: number } {
  const signatures: SignatureEntry[] = [];
  let at = 0;
  for (let member = 0; ; member++) {
    if (at >= bytes.length) {
      if (member === 0) throw new GzipError('gzip', 'empty file (no gzip data)');
      throw new ArchiveShapeError('format', 'archive holds only signatures, no index');
    }
    if (member > MAX_SIGNATURE_MEMBERS)
      throw new GzipError('limit', `more than ${MAX_SIGNATURE_MEMBERS} signature members (the member limit)`);
    const header = gzipHeaderLength(bytes.subarray(at, at + MAX_HEADER_BYTES), member);
    if (header === undefined) throw new GzipError('gzip', `member ${member + 1}: truncated gzip header`);
    let inflated: Buffer;
    let consumed: number;
    try {
      const out = inflateRawSync(bytes.subarray(at + header), {
        maxOutputLength: MAX_SIGNATURE_MEMBER,
        info: true,
      }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      inflated = out.buffer;
      consumed = out.engine.bytesWritten;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') return { signatures, dataOffset: at };
      if (code === 'Z_BUF_ERROR')
        throw new GzipError('gzip', `member ${member + 1}: truncated (the file ends inside the compressed data)`);
      throw new GzipError('gzip', `member ${member + 1}: ${(err as Error).message}`);
    }
    if (inflated.length < 512 || !entryName(inflated).startsWith('.SIGN.')) return { signatures, dataOffset: at };
    const end = at + header + consumed;
    if (end + 8 > bytes.length) throw new GzipError('gzip', `member ${member + 1}: truncated gzip trailer`);
    if (bytes.readUInt32LE(end) !== crc32(inflated) >>> 0)
      throw new GzipError('gzip', `member ${member + 1}: CRC mismatch (corrupt data)`);
    if (bytes.readUInt32LE(end + 4) !== inflated.length)
      throw new GzipError('gzip', `member ${member + 1}: length mismatch (corrupt data)`);
    let entries;
    try {
      entries = readTarEntries(inflated);
    } catch (err) {
      throw new ArchiveShapeError('tar', `signature member ${member + 1}: ${(err as Error).message}`);
    }
    for (const entry of entries) {
      const parsed = parseSignatureName(entry.name);
      // Unknown .SIGN.* kinds (other algorithms) are skipped, as apk skips them.
      if (parsed) signatures.push({ ...parsed, signature: Buffer.from(entry.data) });
    }
    at = end + 8;
  }
}
