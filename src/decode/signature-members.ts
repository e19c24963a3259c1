import { crc32, inflateRawSync } from 'node:zlib';
import type { ByteReader } from './byte-reader.js';
import { DecodeError } from './decode-error.js';
import { checkTrailer, DEFAULT_MAX_MEMBERS, readGzipHeader } from './gzip-members.js';
import { parseSignatureName, type SignatureEntry } from './signature.js';
import { headerName, readTarFiles } from './tar-reader.js';

/** Inflated bytes a signature member may hold; a member that inflates to more is the signed one. */
const MAX_SIGNATURE_MEMBER = 64 * 1024;
/**
 * Compressed bytes (after its header) a signature member may take. Deflate adds at most 5 bytes per 64 KiB stored
 * block, so a member that has neither ended nor inflated past MAX_SIGNATURE_MEMBER by then is not one.
 */
const MAX_SIGNATURE_DEFLATE = MAX_SIGNATURE_MEMBER + 1024;

/**
 * Reads the signature members at the front of an APKINDEX.tar.gz, leaving the signed data queued in `reader`: a
 * member is a signature member when it inflates to at most 64 KiB and its first tar entry is `.SIGN.*`. The first
 * other member starts the signed data, which runs to the end of the file; of it at most 64 KiB are inflated here
 * (to see that it is not a signature), and nothing of it is taken from the queue. Unknown `.SIGN.*` kinds (other
 * algorithms) are skipped, as apk skips them.
 */
export async function readSignatureMembers(
  reader: ByteReader,
): Promise<{ signatures: SignatureEntry[]; members: number }> {
  const signatures: SignatureEntry[] = [];
  for (let member = 0; ; member++) {
    if (!(await reader.fill(1))) {
      if (member === 0) throw new DecodeError('gzip', 'empty file (no gzip data)');
      throw new DecodeError('format', 'archive holds only signatures, no index');
    }
    if (member >= DEFAULT_MAX_MEMBERS - 1)
      throw new DecodeError('limit', `more than ${DEFAULT_MAX_MEMBERS - 1} signature members (the member limit)`);
    const header = await readGzipHeader(reader, member);
    const small = await inflateSmall(reader, header, member);
    if (!small || small.inflated.length < 512 || !headerName(small.inflated).startsWith('.SIGN.'))
      return { signatures, members: member };
    const end = header + small.consumed;
    if (!(await reader.fill(end + 8))) throw new DecodeError('gzip', `member ${member + 1}: truncated gzip trailer`);
    checkTrailer(reader.peek(end + 8).subarray(end), member, crc32(small.inflated), small.inflated.length);
    let files;
    try {
      files = readTarFiles(small.inflated);
    } catch (err) {
      if (err instanceof DecodeError) throw new DecodeError('tar', `signature member ${member + 1}: ${err.message}`);
      throw err;
    }
    for (const file of files) {
      const parsed = parseSignatureName(file.name);
      if (parsed) signatures.push({ ...parsed, signature: file.data });
    }
    reader.take(end + 8);
  }
}

/**
 * The member after `header` queued bytes, inflated whole when it inflates to at most MAX_SIGNATURE_MEMBER bytes;
 * undefined when it inflates to more, or takes more than MAX_SIGNATURE_DEFLATE compressed bytes without ending.
 * The queue grows by doubling between tries, so a member arriving in small chunks is inflated a few times at most.
 */
async function inflateSmall(
  reader: ByteReader,
  header: number,
  member: number,
): Promise<{ inflated: Buffer; consumed: number } | undefined> {
  const window = header + MAX_SIGNATURE_DEFLATE;
  let want = header + 1024;
  for (;;) {
    await reader.fill(want);
    const bytes = reader.peek(Math.min(reader.length, window)).subarray(header);
    try {
      const out = inflateRawSync(bytes, { maxOutputLength: MAX_SIGNATURE_MEMBER, info: true }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      return { inflated: out.buffer, consumed: out.engine.bytesWritten };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') return undefined;
      if (code !== 'Z_BUF_ERROR') throw new DecodeError('gzip', `member ${member + 1}: ${(err as Error).message}`);
      // The deflate stream goes on past the bytes queued.
      if (reader.length >= window) return undefined;
      if (reader.done)
        throw new DecodeError('gzip', `member ${member + 1}: truncated (the file ends inside the compressed data)`);
      want = Math.min(window, Math.max(reader.length + 1, reader.length * 2));
    }
  }
}
