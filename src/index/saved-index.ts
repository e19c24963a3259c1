import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileError } from '../errors.js';

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

/** The temporary files `writeSavedIndex` writes beside the file they replace, and nothing else. */
const TEMP_NAME = /^[0-9a-f]{32}\.apkindex\.[0-9a-f]{12}\.tmp$/;

export function savedIndexPath(stateDir: string, repository: string, url: string): string {
  const digest = createHash('sha256').update(`${repository}\n${url}`).digest('hex').slice(0, 32);
  return join(stateDir, `${digest}.apkindex`);
}

/**
 * Removes the temporary files a crash left behind (killed between writing and renaming): only files of our own
 * naming, and only those last written before `beforeMs`, so that a write in progress in another process sharing
 * the directory is left alone. Resolves to the names removed; a directory that does not exist yet holds none.
 */
export async function removeStaleTempFiles(stateDir: string, beforeMs: number): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(stateDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw FileError.of(stateDir, err, 'cannot list');
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => TEMP_NAME.test(n))) {
    const path = join(stateDir, name);
    try {
      const info = await stat(path);
      if (!info.isFile() || info.mtimeMs >= beforeMs) continue;
      await rm(path, { force: true });
      removed.push(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw FileError.of(path, err, 'cannot remove');
    }
  }
  return removed;
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
 * names another repository or URL, or is cut short, is a FileError naming it (the caller warns and ignores it). Its
 * signature is the caller's to check, as for a download.
 */
export async function readSavedIndex(
  stateDir: string,
  repository: string,
  url: string,
): Promise<SavedIndex | undefined> {
  const path = savedIndexPath(stateDir, repository, url);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw FileError.of(path, err, 'cannot read');
  }
  const nl = bytes.indexOf(0x0a);
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(bytes.toString('utf8', 0, nl === -1 ? Math.min(bytes.length, 4096) : nl)) as Record<
      string,
      unknown
    >;
  } catch {
    throw new FileError(path, 'not a saved index (no header)');
  }
  if (head.magic !== MAGIC) throw new FileError(path, 'not a saved index (unknown header)');
  if (head.repository !== repository || head.url !== url) {
    throw new FileError(
      path,
      `saved for another index (repository ${JSON.stringify(head.repository)}, ${String(head.url)})`,
    );
  }
  const archive = bytes.subarray(nl + 1);
  if (archive.length !== head.bytes)
    throw new FileError(path, `cut short (${archive.length} of ${String(head.bytes)} bytes)`);
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
