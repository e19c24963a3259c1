import { open, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Agent, type Dispatcher } from 'undici';
import { describeFileProblem, IndexError, networkReason } from '../errors.js';
import { redactUrl, splitCredentials, toUrl } from './locations.js';
import { getFollowingRedirects } from './redirects.js';

export interface OpenOptions {
  /** Extra request headers (authorization for private repositories). */
  headers?: Record<string, string>;
  /** Validators from the previous successful read, for a conditional request. */
  etag?: string;
  lastModified?: string;
  /** How long to wait for response headers, and for each piece of the body. */
  timeoutMs?: number;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** A local file longer than this is refused (`limit`) rather than read: it is read whole, once. */
  maxBytes?: number;
}

export type Opened =
  { notModified: true } | { notModified: false; body: AsyncIterable<Buffer>; etag?: string; lastModified?: string };

const DEFAULT_TIMEOUT_MS = 60_000;
/** The longest pause a Retry-After may ask for; longer (or absurd) values are capped to it. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
let sharedDispatcher: Dispatcher | undefined;

/** Redirects are followed by getFollowingRedirects, by our rules, not by the dispatcher. */
function defaultDispatcher(): Dispatcher {
  sharedDispatcher ??= new Agent({ connections: 8 });
  return sharedDispatcher;
}

/** Opens an index or key by URL (http, https, file) or path, as a byte stream. */
export async function openSource(location: string, options: OpenOptions = {}): Promise<Opened> {
  const url = toUrl(location);
  return url.startsWith('file:') ? openFile(url, options) : openHttp(url, options);
}

async function openFile(url: string, options: OpenOptions): Promise<Opened> {
  const path = fileURLToPath(url);
  let info;
  try {
    info = await stat(path, { bigint: true });
  } catch (err) {
    throw new IndexError(path, 'network', `cannot read: ${describeFileProblem(err)}`, { cause: err });
  }
  if (!info.isFile()) throw new IndexError(path, 'network', 'not a file');
  // The validator is the content's digest, with the file's identity beside it so that an untouched file costs a
  // stat. Size and mtime alone miss a copy that keeps them (`cp -p`, `rsync -t`); the inode and ctime change
  // with any write or rename, and then the digest decides.
  const identity = `${info.ino.toString(16)}-${info.size.toString(16)}-${info.mtimeNs.toString(16)}-${info.ctimeNs.toString(16)}`;
  const previous = parseFileTag(options.etag);
  if (previous?.identity === identity) return { notModified: true };
  const { chunks, digest } = await readFile(path, Number(info.size), options);
  if (previous?.digest === digest) return { notModified: true };
  return {
    notModified: false,
    body: (async function* () {
      yield* chunks;
    })(),
    etag: `"${digest};${identity}"`,
    lastModified: info.mtime.toUTCString(),
  };
}

function parseFileTag(etag: string | undefined): { digest: string; identity: string } | undefined {
  const m = etag === undefined ? null : /^"([0-9a-f]+);([0-9a-f-]+)"$/.exec(etag);
  return m ? { digest: m[1]!, identity: m[2]! } : undefined;
}

/**
 * The whole file, read once (in one piece when its size holds while it is read) and hashed as it is read: the
 * digest decides whether it changed, and the bytes are what the caller reads, so a changed file costs one read.
 */
async function readFile(
  path: string,
  size: number,
  options: OpenOptions,
): Promise<{ chunks: Buffer[]; digest: string }> {
  const limit = options.maxBytes ?? Infinity;
  const tooLarge = () => new IndexError(path, 'limit', `is larger than ${limit} bytes (the size limit)`);
  if (size > limit) throw tooLarge();
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let total = 0;
  let file;
  try {
    file = await open(path, 'r');
    for (let want = Math.max(size + 1, 64 * 1024); ; want = 1024 * 1024) {
      options.signal?.throwIfAborted();
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await file.read(chunk, 0, want, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw tooLarge();
      const read = chunk.subarray(0, bytesRead);
      hash.update(read);
      chunks.push(read);
    }
  } catch (err) {
    if (err instanceof IndexError) throw err;
    throw new IndexError(path, 'network', `cannot read: ${describeFileProblem(err)}`, { cause: err });
  } finally {
    await file?.close();
  }
  return { chunks, digest: hash.digest('hex') };
}

async function openHttp(location: string, options: OpenOptions): Promise<Opened> {
  const shown = redactUrl(location);
  // undici ignores credentials in the URL: send them as Basic authorization, unless a header is given.
  const { url, authorization } = splitCredentials(location);
  const headers: Record<string, string> = { 'user-agent': 'apk-indexer', ...options.headers };
  if (authorization && !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization'))
    headers.authorization = authorization;
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Dispatcher.ResponseData;
  try {
    response = await getFollowingRedirects(url, shown, {
      headers,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: options.signal,
      dispatcher: options.dispatcher ?? defaultDispatcher(),
    });
  } catch (err) {
    if (err instanceof IndexError) throw err;
    throw new IndexError(shown, 'network', networkReason(err), { cause: err });
  }
  const { statusCode } = response;
  if (statusCode === 304) {
    await response.body.dump();
    return { notModified: true };
  }
  if (statusCode !== 200) {
    await response.body.dump().catch(() => undefined);
    const error = new IndexError(shown, 'http-status', `HTTP ${statusCode}`);
    error.httpStatus = statusCode;
    const retryAfter = retryAfterMs(response.headers['retry-after']);
    if (retryAfter !== undefined) error.retryAfterMs = retryAfter;
    throw error;
  }
  const etag = header(response.headers.etag);
  const lastModified = header(response.headers['last-modified']);
  const body = wrapBody(response.body, shown);
  return { notModified: false, body, ...(etag && { etag }), ...(lastModified && { lastModified }) };
}

/** Network errors inside the body (reset, stall) become IndexErrors that name the source. */
async function* wrapBody(body: AsyncIterable<Buffer>, shown: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (err) {
    throw new IndexError(shown, 'network', `download failed: ${networkReason(err)}`, { cause: err });
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After (seconds or an HTTP date) in ms, never negative and at most MAX_RETRY_AFTER_MS. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = header(value)?.trim();
  if (!v) return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const date = Date.parse(v);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
