import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long a connection with no request in progress stays open once draining has begun. */
const DRAIN_IDLE_GRACE_MS = 250;

/** How often connections are checked for answers that do not drain. */
const STALL_CHECK_MS = 1_000;

/** Why a connection was closed by the guards. */
export type DropReason =
  /** At maxConnections with nothing to shed: the new connection is closed as it arrives. */
  | 'refused'
  /** Its answer has not moved for stallTimeoutMs: its client stopped reading. */
  | 'stalled'
  /** Closed, oldest first, to make room for a new connection: its answer had stopped moving. */
  | 'shed-stalled'
  /** Closed, oldest first, to make room for a new connection: it had no request in progress. */
  | 'shed-idle';

export interface ConnectionGuards {
  /** Most connections at once; a new one past it takes the place of a stalled or idle one, or is refused. */
  maxConnections: number;
  /** A connection whose written answer has not moved for this long is closed: its client stopped reading. */
  stallTimeoutMs: number;
  /** Called whenever the guards close a connection. */
  onDrop?: (why: DropReason) => void;
}

/** The connections held now: with a request in progress, without one, and those whose answer stopped moving. */
export interface ConnectionStates {
  busy: number;
  idle: number;
  stalled: number;
}

interface Tracked {
  /** Requests in progress: from the request until its response has been written out. */
  busy: number;
  /** Where the socket's writing stood at the last check, and since when it has not moved while bytes were waiting. */
  written: number;
  stalledSince: number | undefined;
}

/**
 * Bounds what clients hold, and closes connections gently on shutdown. Returns what is held now, by state.
 *
 * Bounds: at most `maxConnections` sockets. A new connection past that takes the place of the oldest one whose
 * answer has stopped moving (a client that asks and never reads), else of the oldest one with no request in progress
 * (an idle keep-alive connection, or one still sending its request); only when every connection is busy answering
 * is the new one refused. So clients that hold connections without reading cannot lock the others out, the probes
 * included. A socket whose answer waits in its write buffer without any byte leaving for `stallTimeoutMs` is
 * destroyed (it would otherwise pin its answer in memory forever). Node already stops parsing pipelined requests
 * while a socket's answers are not drained, so one connection holds at most about one answer beyond its socket
 * buffer.
 *
 * Draining: Node's `server.close()` destroys every connection it deems idle, including one whose last answer has
 * been handed to Node but not yet written to the kernel (a large answer to a slow reader): that answer would be
 * cut short. Here a connection counts as busy from its request until its response has been written out (`close`);
 * while draining, one that is not busy is closed after a short grace (a request already on the wire is still read
 * and answered, with `Connection: close`), and so is a busy one once its last answer is out. The listener itself
 * closes at once, so new connections are refused.
 */
export function guardConnections(server: Server, guards: ConnectionGuards): () => ConnectionStates {
  const sockets = new Map<Socket, Tracked>(); // in order of arrival: oldest first
  let draining = false;
  const drop = (socket: Socket, why: DropReason) => {
    sockets.delete(socket);
    socket.destroy();
    guards.onDrop?.(why);
  };
  const closeWhenIdle = (socket: Socket) => {
    setTimeout(() => {
      if (sockets.get(socket)?.busy === 0) socket.destroy();
    }, DRAIN_IDLE_GRACE_MS).unref();
  };
  /** The connection a new one may take the place of: the oldest stalled, else the oldest idle. */
  const sheddable = (): [Socket, DropReason] | undefined => {
    let idle: Socket | undefined;
    for (const [socket, tracked] of sockets) {
      if (tracked.stalledSince !== undefined) return [socket, 'shed-stalled'];
      if (tracked.busy === 0) idle ??= socket;
    }
    return idle && [idle, 'shed-idle'];
  };
  server.on('connection', (socket: Socket) => {
    if (sockets.size >= guards.maxConnections) {
      const victim = sheddable();
      if (!victim) return void (socket.destroy(), guards.onDrop?.('refused'));
      drop(...victim);
    }
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
      if (now - tracked.stalledSince >= guards.stallTimeoutMs) drop(socket, 'stalled');
    }
  };
  let timer: NodeJS.Timeout | undefined;
  server.on('listening', () => {
    timer = setInterval(checkStalls, Math.min(STALL_CHECK_MS, guards.stallTimeoutMs));
    timer.unref();
  });
  server.on('close', () => clearInterval(timer));

  return () => {
    const states = { busy: 0, idle: 0, stalled: 0 };
    for (const tracked of sockets.values())
      states[tracked.stalledSince !== undefined ? 'stalled' : tracked.busy > 0 ? 'busy' : 'idle']++;
    return states;
  };
}

/**
 * A number that changes whenever a byte of the socket's answers moves: `bytesWritten` counts a chunk when it is
 * handed to libuv, whose queue (`writeQueueSize`, what `socket.bufferSize` reads) shrinks as the kernel takes it.
 */
function progressOf(socket: Socket): number {
  const queued = (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0;
  return socket.bytesWritten - queued;
}
