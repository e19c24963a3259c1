import { readIndexArchive, type ApkIndexSink } from '../decode/index-archive.js';
import type { TrustedKey } from '../decode/signature.js';
import { IndexError } from '../errors.js';
import { ApkIndexParser } from '../parse/apkindex-parser.js';
import { RecordError } from '../parse/record-error.js';
import { resolveLimits, type ReadLimits } from '../parse/limits.js';
import { redactUrl, type IndexLocation } from '../source/locations.js';
import { openSource, type OpenOptions } from '../source/open.js';
import { SnapshotBuilder, type IndexSnapshot } from '../index/snapshot.js';
import type { HeldBytes } from '../decode/byte-reader.js';
import type { DownloadBudget } from './download-budget.js';

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
  const opened = await openSource(location.url, {
    ...options,
    etag: options.previous?.etag,
    lastModified: options.previous?.lastModified,
    maxBytes: limits.maxCompressedBytes,
  });
  if (opened.notModified) return { notModified: true };
  const lease = options.budget?.lease(redactUrl(location.url), options.signal);
  try {
    const read = await readIndexBody(opened.body, location, {
      keys: options.keys,
      limits,
      allowForeignArch: options.allowForeignArch,
      also: options.also,
      held: lease,
    });
    return { notModified: false, ...read, etag: opened.etag, lastModified: opened.lastModified };
  } finally {
    lease?.release();
  }
}

/** Decodes an already opened index body; used for HTTP, files and in-memory fixtures alike. */
export async function readIndexBody(
  body: AsyncIterable<Buffer>,
  location: IndexLocation,
  options: {
    keys: readonly TrustedKey[];
    limits: ReadLimits;
    allowForeignArch?: boolean | undefined;
    also?: ApkIndexSink | undefined;
    held?: HeldBytes | undefined;
  },
): Promise<{ snapshot: IndexSnapshot; archive: readonly Buffer[] | undefined }> {
  const shown = redactUrl(location.url);
  const builder = new SnapshotBuilder();
  // An index under `<base>/<arch>/` holds that arch's packages (and noarch ones); anything else is mislabelled.
  const arch = options.allowForeignArch ? undefined : location.arch;
  const parser = new ApkIndexParser(options.limits, builder, { ...(arch !== undefined && { arch }) });
  const result = await readIndexArchive(body, {
    source: shown,
    keys: options.keys,
    limits: options.limits,
    ...(options.held && { held: options.held }),
    sink: {
      data: (chunk) => {
        parsing(shown, () => parser.push(chunk));
        options.also?.data(chunk);
      },
      end: () => {
        parsing(shown, () => parser.end());
        options.also?.end();
      },
    },
  });
  const snapshot = builder.finish({
    url: shown,
    arch: location.arch ?? builder.firstArch ?? 'noarch',
    repository: location.repository,
    description: result.description,
    verifiedBy: result.verdict.verifiedBy,
  });
  return { snapshot, archive: result.archive };
}

/** The parser's complaints about records and lines become IndexErrors naming the source and the APKINDEX member. */
function parsing(source: string, step: () => void): void {
  try {
    step();
  } catch (err) {
    if (err instanceof RecordError) throw new IndexError(source, err.kind, `APKINDEX ${err.message}`, { cause: err });
    throw err;
  }
}
