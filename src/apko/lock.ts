import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { ResolvedImage } from './image.js';

/**
 * The lock file `apko lock FILE` writes by default: FILE without its extension, plus `.lock.json`
 * (apko internal/cli/lock.go).
 */
export function lockPathOf(image: ResolvedImage): string {
  const path = image.file.absolutePath;
  return `${path.slice(0, path.length - extname(path).length)}.lock.json`;
}

/**
 * The checksum apko writes into a lock (`config.checksum`) and compares at build time: SHA-256 over the bytes of
 * the file and then each file of its include chain, as apko reads them, as `sha256-<base64>`.
 */
export function configChecksum(image: ResolvedImage): string {
  const hash = createHash('sha256');
  for (const file of image.chain) hash.update(file.text, 'utf8');
  return `sha256-${hash.digest('base64')}`;
}

export type LockState =
  | { kind: 'none' }
  | { kind: 'current'; path: string }
  | { kind: 'stale'; path: string; recorded: string | undefined }
  | { kind: 'unreadable'; path: string; detail: string };

/** Whether the image has a lock beside it, and whether its config checksum still matches the files. */
export function lockState(image: ResolvedImage): LockState {
  const path = lockPathOf(image);
  if (!existsSync(path)) return { kind: 'none' };
  let lock: unknown;
  try {
    lock = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { kind: 'unreadable', path, detail: (err as Error).message };
  }
  const recorded = (lock as { config?: { checksum?: unknown } } | null)?.config?.checksum;
  if (typeof recorded === 'string' && recorded === configChecksum(image)) return { kind: 'current', path };
  return { kind: 'stale', path, recorded: typeof recorded === 'string' ? recorded : undefined };
}
