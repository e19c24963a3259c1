import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve, sep } from 'node:path';

/**
 * A fake APK repository on 127.0.0.1. It serves a directory (as `writeFixtureRepo` lays one out) and files set in
 * memory (`files`, which win), with ETag and Last-Modified and 304 for If-None-Match / If-Modified-Since, and
 * counts every request. `fail()` makes the next requests misbehave, one fault each, in order.
 */
export type Fault = FaultKind & {
  /** Only for a request whose path ends with this (e.g. `aarch64/APKINDEX.tar.gz`); others pass it by. */
  path?: string;
};

type FaultKind =
  /** Answer this status (and headers, e.g. Retry-After). */
  | { status: number; headers?: Record<string, string> }
  /** Never answer. */
  | { hang: true }
  /** Close the connection without an answer. */
  | { reset: true }
  /** Send the headers and this many bytes of the real file, then nothing more. */
  | { stallAfter: number }
  /** Send the headers and this many bytes of the real file, then reset the connection (TCP RST) mid-body. */
  | { resetAfter: number }
  /** Answer 200 with these bytes instead of the file. */
  | { body: Buffer }
  /** Answer normally after this delay. */
  | { delayMs: number }
  /** Send the headers, then the real file one byte every `everyMs`: never stalled, never done. */
  | { trickleEveryMs: number };

export interface UpstreamRequest {
  method: string;
  path: string;
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
  authorization: string | undefined;
  /** The Range header asked for, if any. */
  range?: string | undefined;
  /** The status answered; undefined for hangs and resets. */
  status: number | undefined;
}

export interface UpstreamOptions {
  /** Directory served at `/`; files in `files` win over it. */
  root?: string;
  /** Send ETags (default true); without them only Last-Modified makes requests conditional. */
  etags?: boolean;
  /** A private repository: every request without exactly this Authorization header is answered 401. */
  requireAuthorization?: string;
}

export class Upstream {
  readonly files = new Map<string, Buffer>();
  readonly requests: UpstreamRequest[] = [];
  root: string | undefined;
  etags: boolean;
  /** Honour Range requests (default true); false answers the whole file, as a server without ranges does. */
  ranges = true;
  requireAuthorization: string | undefined;
  url = '';
  private faults: Fault[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** When each in-memory body was first served: its Last-Modified. */
  private readonly memoryTimes = new WeakMap<Buffer, Date>();

  constructor(options: UpstreamOptions = {}) {
    this.root = options.root === undefined ? undefined : resolve(options.root);
    this.etags = options.etags ?? true;
    this.requireAuthorization = options.requireAuthorization;
  }

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

  /** The next requests (matching each fault's `path`, if given) get these faults, one each, in order. */
  fail(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Faults not yet used. */
  /** Client connections open now. */
  get openConnections(): number {
    return this.sockets.size;
  }

  get pendingFaults(): number {
    return this.faults.length;
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Requests whose path ends with `suffix` (e.g. `x86_64/APKINDEX.tar.gz`), oldest first. */
  requestsFor(suffix: string): UpstreamRequest[] {
    return this.requests.filter((r) => r.path.endsWith(suffix));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    } catch {
      path = req.url!;
    }
    const entry: UpstreamRequest = {
      method: req.method ?? 'GET',
      path,
      ifNoneMatch: req.headers['if-none-match'],
      ifModifiedSince: req.headers['if-modified-since'],
      authorization: req.headers.authorization,
      range: req.headers.range,
      status: undefined,
    };
    this.requests.push(entry);
    const answer = (status: number, headers: Record<string, string | number> = {}, body?: Buffer | string) => {
      entry.status = status;
      res.writeHead(status, headers).end(body);
    };
    if (this.requireAuthorization !== undefined && req.headers.authorization !== this.requireAuthorization) {
      return answer(401, { 'www-authenticate': 'Bearer' }, 'unauthorized');
    }
    const at = this.faults.findIndex((f) => f.path === undefined || path.endsWith(f.path));
    const fault = at === -1 ? undefined : this.faults.splice(at, 1)[0];
    if (fault) {
      if ('hang' in fault) return; // never answers
      if ('reset' in fault) return void req.socket.destroy();
      if ('status' in fault) return answer(fault.status, fault.headers, `status ${fault.status}`);
      if ('body' in fault) return answer(200, { 'content-length': fault.body.length }, fault.body);
      if ('delayMs' in fault) return void setTimeout(() => this.serve(path, req, answer), fault.delayMs);
      if ('trickleEveryMs' in fault) return this.trickle(path, res, entry, fault.trickleEveryMs);
      const file = this.read(path);
      const cut = 'stallAfter' in fault ? fault.stallAfter : fault.resetAfter;
      entry.status = 200;
      res.writeHead(200, { 'content-length': file?.body.length ?? 0 });
      res.write((file?.body ?? Buffer.alloc(0)).subarray(0, cut), () => {
        if ('resetAfter' in fault) req.socket.resetAndDestroy(); // once the bytes are out, so the client reads them first
      }); // a stall: nothing more
      return;
    }
    this.serve(path, req, answer);
  }

  private trickle(path: string, res: ServerResponse, entry: UpstreamRequest, everyMs: number): void {
    const body = this.read(path)?.body ?? Buffer.alloc(0);
    entry.status = 200;
    res.writeHead(200, { 'content-length': body.length });
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= body.length || res.destroyed) return clearInterval(timer);
      res.write(body.subarray(sent, ++sent));
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  }

  private serve(
    path: string,
    req: IncomingMessage,
    answer: (status: number, headers?: Record<string, string | number>, body?: Buffer) => void,
  ): void {
    const file = this.read(path);
    if (!file) return answer(404, {}, Buffer.from('not found'));
    const etag = `"${createHash('sha1').update(file.body).digest('hex')}"`;
    const lastModified = file.modified.toUTCString();
    const validators: Record<string, string> = { 'last-modified': lastModified, ...(this.etags && { etag }) };
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    // RFC 9110: If-None-Match, when present, decides; If-Modified-Since only without it.
    const unchanged =
      this.etags && inm !== undefined
        ? inm === etag
        : ims !== undefined && Math.floor(file.modified.getTime() / 1000) <= Math.floor(Date.parse(ims) / 1000);
    if (unchanged) return answer(304, validators);
    // A byte range (`bytes=a-b`, `bytes=a-`), as package heads are fetched: 206 with Content-Range.
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range && this.ranges) {
      const from = Number(range[1]);
      const to = Math.min(range[2] ? Number(range[2]) : file.body.length - 1, file.body.length - 1);
      if (from >= file.body.length) return answer(416, { 'content-range': `bytes */${file.body.length}` });
      const part = file.body.subarray(from, to + 1);
      return answer(
        206,
        { ...validators, 'content-range': `bytes ${from}-${to}/${file.body.length}`, 'content-length': part.length },
        part,
      );
    }
    answer(
      200,
      { ...validators, 'content-type': 'application/octet-stream', 'content-length': file.body.length },
      file.body,
    );
  }

  private read(path: string): { body: Buffer; modified: Date } | undefined {
    const memory = this.files.get(path);
    if (memory) {
      let modified = this.memoryTimes.get(memory);
      if (!modified) this.memoryTimes.set(memory, (modified = new Date()));
      return { body: memory, modified };
    }
    if (!this.root) return undefined;
    const full = resolve(this.root, `.${path}`);
    if (full !== this.root && !full.startsWith(this.root + sep)) return undefined;
    try {
      const info = statSync(full);
      if (!info.isFile()) return undefined;
      return { body: readFileSync(full), modified: info.mtime };
    } catch {
      return undefined;
    }
  }
}
