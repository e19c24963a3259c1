/**
 * The worker thread of index-threads.ts: each message from its parent is one index to read, with a port its
 * compressed bytes arrive on. It reads them as readIndexBody does on the main thread (verify, then inflate and
 * parse; same limits, same errors) and answers on that port with the snapshot, whose buffers move rather than copy.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { IndexError } from '../errors.js';
import { snapshotToWire } from '../index/snapshot.js';
import { readIndexBody } from './read-index-body.js';
import type { BodyMessage, ReadJob, ResultMessage, WireError } from './index-threads.js';

/** The body as an async iterable over the chunks the port delivers. */
class Chunks implements AsyncIterable<Buffer> {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(port: MessagePort) {
    port.on('message', (m: BodyMessage) => {
      if (m.t === 'chunk') this.queue.push(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
      else if (m.t === 'end') this.ended = true;
      else this.failure = new Error('the read was abandoned');
      this.wake?.();
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.queue.shift();
      if (next !== undefined) yield next;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

function toWire(err: unknown): WireError {
  if (err instanceof IndexError) {
    return { kind: 'index', source: err.source, reason: err.reason, detail: err.message.slice(err.source.length + 2) };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'other', name: e.name, message: e.message, stack: e.stack };
}

async function read(job: ReadJob): Promise<void> {
  const port = job.port;
  let answer: ResultMessage;
  let transfer: ArrayBuffer[] = [];
  try {
    const { snapshot, archive } = await readIndexBody(new Chunks(port), job.location, {
      keys: job.keys,
      limits: job.limits,
      allowForeignArch: job.allowForeignArch,
    });
    const sent = snapshotToWire(snapshot);
    // The verified file goes back too, in the buffers it arrived in: the main thread keeps no copy of its own.
    const file = archive?.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    answer = { t: 'done', snapshot: sent.wire, archive: file };
    transfer = [...new Set([...sent.transfer, ...(file ?? []).map((b) => b.buffer as ArrayBuffer)])];
  } catch (err) {
    answer = { t: 'error', error: toWire(err) };
  }
  port.postMessage(answer, transfer);
  port.close();
}

parentPort!.on('message', (job: ReadJob) => void read(job));
