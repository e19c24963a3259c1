import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { REASON_HEADER, type Reason } from '../datasource/reasons.js';

/**
 * Answers a request Node could not read (Fastify's `clientErrorHandler`) as every other refusal is answered: one
 * line of text with its reason code, then the connection is closed. A reset connection gets nothing.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, text]: [number, Reason, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request-timeout', 'the request did not arrive whole within clientTimeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers-too-large', 'the request headers are too large']
        : [400, 'bad-request', 'bad request: not an HTTP/1.1 request this server can read'];
  const body = `${text}\n`;
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${REASON_HEADER}: ${reason}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy(error);
}
