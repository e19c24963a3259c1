import { createServer, type Server } from 'node:http';

/**
 * A stand-in for a service still loading, on 127.0.0.1: `/readyz` answers 503 for the next `notReadyFor` requests,
 * then 200; every other path 404. For the readiness waits the CI files and examples run before Renovate.
 */
export class ReadyzServer {
  notReadyFor = 0;
  /** The server's root, without a trailing slash. */
  url = '';
  private readonly server: Server = createServer((req, res) => {
    if (req.url !== '/readyz') return res.writeHead(404).end();
    if (this.notReadyFor > 0) {
      this.notReadyFor--;
      return res.writeHead(503).end('not ready\n');
    }
    res.writeHead(200).end('ready\n');
  });

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
