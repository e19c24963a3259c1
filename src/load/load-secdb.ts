import { IndexError } from '../errors.js';
import { redactUrl } from '../source/locations.js';
import { openSource, type OpenOptions } from '../source/open.js';
import { parseSecdb, type SecurityDatabase } from '../secdb/parse.js';

/** Wolfi's security.json is about 2 MB; a document many times that is refused rather than held in memory. */
export const DEFAULT_MAX_SECDB_BYTES = 64 * 1024 * 1024;

export interface SecdbLoadOptions extends Omit<OpenOptions, 'etag' | 'lastModified'> {
  /** Bytes the document may have; more is a `limit` error and the download stops there. */
  maxBytes?: number;
  previous?: { etag?: string; lastModified?: string };
}

export type SecdbLoadResult =
  | { notModified: true }
  | { notModified: false; database: SecurityDatabase; etag: string | undefined; lastModified: string | undefined };

/** Fetches (conditionally) and parses one security database. Every failure is an IndexError naming the source. */
export async function loadSecdb(location: string, options: SecdbLoadOptions = {}): Promise<SecdbLoadResult> {
  const shown = redactUrl(location);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SECDB_BYTES;
  const opened = await openSource(location, {
    ...options,
    etag: options.previous?.etag,
    lastModified: options.previous?.lastModified,
    maxBytes,
  });
  if (opened.notModified) return { notModified: true };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of opened.body) {
    size += chunk.length;
    if (size > maxBytes) {
      // Leaving the loop ends the download.
      throw new IndexError(shown, 'limit', `security database larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const database = parseSecdb(Buffer.concat(chunks, size).toString('utf8'), shown);
  return { notModified: false, database, etag: opened.etag, lastModified: opened.lastModified };
}
