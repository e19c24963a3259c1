import { DecodeError } from './decode-error.js';

/** Holds compressed bytes for a download until they are released; see DownloadBudget. */
export interface HeldBytes {
  /** Counts `bytes` more as held, waiting for room when the budget asks to. */
  hold(bytes: number): void | Promise<void>;
}

export interface ByteReaderOptions {
  /** Compressed bytes the whole body may have; one more is a `limit` error and nothing more is read. */
  maxBytes: number;
  /** Keep every chunk as it arrived (`kept`): the verified file, for a state directory. */
  keep?: boolean;
  /** Counts the bytes kept (with `keep`) against a budget shared by every download in flight. */
  held?: HeldBytes;
}

/**
 * The compressed bytes of one download as they arrive: a queue of the chunks read so far, refilled from the body on
 * demand. Chunks are never copied, except where a caller asks for the first bytes of several chunks at once (a gzip
 * header, a signature member), and only those.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  private sourceDone = false;
  /** Bytes queued, not yet taken. */
  length = 0;
  /** Bytes read from the body so far. */
  received = 0;
  /** Every chunk as it arrived, when keeping. */
  readonly kept: Buffer[] | undefined;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly options: ByteReaderOptions,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
    this.kept = options.keep ? [] : undefined;
  }

  /** Whether every byte of the body has been read (some may still be queued). */
  get done(): boolean {
    return this.sourceDone;
  }

  /** Reads one more chunk into the queue; false at the end of the body. */
  async pull(): Promise<boolean> {
    return (await this.next()) !== undefined;
  }

  /** Reads one more chunk into the queue and returns it; undefined at the end of the body. */
  private async next(): Promise<Buffer | undefined> {
    if (this.sourceDone) return undefined;
    const next = await this.iterator.next();
    if (next.done) {
      this.sourceDone = true;
      return undefined;
    }
    const chunk = next.value;
    this.received += chunk.length;
    if (this.received > this.options.maxBytes)
      throw new DecodeError(
        'limit',
        `is larger than ${this.options.maxBytes} bytes compressed (the compressed size limit)`,
      );
    if (this.kept) {
      await this.options.held?.hold(chunk.length);
      this.kept.push(chunk);
    }
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    return chunk;
  }

  /** Reads until at least `n` bytes are queued or the body ends; whether `n` are. */
  async fill(n: number): Promise<boolean> {
    while (this.length < n && (await this.pull()));
    return this.length >= n;
  }

  /** Reads the rest of the body into the queue, handing each queued chunk to `each` once, in order. */
  async readAll(each: (bytes: Buffer) => void): Promise<void> {
    for (const chunk of this.chunks) each(chunk);
    for (let chunk; (chunk = await this.next()) !== undefined;) each(chunk);
  }

  /** The first `n` queued bytes (or all there are), left in the queue. */
  peek(n: number): Buffer {
    this.join(n);
    return this.chunks[0]?.subarray(0, n) ?? Buffer.alloc(0);
  }

  /** Takes up to `n` queued bytes off the front; a whole chunk or a part of one, never a copy. */
  takeUpTo(n: number): Buffer {
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    const out = first.length <= n ? first : first.subarray(0, n);
    if (first.length <= n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.length -= out.length;
    return out;
  }

  /** Takes exactly `n` queued bytes off the front (fewer if fewer are queued). */
  take(n: number): Buffer {
    this.join(n);
    return this.takeUpTo(n);
  }

  /** Puts bytes taken but not used back at the front. */
  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.chunks.unshift(bytes);
    this.length += bytes.length;
  }

  /** Stops reading the body (a download is cancelled); nothing queued is used after. */
  async close(): Promise<void> {
    if (this.sourceDone) return;
    this.sourceDone = true;
    await this.iterator.return?.();
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
