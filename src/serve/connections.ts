import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long a connection with no request in progress stays open once draining has begun. */
const DRAIN_IDLE_GRACE_MS = 250;

/** How often connections are checked for answers that do not drain. */
const STALL_CHECK_MS = 1_000;

export interface ConnectionGuards {
  /** Most connections at once (`server.maxConnections`): more are closed as they arrive. */
  maxConnections: number;
  /** A connection whose written answer has not moved for this long is closed: its client stopped reading. */
  stallTimeoutMs: number;
  /** Called when a connection is refused or closed for stalling. */
  onDrop?: (why: 'max-connections' | 'stalled') => void;
}

interface Tracked {
  /** Requests in progress: from the request until its response has been written out. */
  busy: number;
  /** Where the socket's writing stood at the last check, and since when it has not moved while bytes were waiting. */
  written: number;
  stalledSince: number | undefined;
}

/**
 * Bounds what clients hold, and closes connections gently on shutdown.
 *
 * Bounds: at most `maxConnections` sockets; a socket whose answer waits in its write buffer without any byte
 * leaving for `stallTimeoutMs` is destroyed (a client that asks and never reads would otherwise pin its answer
 * in memory forever). Node already stops parsing pipelined requests while a socket's answers are not drained, so
 * one connection holds at most about one answer beyond its socket buffer.
 *
 * Draining: Node's `server.close()` destroys every connection it deems idle, including one whose last answer has
 * been handed to Node but not yet written to the kernel (a large answer to a slow reader): that answer would be
 * cut short. Here a connection counts as busy from its request until its response has been written out (`close`);
 * while draining, one that is not busy is closed after a short grace (a request already on the wire is still read
 * and answered, with `Connection: close`), and so is a busy one once its last answer is out. The listener itself
 * closes at once, so new connections are refused.
 */
export function guardConnections(server: Server, guards: ConnectionGuards): void {
  const sockets = new Map<Socket, Tracked>();
  let draining = false;
  server.maxConnections = guards.maxConnections;
  server.on('drop', () => guards.onDrop?.('max-connections'));
  const closeWhenIdle = (socket: Socket) => {
    setTimeout(() => {
      if (sockets.get(socket)?.busy === 0) socket.destroy();
    }, DRAIN_IDLE_GRACE_MS).unref();
  };
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { busy: 0, written: 0, stalledSince: undefined });
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    const tracked = sockets.get(socket);
    if (!tracked) return;
    tracked.busy++;
    response.once('close', () => {
      tracked.busy--;
      if (draining && tracked.busy === 0 && sockets.has(socket)) closeWhenIdle(socket);
    });
  });
  // `server.close()` calls this (Node >= 19) instead of its own, which would cut answers short.
  server.closeIdleConnections = () => {
    draining = true;
    for (const [socket, tracked] of sockets) if (tracked.busy === 0) closeWhenIdle(socket);
  };

  const checkStalls = () => {
    const now = Date.now();
    for (const [socket, tracked] of sockets) {
      const written = progressOf(socket);
      if (socket.writableLength === 0 || written !== tracked.written) {
        tracked.written = written;
        tracked.stalledSince = undefined;
        continue;
      }
      tracked.stalledSince ??= now;
      if (now - tracked.stalledSince >= guards.stallTimeoutMs) {
        sockets.delete(socket);
        socket.destroy();
        guards.onDrop?.('stalled');
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  server.on('listening', () => {
    timer = setInterval(checkStalls, Math.min(STALL_CHECK_MS, guards.stallTimeoutMs));
    timer.unref();
  });
  server.on('close', () => clearInterval(timer));
}

/**
 * A number that changes whenever a byte of the socket's answers moves: `bytesWritten` counts a chunk when it is
 * handed to libuv, whose queue (`writeQueueSize`, what `socket.bufferSize` reads) shrinks as the kernel takes it.
 */
function progressOf(socket: Socket): number {
  const queued = (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0;
  return socket.bytesWritten - queued;
}
