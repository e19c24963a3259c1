import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The last verified APKINDEX.tar.gz of each configured index, kept in a state directory so that a restart serves
 * at once (after verifying it again) and refreshes conditionally. One file per index, named by a digest of
 * repository and URL: a first line of JSON (what it is, its validators), then the archive's bytes as downloaded.
 * Written to a temporary file and renamed, so a crash leaves the old file or the new one, never half of one.
 */
export interface SavedIndex {
  repository: string;
  /** The index URL, redacted: credentials never reach the disk. */
  url: string;
  etag: string | undefined;
  lastModified: string | undefined;
  savedAt: string;
  /**
   * The trusted keys (PEM) that verified it, by where they were loaded from: on a start during an outage, a key
   * URL that cannot be fetched is taken from here, and only for a location still configured.
   */
  keys: Array<{ origin: string; name: string; pem: string }>;
  archive: Buffer;
}

const MAGIC = 'apk-indexer saved index v1';

export function savedIndexPath(stateDir: string, repository: string, url: string): string {
  const digest = createHash('sha256').update(`${repository}\n${url}`).digest('hex').slice(0, 32);
  return join(stateDir, `${digest}.apkindex`);
}

/** Keeps a verified index; its bytes are the chunks it was downloaded in (written one after the other, never joined). */
export async function writeSavedIndex(
  stateDir: string,
  saved: Omit<SavedIndex, 'savedAt' | 'archive'> & { archive: readonly Buffer[] },
): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const path = savedIndexPath(stateDir, saved.repository, saved.url);
  const head = JSON.stringify({
    magic: MAGIC,
    repository: saved.repository,
    url: saved.url,
    etag: saved.etag,
    lastModified: saved.lastModified,
    savedAt: new Date().toISOString(),
    keys: saved.keys,
    bytes: saved.archive.reduce((sum, chunk) => sum + chunk.length, 0),
  });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, [Buffer.from(`${head}\n`), ...saved.archive], { mode: 0o600 });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * The saved index of `repository` at `url`; undefined when there is none. A file that is not one of ours, or that
 * names another repository or URL, or is cut short, is an Error (the caller warns and ignores it). Its signature is
 * the caller's to check, as for a download.
 */
export async function readSavedIndex(
  stateDir: string,
  repository: string,
  url: string,
): Promise<SavedIndex | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(savedIndexPath(stateDir, repository, url));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const nl = bytes.indexOf(0x0a);
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(bytes.toString('utf8', 0, nl === -1 ? Math.min(bytes.length, 4096) : nl)) as Record<
      string,
      unknown
    >;
  } catch {
    throw new Error('not a saved index (no header)');
  }
  if (head.magic !== MAGIC) throw new Error('not a saved index (unknown header)');
  if (head.repository !== repository || head.url !== url) {
    throw new Error(`saved for another index (repository ${JSON.stringify(head.repository)}, ${String(head.url)})`);
  }
  const archive = bytes.subarray(nl + 1);
  if (archive.length !== head.bytes) throw new Error(`cut short (${archive.length} of ${String(head.bytes)} bytes)`);
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const keys = Array.isArray(head.keys)
    ? (head.keys as SavedIndex['keys']).filter(
        (k) => typeof k?.origin === 'string' && typeof k.name === 'string' && typeof k.pem === 'string',
      )
    : [];
  return {
    repository,
    url,
    etag: text(head.etag),
    lastModified: text(head.lastModified),
    savedAt: String(head.savedAt),
    keys,
    archive,
  };
}
