import { readdirSync } from 'node:fs';
import { chmod, mkdir, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { FileError } from '../errors.js';

/**
 * `mkdir -p` that always ends. Node's own recursive mkdir spins forever where the file system answers ENOENT for a
 * child of a directory that exists (under /proc: mkdir /proc/x gives ENOENT, mkdir /proc EEXIST, and it retries both
 * without end). Here the nearest existing ancestor is found first, then each missing directory is made once: any
 * refusal is a FileError naming the directory.
 */
export async function makeDirectory(path: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(path);
  for (;;) {
    let info;
    try {
      info = await stat(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = dirname(at);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== at) {
        missing.push(at);
        at = parent;
        continue;
      }
      throw FileError.of(at, err);
    }
    if (!info.isDirectory()) throw new FileError(path, `${at} is not a directory`, { errno: 'ENOTDIR' });
    break;
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(dir).catch(() => undefined))?.isDirectory())
        continue;
      // ENOENT for a directory whose parent is there: a file system that holds no new directories (/proc, /sys).
      throw FileError.of(dir, err, 'cannot create the directory', {
        ENOENT: 'this file system holds no new directories',
      });
    }
  }
}

/**
 * Writes `text` to `path` so that a reader sees the old file or the new one, never half of it: a temporary file beside
 * it, flushed, then renamed over it, with the old file's mode (a symbolic link's target is what is replaced). A file
 * with no write permission for anyone is refused, as an editor would, even for root. A special file (/dev/stdout, a
 * FIFO) is written directly. Any failure is a FileError naming `shown` (the path as the user wrote it), and leaves
 * no temporary file behind.
 */
export async function writeFileAtomically(path: string, text: string, shown: string = path): Promise<void> {
  let target = resolve(path);
  let mode = 0o666;
  try {
    target = await realpath(target);
    const info = await stat(target);
    if (info.isDirectory()) throw new FileError(shown, 'cannot write: is a directory', { errno: 'EISDIR' });
    if (!info.isFile()) return await writeDirectly(target, text, shown);
    if ((info.mode & 0o222) === 0)
      throw new FileError(shown, 'cannot write: the file is read-only', { errno: 'EACCES' });
    mode = info.mode & 0o7777;
  } catch (err) {
    if (err instanceof FileError) throw err;
    // No file yet (a new one): written with the default mode, as the umask allows.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw FileError.of(shown, err, 'cannot write');
  }
  const temporary = `${target}.apk-indexer-${process.pid}.tmp`;
  let created = false;
  try {
    const handle = await open(temporary, 'wx', mode);
    created = true;
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (mode !== 0o666) await chmod(temporary, mode); // the umask narrowed it at creation
    await rename(temporary, target);
    created = false;
  } catch (err) {
    throw FileError.of(shown, err, 'cannot write', WRITING);
  } finally {
    if (created) await unlink(temporary).catch(() => {});
  }
}

async function writeDirectly(target: string, text: string, shown: string): Promise<void> {
  try {
    const handle = await open(target, 'w');
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw FileError.of(shown, err, 'cannot write', WRITING);
  }
}

/** ENOENT while writing a file means its directory is missing. */
const WRITING = { ENOENT: 'no such directory' };

/** Folders a tree search never enters: dependencies, VCS data, build output (and every hidden folder). */
const SKIPPED_FOLDERS = new Set(['node_modules', '.git', '.hg', '.svn', 'dist', 'packages', '.cache']);

/**
 * Every regular file under `root` that `accept` takes (given its `/`-separated path relative to `root`), as
 * absolute paths in name order, folder by folder; hidden folders and SKIPPED_FOLDERS are not entered, and a folder
 * that cannot be read is passed over. The one walk for the apko files and the Dockerfiles of a tree.
 */
export function findTreeFiles(root: string, accept: (path: string, absolute: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith('.')) walk(path);
      } else if (entry.isFile() && accept(relative(root, path).split(sep).join('/'), path)) found.push(path);
    }
  };
  walk(root);
  return found;
}
