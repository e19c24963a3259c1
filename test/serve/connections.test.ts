import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { guardConnections, type ConnectionStates, type DropReason } from '../../src/serve/connections.js';
import { eventually } from '../helpers/wait.js';

/**
 * The connection guards on a bare HTTP server: at maxConnections a new connection takes the place of the oldest
 * stalled one, else of the oldest idle one, else it is refused. A 64 MB answer to a client that never reads is more
 * than the kernel takes for one socket, so its writing stops: stalled.
 */

const BIG = Buffer.alloc(64 * 1024 * 1024, 'x');
let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function guarded(maxConnections: number) {
  const dropped: DropReason[] = [];
  server = createServer((request, response) => {
    if (request.url === '/big') return void response.end(BIG);
    if (request.url === '/hold') return; // answered never: busy for good
    response.end('ok\n');
  });
  const states = guardConnections(server, {
    maxConnections,
    stallTimeoutMs: 60_000,
    onDrop: (why) => dropped.push(why),
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { dropped, states, port: (server.address() as AddressInfo).port };
}

/** A client socket that sends `request` (if any), reading what comes back unless `reads` is false. */
async function client(port: number, request?: string, reads = true): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  sockets.push(s);
  await once(s, 'connect');
  if (reads) s.resume();
  else s.pause();
  if (request) s.write(request);
  return s;
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
const closed = (s: Socket) => (s.closed ? Promise.resolve() : once(s, 'close').then(() => undefined));

describe('connection guards at maxConnections', () => {
  it('shed the oldest stalled connection first, then the oldest idle one, then refuse', async () => {
    const { dropped, states, port } = await guarded(3);
    const idleOld = await client(port, get('/small')); // answered at once, then idle (keep-alive)
    await client(port, get('/big'), false); // never reads its 64 MB answer
    const idleNew = await client(port); // connected, no request yet
    const is = (want: ConnectionStates) => eventually(() => expect(states()).toEqual(want));
    const droppedAre = (want: DropReason[]) => eventually(() => expect(dropped).toEqual(want));
    // The stall check sees the answer stop moving within a second or two.
    await is({ busy: 0, idle: 2, stalled: 1 });

    // The guards see what the server sees: a client that never reads gets no 'close' of its own.
    await client(port, get('/hold'));
    await droppedAre(['shed-stalled']);
    await is({ busy: 1, idle: 2, stalled: 0 });

    await client(port, get('/hold'));
    await droppedAre(['shed-stalled', 'shed-idle']);
    await closed(idleOld);
    expect(idleNew.closed).toBe(false);

    await client(port, get('/hold'));
    await droppedAre(['shed-stalled', 'shed-idle', 'shed-idle']);
    await closed(idleNew);
    await is({ busy: 3, idle: 0, stalled: 0 });

    // Every connection is busy answering: the next is refused as it arrives.
    const refused = await client(port, get('/small'));
    await droppedAre(['shed-stalled', 'shed-idle', 'shed-idle', 'refused']);
    await closed(refused);
    expect(states()).toEqual({ busy: 3, idle: 0, stalled: 0 });
  }, 30_000);
});
