import { connect } from 'node:net';

/** Raw HTTP over a plain TCP socket, for requests no client library would send. */

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  /** Every response parsed from the bytes received, in order (pipelined requests get several). */
  responses: RawResponse[];
  /** Everything received, as latin1. */
  raw: string;
  /** A socket error (ECONNRESET, ...) if one happened; undefined on a clean close or when we gave up. */
  error: string | undefined;
  /**
   * Whether the server ended the connection (a close or a reset). False when we gave up waiting: the cap passed
   * (`until: 'close'`) or the server sent nothing for `idleMs` (`until: 'idle'`).
   */
  closed: boolean;
}

export interface RawExchangeOptions {
  /**
   * `'close'` (the default): read until the server closes the connection, for requests that ask for it
   * (`Connection: close`, HTTP/1.0) and malformed ones, which the server must refuse and close; give up after
   * `capMs`. `'idle'`: read until `idleMs` pass without data, for a connection the server may keep open.
   */
  until?: 'close' | 'idle';
  /** How long to wait for the server to close (`until: 'close'`); default 5 s. */
  capMs?: number;
  /** How long without data ends the exchange (`until: 'idle'`); default 400 ms. */
  idleMs?: number;
  /** Half-close the connection once the request is written: the client will send nothing more. */
  end?: boolean;
}

/**
 * Writes `request` (bytes exactly as given) to 127.0.0.1:`port` and collects what comes back, until the server
 * closes the connection (or the cap passes), or, with `until: 'idle'`, until no data comes for `idleMs`.
 * Responses are parsed leniently (Content-Length or chunked).
 */
export function rawExchange(
  port: number,
  request: Buffer | string,
  options: RawExchangeOptions = {},
): Promise<RawExchange> {
  const { until = 'close', capMs = 5_000, idleMs = 400, end = false } = options;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ responses: parseResponses(raw), raw, error, closed });
    };
    const giveUpAfter = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), ms);
    };
    socket.on('connect', () => {
      const bytes = typeof request === 'string' ? Buffer.from(request, 'latin1') : request;
      if (end) socket.end(bytes);
      else socket.write(bytes);
      giveUpAfter(until === 'close' ? capMs : idleMs);
    });
    socket.on('data', (d) => {
      chunks.push(d);
      if (until === 'idle') giveUpAfter(idleMs);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    // The server's FIN (we never end our side unless asked, so 'end' is the server's doing) or a reset.
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** Parses consecutive HTTP/1.x responses out of `raw`; stops at the first incomplete one. */
export function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
    if (!m) break;
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = end + 4;
    let body = '';
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      let at = bodyStart;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', at);
        if (lineEnd === -1) return out;
        const size = parseInt(rest.slice(at, lineEnd), 16);
        if (Number.isNaN(size)) return out;
        at = lineEnd + 2;
        if (size === 0) {
          at += 2;
          break;
        }
        body += rest.slice(at, at + size);
        at += size + 2;
      }
      rest = rest.slice(at);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = rest.slice(bodyStart, bodyStart + length);
      rest = rest.slice(bodyStart + length);
    }
    out.push({ status: Number(m[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') });
  }
  return out;
}
