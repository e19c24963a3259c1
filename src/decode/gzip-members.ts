import { crc32, createInflateRaw } from 'node:zlib';
import type { ByteReader } from './byte-reader.js';
import { DecodeError } from './decode-error.js';

export interface GunzipOptions {
  /** Inflated bytes allowed across all members. */
  maxOutputBytes: number;
  /** Members allowed in the file: apk writes one per signature plus the signed one; endless members are an attack. */
  maxMembers?: number;
  /** Members of the file already read (the signature members): numbers members in messages, counts to the limit. */
  firstMember?: number;
}

export const DEFAULT_MAX_MEMBERS = 32;

/**
 * Compressed bytes handed to zlib per write, and zlib's output buffer. Inflation runs on the thread pool while
 * the main thread parses the previous piece's output. Node fills one output buffer across writes, and when a
 * piece's output (about 10x its size for APKINDEX text) does not fit in what is left of it, the rest is inflated
 * in a second round trip that waits for the main thread; so the buffer holds several pieces' output. Measured
 * on a 250k-record index: 64 KiB / 256 KiB spent ~110 ms per load in such serial trips, 128 KiB / 4 MiB ~17 ms.
 * Exported so that the benchmark's gunzip floor inflates with the same sizes.
 */
export const FEED_BYTES = 128 * 1024;
export const OUT_CHUNK = 4 * 1024 * 1024;
const DEFLATE_METHOD = 8;
/** Header flags (RFC 1952): header CRC, extra field, file name, comment; the three high bits are reserved. */
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED_FLAGS = 0xe0; // must be zero
/**
 * The longest gzip header accepted: the fixed 10 bytes, the largest extra field (2-byte length + 65535), a file
 * name and a comment of up to 64 KiB each (terminating zero included), and the header CRC. RFC 1952 sets no bound
 * on name and comment; gzip itself writes short ones, and this bound keeps a header that never ends from being
 * buffered whole.
 */
export const MAX_HEADER_BYTES = 10 + 2 + 65535 + 2 * 65536 + 2;

/**
 * Inflates the gzip members queued in `reader` (and what the body still holds) one after the other, handing the
 * inflated bytes to `onData` in order, without holding the inflated file. Inflation runs on libuv's thread pool while
 * `onData` works on the main thread; a promise it returns holds the next piece back. Returns the members read.
 */
export async function gunzipMembers(
  reader: ByteReader,
  onData: (bytes: Buffer) => void | Promise<void>,
  options: GunzipOptions,
): Promise<number> {
  const first = options.firstMember ?? 0;
  const maxMembers = options.maxMembers ?? DEFAULT_MAX_MEMBERS;
  const output = { total: 0, max: options.maxOutputBytes };
  let member = first;
  while (await reader.fill(1)) {
    if (member >= maxMembers) throw new DecodeError('limit', `more than ${maxMembers} gzip members (the member limit)`);
    reader.take(await readGzipHeader(reader, member));
    const { crc, size } = await inflateMember(reader, member, onData, output);
    if (!(await reader.fill(8))) throw new DecodeError('gzip', `member ${member + 1}: truncated gzip trailer`);
    checkTrailer(reader.take(8), member, crc, size);
    member++;
  }
  return member - first;
}

/** The CRC-32 and length (mod 2^32) a member's trailer must state. */
export function checkTrailer(trailer: Buffer, member: number, crc: number, size: number): void {
  if (trailer.readUInt32LE(0) !== crc >>> 0)
    throw new DecodeError('gzip', `member ${member + 1}: CRC mismatch (corrupt data)`);
  if (trailer.readUInt32LE(4) !== size % 2 ** 32)
    throw new DecodeError('gzip', `member ${member + 1}: length mismatch (corrupt data)`);
}

/**
 * Inflates one member's deflate stream from the front of `reader`, leaving what follows it (the trailer) queued.
 * Each piece is written to zlib while the previous piece's output is handed to `onData`.
 */
async function inflateMember(
  reader: ByteReader,
  member: number,
  onData: (bytes: Buffer) => void | Promise<void>,
  output: { total: number; max: number },
): Promise<{ crc: number; size: number }> {
  const inflater = new MemberInflater(member, output);
  try {
    for (;;) {
      if (reader.length === 0 && !(await reader.pull())) {
        await inflater.finish(); // the file ended: the stream must have ended on the last piece's boundary
        break;
      }
      const piece = reader.take(Math.min(reader.length, FEED_BYTES));
      const written = inflater.write(piece);
      await inflater.drain(onData); // hand over the previous piece's output while zlib inflates this one
      const consumed = await written;
      if (consumed < piece.length) {
        // zlib stopped at the end of the deflate stream: the rest is the trailer and whatever follows.
        reader.unshift(piece.subarray(consumed));
        break;
      }
      if (inflater.ended) break;
    }
    await inflater.closed;
    inflater.check();
    await inflater.drain(onData);
    return { crc: inflater.crc, size: inflater.size };
  } finally {
    inflater.destroy();
  }
}

/**
 * One member's zlib stream: inflates on the thread pool into OUT_CHUNK buffers, keeps the CRC-32 and size of what
 * came out, queues it for `drain`, and turns zlib's errors and the size limit into one DecodeError (`check`).
 */
class MemberInflater {
  crc = 0;
  size = 0;
  private readonly zlib = createInflateRaw({ chunkSize: OUT_CHUNK });
  private readonly pending: Buffer[] = [];
  private failure: DecodeError | undefined;
  private truncatedByEnd = false;
  private fed = 0;
  /** Resolves when the stream ended or closed (on error the write callbacks may never run). */
  readonly closed: Promise<void>;

  constructor(
    private readonly member: number,
    private readonly output: { total: number; max: number },
  ) {
    this.zlib.on('data', (out: Buffer) => this.take(out));
    this.zlib.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.failure && err.code === 'Z_BUF_ERROR' && this.zlib.writableEnded) this.truncatedByEnd = true;
      this.failure ??= new DecodeError('gzip', `member ${member + 1}: ${err.message}`);
    });
    this.closed = new Promise<void>((resolve) => {
      this.zlib.once('end', resolve);
      this.zlib.once('close', resolve);
    });
  }

  /** Whether the deflate stream's end was seen: a stream may end exactly on a piece boundary. */
  get ended(): boolean {
    return this.zlib.readableEnded;
  }

  /** Writes a piece; resolves with how much of it zlib consumed (less at the end of the deflate stream). */
  async write(piece: Buffer): Promise<number> {
    await Promise.race([new Promise<void>((resolve) => this.zlib.write(piece, () => resolve())), this.closed]);
    this.check();
    const consumed = this.zlib.bytesWritten - this.fed;
    this.fed += piece.length;
    return consumed;
  }

  /** The file ended inside or right after the deflate stream: zlib says whether the stream had ended. */
  async finish(): Promise<void> {
    if (!this.zlib.destroyed) {
      this.zlib.end();
      await this.closed;
    }
    // zlib says "unexpected end of file" for a stream cut short: say what happened instead.
    if (this.failure && !this.truncatedByEnd) throw this.failure;
    if (this.truncatedByEnd || !this.zlib.readableEnded)
      throw new DecodeError('gzip', `member ${this.member + 1}: truncated (the file ends inside the compressed data)`);
  }

  /** Hands the output queued so far to `onData`, in order. */
  async drain(onData: (bytes: Buffer) => void | Promise<void>): Promise<void> {
    while (this.pending.length > 0) await onData(this.pending.shift()!);
  }

  check(): void {
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.zlib.destroy();
  }

  private take(out: Buffer): void {
    if (this.failure) return;
    this.output.total += out.length;
    this.size += out.length;
    if (this.output.total > this.output.max) {
      this.failure = new DecodeError('limit', `inflates to more than ${this.output.max} bytes (the size limit)`);
      this.pending.length = 0;
      // Stop zlib at once: the rest of a bomb's piece in flight would inflate into buffers only to be dropped.
      this.zlib.destroy();
      return;
    }
    this.crc = crc32(out, this.crc);
    this.pending.push(out);
  }
}

/**
 * The length of the gzip header at the front of `reader`, reading more as needed; the header stays queued. After
 * each incomplete parse it waits for at least twice the bytes (up to the maximum), so a header arriving in small
 * chunks is parsed a logarithmic number of times, and a header that never ends fails once MAX_HEADER_BYTES are
 * queued.
 */
export async function readGzipHeader(reader: ByteReader, member: number): Promise<number> {
  let want = 10;
  for (;;) {
    await reader.fill(want);
    const length = gzipHeaderLength(reader.peek(Math.min(reader.length, MAX_HEADER_BYTES)), member);
    if (length !== undefined) return length;
    if (reader.length >= MAX_HEADER_BYTES) {
      throw new DecodeError(
        'gzip',
        `member ${member + 1}: gzip header too long (more than ${MAX_HEADER_BYTES} bytes without its end)`,
      );
    }
    if (reader.done) throw new DecodeError('gzip', `member ${member + 1}: truncated gzip header`);
    want = Math.min(MAX_HEADER_BYTES, Math.max(reader.length + 1, reader.length * 2));
  }
}

/** Length of the gzip header at the start of `buf`, or undefined when more bytes are needed. */
export function gzipHeaderLength(buf: Buffer, member: number): number | undefined {
  if (buf.length < 10) return undefined;
  if (buf[0] !== 0x1f || buf[1] !== 0x8b) {
    throw new DecodeError(
      'gzip',
      member === 0 ? 'not a gzip file (bad magic bytes)' : `bytes after member ${member} are not a gzip member`,
    );
  }
  if (buf[2] !== DEFLATE_METHOD)
    throw new DecodeError('gzip', `member ${member + 1}: unknown compression method ${buf[2]}`);
  const flags = buf[3]!;
  if (flags & RESERVED_FLAGS) throw new DecodeError('gzip', `member ${member + 1}: reserved header flags set`);
  let pos = 10;
  if (flags & FEXTRA) {
    if (buf.length < pos + 2) return undefined;
    pos += 2 + buf.readUInt16LE(pos);
  }
  for (const bit of [FNAME, FCOMMENT]) {
    if (flags & bit) {
      if (buf.length <= pos) return undefined;
      const zero = buf.indexOf(0, pos);
      if (zero === -1) return undefined;
      pos = zero + 1;
    }
  }
  if (flags & FHCRC) pos += 2;
  return buf.length >= pos ? pos : undefined;
}
