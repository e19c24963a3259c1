import type { ApkIndexSink } from '../decode/index-archive.js';
import type { TrustedKey } from '../decode/signature.js';
import { resolveLimits, type ReadLimits } from '../parse/limits.js';
import { redactUrl, type IndexLocation } from '../source/locations.js';
import { openSource, type OpenOptions } from '../source/open.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import type { DownloadBudget } from './download-budget.js';
import { readIndexBodyOffThread } from './index-threads.js';
import { readIndexBody } from './read-index-body.js';

export { readIndexBody, readIndexBodyOffThread };

export interface LoadOptions extends Omit<OpenOptions, 'etag' | 'lastModified'> {
  keys: readonly TrustedKey[];
  limits?: Partial<ReadLimits>;
  /** Accept records whose `A:` is another arch than the URL's (default: such a record fails the read, `format`). */
  allowForeignArch?: boolean;
  /** Validators of the last good read: an unchanged index answers `notModified` without being parsed. */
  previous?: { etag?: string; lastModified?: string };
  /** Also receives the APKINDEX text (e.g. a dependency reader for `check`); the snapshot never keeps it. */
  also?: ApkIndexSink;
  /** The total that the compressed bytes held until verified count against, shared by every download. */
  budget?: DownloadBudget;
  /**
   * Verify, inflate and parse on a worker thread (see index-threads.ts): indexes loaded together use every core,
   * and this thread stays free to answer. Ignored with `also`, whose reader runs here.
   */
  offThread?: boolean;
}

export type LoadResult =
  | { notModified: true }
  | {
      notModified: false;
      snapshot: IndexSnapshot;
      /** The verified file's bytes, in the chunks they arrived in (only with trusted keys). */
      archive: readonly Buffer[] | undefined;
      etag: string | undefined;
      lastModified: string | undefined;
    };

/** Fetches, verifies and parses one APKINDEX.tar.gz into a snapshot. Every failure is an IndexError. */
export async function loadIndex(location: IndexLocation, options: LoadOptions): Promise<LoadResult> {
  const limits = resolveLimits(options.limits);
  // A read that ends before its body (a refusal on a worker thread) stops the download with this.
  const cancel = new AbortController();
  const opened = await openSource(location.url, {
    ...options,
    signal: options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal,
    etag: options.previous?.etag,
    lastModified: options.previous?.lastModified,
    maxBytes: limits.maxCompressedBytes,
  });
  if (opened.notModified) return { notModified: true };
  const lease = options.budget?.lease(redactUrl(location.url), options.signal);
  try {
    const read = options.offThread && !options.also ? readIndexBodyOffThread : readIndexBody;
    const result = await read(opened.body, location, {
      keys: options.keys,
      limits,
      allowForeignArch: options.allowForeignArch,
      also: options.also,
      held: lease,
      cancel: () => cancel.abort(new Error('the index was refused before its end')),
    });
    return { notModified: false, ...result, etag: opened.etag, lastModified: opened.lastModified };
  } finally {
    lease?.release();
  }
}
