import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { IndexError } from '../errors.js';
import { redactUrl, toUrl } from './locations.js';

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
}

export type Opened =
  | { notModified: true }
  | { notModified: false; body: AsyncIterable<Buffer>; etag?: string; lastModified?: string; size?: number };

const DEFAULT_TIMEOUT_MS = 60_000;
let sharedDispatcher: Dispatcher | undefined;

function defaultDispatcher(): Dispatcher {
  sharedDispatcher ??= new Agent({ connections: 8 }).compose(interceptors.redirect({ maxRedirections: 5 }));
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
    info = await stat(path);
  } catch (err) {
    throw new IndexError(path, 'network', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!info.isFile()) throw new IndexError(path, 'network', 'not a file');
  // A file's validators are its size and modification time, so a refresh of an unchanged file costs a stat.
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  if (options.etag === etag) return { notModified: true };
  return { notModified: false, body: createReadStream(path, { highWaterMark: 256 * 1024 }), etag, lastModified: info.mtime.toUTCString(), size: info.size };
}

async function openHttp(url: string, options: OpenOptions): Promise<Opened> {
  const shown = redactUrl(url);
  const headers: Record<string, string> = { 'user-agent': 'apk-indexer', ...options.headers };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'GET',
      headers,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: options.signal,
      dispatcher: options.dispatcher ?? defaultDispatcher(),
    });
  } catch (err) {
    throw new IndexError(shown, 'network', describeNetworkError(err), { cause: err });
  }
  const { statusCode } = response;
  if (statusCode === 304) {
    await response.body.dump();
    return { notModified: true };
  }
  if (statusCode !== 200) {
    await response.body.dump().catch(() => undefined);
    const error = new IndexError(shown, 'http-status', `HTTP ${statusCode}`);
    const retryAfter = retryAfterMs(response.headers['retry-after']);
    if (retryAfter !== undefined) error.retryAfterMs = retryAfter;
    throw error;
  }
  const etag = header(response.headers.etag);
  const lastModified = header(response.headers['last-modified']);
  const length = Number(header(response.headers['content-length']));
  const body = wrapBody(response.body, shown);
  return { notModified: false, body, ...(etag && { etag }), ...(lastModified && { lastModified }), ...(Number.isFinite(length) && { size: length }) };
}

/** Network errors inside the body (reset, stall) become IndexErrors that name the source. */
async function* wrapBody(body: AsyncIterable<Buffer>, shown: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (err) {
    throw new IndexError(shown, 'network', `download failed: ${describeNetworkError(err)}`, { cause: err });
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = header(value);
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  const message = e?.cause?.message ?? e?.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
