/**
 * Reading indexes on worker threads. Inflating runs on libuv's pool, but parsing, the larger part, ran on the one
 * JavaScript thread: two arches loaded together took twice as long as one, and a load held back every answer
 * between its pieces. Here each read runs on one of a few workers (one per core, at most MAX_THREADS), with the
 * same code (index-worker.ts runs readIndexBody), limits and errors; this thread only downloads, holds the bytes
 * against the download budget and keeps the verified file, and gets the snapshot's buffers moved to it.
 *
 * The worker script is the compiled index-worker.js beside this module; running from TypeScript sources (the
 * unit tests) it does not exist, and reads stay on this thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { TrustedKey } from '../decode/signature.js';
import { IndexError, type IndexErrorReason } from '../errors.js';
import { snapshotFromWire, type SnapshotWire } from '../index/snapshot.js';
import type { ReadLimits } from '../parse/limits.js';
import type { IndexLocation } from '../source/locations.js';
import { readIndexBody, type ReadBodyOptions, type ReadBodyResult } from './read-index-body.js';

const MAX_THREADS = 4;
const ANSWERED: unique symbol = Symbol('answered');
/**
 * A worker with nothing to read for this long is ended: its heap (a parse leaves tens of MiB of garbage there that
 * an idle isolate never collects) goes with it. The service reads every updateInterval; a new worker starts in tens
 * of milliseconds.
 */
const IDLE_MS = 5_000;

/** What the main thread posts to a worker to start one read; the body follows on `port`. */
export interface ReadJob {
  port: MessagePort;
  location: IndexLocation;
  keys: readonly TrustedKey[];
  limits: ReadLimits;
  allowForeignArch: boolean | undefined;
}

/** The body, on a read's port. */
export type BodyMessage = { t: 'chunk'; bytes: Uint8Array } | { t: 'end' } | { t: 'abandon' };

export type WireError =
  | { kind: 'index'; source: string; reason: IndexErrorReason; detail: string }
  | { kind: 'other'; name: string; message: string; stack: string | undefined };

/** A read's answer, on its port. */
export type ResultMessage =
  { t: 'done'; snapshot: SnapshotWire; archive: Uint8Array[] | undefined } | { t: 'error'; error: WireError };

const BUILT_IN: Record<string, new (message: string) => Error> = {
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
};

/** The error a worker reported, as the same class here: IndexErrors keep their reason, bugs stay bugs (isBug). */
function fromWire(e: WireError): Error {
  if (e.kind === 'index') return new IndexError(e.source, e.reason, e.detail);
  const err = new (BUILT_IN[e.name] ?? Error)(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

interface Thread {
  worker: Worker;
  /** Reads in flight on it, each failed if the worker dies. */
  reads: Set<(err: Error) => void>;
  idle: NodeJS.Timeout | undefined;
}

class IndexThreads {
  private readonly threads: Thread[] = [];

  constructor(
    private readonly script: URL,
    private readonly size: number,
  ) {}

  /** The least busy worker, a new one while there are fewer than `size`. */
  private pick(): Thread {
    const least = this.threads.reduce<Thread | undefined>(
      (best, t) => (best === undefined || t.reads.size < best.reads.size ? t : best),
      undefined,
    );
    if (least && (least.reads.size === 0 || this.threads.length >= this.size)) {
      clearTimeout(least.idle);
      return least;
    }
    const worker = new Worker(this.script);
    // Idle workers never keep a command from exiting; a read in flight keeps its port, and so the process, alive.
    worker.unref();
    const thread: Thread = { worker, reads: new Set(), idle: undefined };
    const lost = (err: Error) => {
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      for (const fail of thread.reads) fail(err);
      thread.reads.clear();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`index worker thread exited (code ${code})`)));
    this.threads.push(thread);
    return thread;
  }

  /** A read has ended on `thread`; an idle worker is ended after IDLE_MS. */
  private done(thread: Thread, fail: (err: Error) => void): void {
    thread.reads.delete(fail);
    if (thread.reads.size > 0) return;
    clearTimeout(thread.idle);
    thread.idle = setTimeout(() => {
      if (thread.reads.size > 0) return;
      // Out of the pool first, so that no read is given to a worker on its way out.
      const at = this.threads.indexOf(thread);
      if (at >= 0) this.threads.splice(at, 1);
      void thread.worker.terminate();
    }, IDLE_MS).unref();
  }

  async read(body: AsyncIterable<Buffer>, location: IndexLocation, options: ReadBodyOptions): Promise<ReadBodyResult> {
    const { port1: here, port2: there } = new MessageChannel();
    const thread = this.pick();
    let fail!: (err: Error) => void;
    const answer = new Promise<Extract<ResultMessage, { t: 'done' }>>((resolve, reject) => {
      fail = reject;
      here.on('message', (m: ResultMessage) => {
        if (m.t === 'done') resolve(m);
        else reject(fromWire(m.error));
      });
    });
    // Handled from now on: a refusal may arrive while the body is still being sent, before it is awaited.
    answer.catch(() => undefined);
    thread.reads.add(fail);
    const job: ReadJob = {
      port: there,
      location: { url: location.url, arch: location.arch, repository: location.repository },
      keys: options.keys,
      limits: options.limits,
      allowForeignArch: options.allowForeignArch,
    };
    thread.worker.postMessage(job, [there]);
    const send = (m: BodyMessage, transfer: ArrayBuffer[] = []) => here.postMessage(m, transfer);
    const iterator = body[Symbol.asyncIterator]();
    const answered: Promise<typeof ANSWERED> = answer.then(
      () => ANSWERED,
      () => ANSWERED,
    );
    try {
      let received = 0;
      for (;;) {
        const pending = iterator.next();
        const next = await Promise.race([pending, answered]);
        if (next === ANSWERED) {
          // The worker has answered before the end (a refusal, a limit): nothing more of the body is wanted, and a
          // download that has stalled must not hold the answer. The read it was waiting on fails or is dropped.
          pending.catch(() => undefined);
          options.cancel?.();
          void iterator.return?.().catch(() => undefined);
          break;
        }
        if (next.done) break;
        const chunk = next.value;
        received += chunk.length;
        // As readIndexArchive does: with keys, the whole file is held until verified (by the worker, which gives
        // it back), and counts against the download budget until this read ends.
        if (options.keys.length > 0) await options.held?.hold(chunk.length);
        const bytes = new Uint8Array(chunk);
        send({ t: 'chunk', bytes }, [bytes.buffer]);
        // The worker refuses the file with the size limit's own error; nothing past it is downloaded.
        if (received > options.limits.maxCompressedBytes) {
          void iterator.return?.().catch(() => undefined);
          break;
        }
      }
      send({ t: 'end' });
    } catch (err) {
      // A failed download, or the budget refusing more: the worker stops, and so does the download (as
      // readIndexArchive's reader closes its body).
      send({ t: 'abandon' });
      options.cancel?.();
      void iterator.return?.().catch(() => undefined);
      this.done(thread, fail);
      here.close();
      // The worker's answer to an abandoned read is not wanted; the download's own error is.
      throw err;
    }
    try {
      const done = await answer;
      return {
        snapshot: snapshotFromWire(done.snapshot),
        archive: done.archive?.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
      };
    } finally {
      this.done(thread, fail);
      here.close();
    }
  }
}

let threads: IndexThreads | null | undefined;

/** The pool, or null when there is no compiled worker script to run (reads stay on this thread). */
function pool(): IndexThreads | null {
  if (threads === undefined) {
    const script = new URL('./index-worker.js', import.meta.url);
    threads = existsSync(fileURLToPath(script))
      ? new IndexThreads(script, Math.max(1, Math.min(MAX_THREADS, availableParallelism())))
      : null;
  }
  return threads;
}

/** readIndexBody on a worker thread (without `also`, which reads on this thread); see the top of this file. */
export function readIndexBodyOffThread(
  body: AsyncIterable<Buffer>,
  location: IndexLocation,
  options: ReadBodyOptions,
): Promise<ReadBodyResult> {
  const threads = options.also === undefined ? pool() : null;
  return threads === null ? readIndexBody(body, location, options) : threads.read(body, location, options);
}
