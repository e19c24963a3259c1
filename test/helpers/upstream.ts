import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake APK repository on 127.0.0.1: serves files from memory with ETag and 304, counts requests, and can be
 * told to misbehave for the next requests (status codes, hangs, resets, arbitrary bytes).
 */
export type Fault =
  | { status: number; headers?: Record<string, string> }
  | { hang: true }
  | { reset: true }
  | { stallAfter: number }
  | { body: Buffer };

export class Upstream {
  readonly files = new Map<string, Buffer>();
  readonly requests: Array<{ path: string; ifNoneMatch?: string }> = [];
  private faults: Fault[] = [];
  private server: Server | undefined;
  private sockets = new Set<import('node:net').Socket>();
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next requests get these faults, one each, in order. */
  fail(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  clearFaults(): void {
    this.faults = [];
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    this.requests.push({ path, ifNoneMatch: req.headers['if-none-match'] });
    const fault = this.faults.shift();
    if (fault) {
      if ('hang' in fault) return; // never answers
      if ('reset' in fault) return void req.socket.destroy();
      if ('status' in fault) return void res.writeHead(fault.status, fault.headers).end(`status ${fault.status}`);
      if ('body' in fault) return void res.writeHead(200).end(fault.body);
      const body = this.files.get(path) ?? Buffer.alloc(0);
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, fault.stallAfter)); // then nothing more
      return;
    }
    const body = this.files.get(path);
    if (!body) return void res.writeHead(404).end('not found');
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
    res.writeHead(200, { etag, 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  }
}
