import type { HeldBytes } from '../decode/byte-reader.js';
import { IndexError } from '../errors.js';

/**
 * One total for the compressed bytes that every index download in flight holds until its signature is checked (a
 * download with keys holds its whole file; see readIndexArchive). Each download takes a lease; a download that
 * would pass the total waits until others give bytes back, in arrival order. It fails (`limit`) instead when waiting
 * cannot help: it alone would pass the total, or every download holding bytes is itself waiting. Waiting stops
 * when the download's signal aborts (a refresh's deadline, shutdown).
 */
export class DownloadBudget {
  private heldBytes = 0;
  private readonly leases = new Set<DownloadLease>();
  private readonly waiting: Waiter[] = [];

  /** `onChange` hears the bytes held after every change (a metric). */
  constructor(
    readonly totalBytes: number,
    private readonly onChange?: (heldBytes: number) => void,
  ) {}

  /** Compressed bytes held now, by every download. */
  get held(): number {
    return this.heldBytes;
  }

  /** A lease for one download of `source` (named in errors). Release it once the download is decoded. */
  lease(source: string, signal?: AbortSignal): DownloadLease {
    const lease = new DownloadLease(this, source, signal);
    this.leases.add(lease);
    return lease;
  }

  /** @internal */
  take(lease: DownloadLease, bytes: number): void | Promise<void> {
    if (lease.held + bytes > this.totalBytes) {
      throw new IndexError(
        lease.source,
        'limit',
        `would hold more than the total download budget of ${this.totalBytes} bytes (limits.downloadBudget) before its signature is checked`,
      );
    }
    if (this.waiting.length === 0 && this.heldBytes + bytes <= this.totalBytes) return this.add(lease, bytes);
    lease.signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { lease, bytes, resolve, reject, onAbort: undefined };
      if (lease.signal) {
        waiter.onAbort = () => this.drop(waiter, (lease.signal!.reason as Error) ?? new Error('aborted'));
        lease.signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiting.push(waiter);
      this.settle();
    });
  }

  /** @internal */
  release(lease: DownloadLease): void {
    if (!this.leases.delete(lease)) return;
    for (const waiter of this.waiting.filter((w) => w.lease === lease)) this.drop(waiter, new Error('released'));
    this.heldBytes -= lease.held;
    lease.held = 0;
    this.onChange?.(this.heldBytes);
    this.settle();
  }

  private add(lease: DownloadLease, bytes: number): void {
    lease.held += bytes;
    this.heldBytes += bytes;
    this.onChange?.(this.heldBytes);
  }

  /** Lets waiters in, first come first served; fails the newest waiter while nothing could ever let it in. */
  private settle(): void {
    for (;;) {
      const first = this.waiting[0];
      if (first && this.heldBytes + first.bytes <= this.totalBytes) {
        this.waiting.shift();
        this.unlisten(first);
        this.add(first.lease, first.bytes);
        first.resolve();
        continue;
      }
      const stuck = this.waiting.length > 0 && [...this.leases].every((l) => l.held === 0 || this.isWaiting(l));
      if (!stuck) return;
      const newest = this.waiting[this.waiting.length - 1]!;
      this.drop(
        newest,
        new IndexError(
          newest.lease.source,
          'limit',
          `the total download budget of ${this.totalBytes} bytes (limits.downloadBudget) is held by downloads that are themselves waiting for it`,
        ),
      );
    }
  }

  private isWaiting(lease: DownloadLease): boolean {
    return this.waiting.some((w) => w.lease === lease);
  }

  private drop(waiter: Waiter, error: Error): void {
    const at = this.waiting.indexOf(waiter);
    if (at === -1) return;
    this.waiting.splice(at, 1);
    this.unlisten(waiter);
    waiter.reject(error);
    this.settle();
  }

  private unlisten(waiter: Waiter): void {
    if (waiter.onAbort) waiter.lease.signal?.removeEventListener('abort', waiter.onAbort);
  }
}

interface Waiter {
  lease: DownloadLease;
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
  onAbort: (() => void) | undefined;
}

/** One download's share of a DownloadBudget: what the decoder holds (HeldBytes), given back by `release`. */
export class DownloadLease implements HeldBytes {
  /** Bytes this download holds. */
  held = 0;

  constructor(
    private readonly budget: DownloadBudget,
    readonly source: string,
    readonly signal: AbortSignal | undefined,
  ) {}

  hold(bytes: number): void | Promise<void> {
    return this.budget.take(this, bytes);
  }

  release(): void {
    this.budget.release(this);
  }
}
