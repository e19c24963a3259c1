import { crc32, createInflateRaw, type InflateRaw } from 'node:zlib';

/** Gzip framing or deflate data that cannot be decoded. */
export class GzipError extends Error {
  constructor(
    readonly kind: 'gzip' | 'limit',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Receives a gzip file member by member. APKINDEX.tar.gz is several concatenated members (signatures first),
 * and the signature covers the raw bytes of a member, so callers see both the raw and the inflated bytes.
 */
export interface MemberSink {
  /** Compressed bytes of member `index`, header and trailer included, in order. */
  raw(index: number, bytes: Buffer): void;
  /** Inflated bytes of member `index`, in order. May return a promise to apply backpressure. */
  data(index: number, bytes: Buffer): void | Promise<void>;
  /** Member `index` ended and its CRC and length checked out. */
  end(index: number): void | Promise<void>;
}

export interface GunzipOptions {
  /** Inflated bytes allowed across all members. */
  maxOutputBytes: number;
  /** Members allowed: apk writes one per signature plus the signed one; endless empty members are an attack. */
  maxMembers?: number;
}

const DEFAULT_MAX_MEMBERS = 32;

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
 * Inflates concatenated gzip members from a byte stream, without holding the inflated file in memory.
 * Inflation runs on libuv's thread pool while the caller's sink works on the main thread.
 */
export async function gunzipMembers(
  source: AsyncIterable<Buffer>,
  sink: MemberSink,
  options: GunzipOptions,
): Promise<number> {
  const input = new ByteQueue();
  let member = -1;
  let total = 0;
  const iterator = source[Symbol.asyncIterator]();
  let sourceDone = false;
  let cleanup: (() => void) | undefined;

  const pull = async (): Promise<boolean> => {
    if (sourceDone) return false;
    const next = await iterator.next();
    if (next.done) {
      sourceDone = true;
      return false;
    }
    if (next.value.length > 0) input.push(next.value);
    return true;
  };

  /**
   * Length of the gzip header at the front of `input`, pulling more as needed. After each incomplete parse it waits
   * for at least twice the bytes (up to the maximum), so a header arriving in small chunks is parsed a logarithmic
   * number of times, and a header that never ends fails once MAX_HEADER_BYTES are buffered.
   */
  const readHeader = async (member: number): Promise<number> => {
    let want = 10;
    for (;;) {
      while (input.length < want && (await pull()));
      const length = gzipHeaderLength(input.peek(Math.min(input.length, MAX_HEADER_BYTES)), member);
      if (length !== undefined) return length;
      if (input.length >= MAX_HEADER_BYTES) {
        throw new GzipError(
          'gzip',
          `member ${member + 1}: gzip header too long (more than ${MAX_HEADER_BYTES} bytes without its end)`,
        );
      }
      if (sourceDone) throw new GzipError('gzip', `member ${member + 1}: truncated gzip header`);
      want = Math.min(MAX_HEADER_BYTES, Math.max(input.length + 1, input.length * 2));
    }
  };

  try {
    for (;;) {
      // Between members: either clean end of file or another gzip header.
      while (input.length < 10 && (await pull()));
      if (input.length === 0) break;
      member++;
      if (member >= (options.maxMembers ?? DEFAULT_MAX_MEMBERS)) {
        throw new GzipError(
          'limit',
          `more than ${options.maxMembers ?? DEFAULT_MAX_MEMBERS} gzip members (the member limit)`,
        );
      }
      sink.raw(member, input.take(await readHeader(member)));

      const inflater = createInflateRaw({ chunkSize: OUT_CHUNK });
      let crc = 0;
      let size = 0;
      const pending: Buffer[] = [];
      let failure: Error | undefined;
      inflater.on('data', (out: Buffer) => {
        if (failure) return;
        total += out.length;
        size += out.length;
        if (total > options.maxOutputBytes) {
          // Drop the rest; the piece in flight finishes and the loop below stops feeding.
          failure = new GzipError('limit', `inflates to more than ${options.maxOutputBytes} bytes (the size limit)`);
          pending.length = 0;
          // Stop zlib at once: the rest of a bomb's piece in flight would inflate into buffers only to be dropped.
          inflater.destroy();
          return;
        }
        crc = crc32(out, crc);
        pending.push(out);
      });
      let truncatedByEnd = false;
      inflater.on('error', (err: NodeJS.ErrnoException) => {
        if (!failure && err.code === 'Z_BUF_ERROR' && inflater.writableEnded) truncatedByEnd = true;
        failure ??= new GzipError('gzip', `member ${member + 1}: ${err.message}`);
      });
      const ended = new Promise<void>((resolve) => {
        inflater.once('end', resolve);
        inflater.once('close', resolve);
      });
      cleanup = () => inflater.destroy();
      const drain = async (): Promise<void> => {
        while (pending.length > 0) await sink.data(member, pending.shift()!);
      };

      let fed = 0;
      let finished = false;
      while (!finished) {
        if (input.length === 0 && !(await pull())) {
          // Input ran out inside the deflate stream: let zlib say whether it was complete.
          await finishInflater(inflater, ended);
          // zlib reports a stream cut short as Z_BUF_ERROR "unexpected end of file": say what happened instead.
          if (failure && !truncatedByEnd) throw failure;
          if (truncatedByEnd || !inflaterEnded(inflater))
            throw new GzipError('gzip', `member ${member + 1}: truncated (the file ends inside the compressed data)`);
          break;
        }
        const piece = input.take(Math.min(input.length, FEED_BYTES));
        const written = writeTo(inflater, piece, ended);
        await drain(); // parse the previous output while zlib inflates this piece
        await written;
        if (failure) throw failure;
        const consumed = inflater.bytesWritten - fed;
        fed += piece.length;
        if (consumed < piece.length) {
          // zlib stopped at the end of the deflate stream: the rest is trailer and whatever follows.
          input.unshift(piece.subarray(consumed));
          sink.raw(member, piece.subarray(0, consumed));
          finished = true;
        } else {
          sink.raw(member, piece);
          // A stream that ends exactly on a piece boundary is noticed on the next write (nothing consumed).
          if (inflaterEnded(inflater)) finished = true;
        }
      }
      await ended;
      if (failure) throw failure;
      await drain();
      while (input.length < 8 && (await pull()));
      if (input.length < 8) throw new GzipError('gzip', `member ${member + 1}: truncated gzip trailer`);
      const trailer = input.take(8);
      sink.raw(member, trailer);
      if (trailer.readUInt32LE(0) !== crc >>> 0)
        throw new GzipError('gzip', `member ${member + 1}: CRC mismatch (corrupt data)`);
      if (trailer.readUInt32LE(4) !== size % 2 ** 32)
        throw new GzipError('gzip', `member ${member + 1}: length mismatch (corrupt data)`);
      await sink.end(member);
      cleanup = undefined;
    }
  } finally {
    cleanup?.();
    if (!sourceDone) await iterator.return?.();
  }
  if (member < 0) throw new GzipError('gzip', 'empty file (no gzip data)');
  return member + 1;
}

/** Resolves when zlib has consumed the piece, or when the stream closed (on error the callback may never run). */
function writeTo(inflater: InflateRaw, piece: Buffer, closed: Promise<void>): Promise<void> {
  return Promise.race([new Promise<void>((resolve) => inflater.write(piece, () => resolve())), closed]);
}

function finishInflater(inflater: InflateRaw, closed: Promise<void>): Promise<void> {
  if (inflater.destroyed) return Promise.resolve();
  inflater.end();
  return closed;
}

/**
 * Whether the deflate stream's end was seen ('end' emitted). A stream that ends exactly on a piece boundary may
 * not have emitted it yet when the write completes; the next write then consumes nothing, which the loop notices.
 */
function inflaterEnded(inflater: InflateRaw): boolean {
  return inflater.readableEnded;
}

/** Length of the gzip header at the start of `buf`, or undefined when more bytes are needed. */
export function gzipHeaderLength(buf: Buffer, member: number): number | undefined {
  if (buf.length < 10) return undefined;
  if (buf[0] !== 0x1f || buf[1] !== 0x8b) {
    throw new GzipError(
      'gzip',
      member === 0 ? 'not a gzip file (bad magic bytes)' : `bytes after member ${member} are not a gzip member`,
    );
  }
  if (buf[2] !== DEFLATE_METHOD)
    throw new GzipError('gzip', `member ${member + 1}: unknown compression method ${buf[2]}`);
  const flags = buf[3]!;
  if (flags & RESERVED_FLAGS) throw new GzipError('gzip', `member ${member + 1}: reserved header flags set`);
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

/** A FIFO of byte chunks that hands out exact lengths without copying when it can. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  unshift(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.unshift(chunk);
    this.length += chunk.length;
  }

  /** The first `n` bytes, left in the queue; the chunks they span are joined once, and only those. */
  peek(n: number): Buffer {
    this.join(n);
    return this.chunks[0]?.subarray(0, n) ?? Buffer.alloc(0);
  }

  take(n: number): Buffer {
    this.join(n);
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    const out = first.subarray(0, n);
    if (first.length <= n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.length -= out.length;
    return out;
  }

  /** Makes the first chunk hold at least `n` bytes (or all there are), copying only the chunks needed. */
  private join(n: number): void {
    const first = this.chunks[0];
    if (!first || first.length >= n || this.chunks.length === 1) return;
    let count = 0;
    let size = 0;
    while (count < this.chunks.length && size < n) size += this.chunks[count++]!.length;
    this.chunks.splice(0, count, Buffer.concat(this.chunks.slice(0, count), size));
  }
}
