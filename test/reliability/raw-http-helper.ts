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
  /** A socket error (ECONNRESET, ...) if one happened; undefined on a clean close or timeout. */
  error: string | undefined;
}

/**
 * Writes `request` (bytes exactly as given) to 127.0.0.1:`port` and collects what comes back until the server
 * closes the connection or `idleMs` pass without data. Responses are parsed leniently (Content-Length or chunked).
 */
export function rawExchange(port: number, request: Buffer | string, idleMs = 400): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ responses: parseResponses(raw), raw, error });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, idleMs);
    };
    socket.on('connect', () => {
      socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
      arm();
    });
    socket.on('data', (d) => {
      chunks.push(d);
      arm();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', finish);
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
    let bodyStart = end + 4;
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
