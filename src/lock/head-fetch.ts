import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApkHeadError, describeFileProblem, networkReason, PackageHeadError } from '../errors.js';
import { splitCredentials } from '../source/locations.js';
import { readApkHead, type ApkHead } from './apk-head.js';

/** What a lock records of one package, from its head: byte ranges and their checksums. */
export interface PackageStreams {
  signature: { size: number; sha1: string } | undefined;
  control: { size: number; sha1: string };
  data: { size: number; sha256: string };
}

export interface HeadFetchOptions {
  /** Where heads are kept by checksum; undefined: no cache. */
  cacheDir?: string;
  /** The first request asks for this many bytes; a head that needs more doubles it, up to `maxHeadBytes`. */
  firstBytes?: number;
  maxHeadBytes?: number;
  /** The most a package without `datahash` may weigh, read whole to hash its data. */
  maxPackageBytes?: number;
  timeoutMs?: number;
  /** Requests open at once. */
  concurrency?: number;
  /** Extra headers (authorization) for a URL. */
  headers?: (url: string) => Record<string, string>;
  fetch?: typeof fetch;
  /** Counts requests, for tests and the benchmark. */
  onRequest?: (url: string, range: string) => void;
}

const DEFAULTS = {
  firstBytes: 64 * 1024,
  maxHeadBytes: 8 * 1024 * 1024,
  maxPackageBytes: 2 * 1024 ** 3,
  timeoutMs: 60_000,
  concurrency: 8,
};

/** `~/.cache/apk-indexer/apk-heads` (or under `$XDG_CACHE_HOME`). */
export function defaultHeadCache(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'apk-indexer', 'apk-heads');
}

/**
 * Reads the head of each package (HTTP Range requests, or a local file), checks its control member against the
 * index's `C:`, and keeps what a lock needs by that checksum, so a package locked once is never fetched again.
 * Bounded: a head is at most `maxHeadBytes`, each request `timeoutMs`.
 */
export class HeadFetcher {
  private readonly o: Required<Omit<HeadFetchOptions, 'cacheDir' | 'headers' | 'fetch' | 'onRequest'>> &
    HeadFetchOptions;
  private readonly inFlight = new Map<string, Promise<PackageStreams>>();
  /** Requests open at once, and those waiting for a turn: a lock of hundreds of packages asks a few at a time. */
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  requests = 0;

  constructor(options: HeadFetchOptions = {}) {
    this.o = { ...DEFAULTS, ...options };
  }

  /** The streams of the package at `location` (URL or path), whose index says `checksum` (`Q1…`) and `size` (`S:`). */
  streams(location: string, checksum: string, size: number): Promise<PackageStreams> {
    const key = `${splitCredentials(location).url}\u0000${checksum}\u0000${size}`;
    let found = this.inFlight.get(key);
    if (!found) {
      found = this.load(location, checksum, size);
      this.inFlight.set(key, found);
    }
    return found;
  }

  /**
   * A head is kept by the package's URL, control checksum and size: the control section fixes everything but the
   * signature member, and a package signed anew in place keeps all three only if its signature has the same length.
   */
  private cachePath(location: string, checksum: string, size: number): string | undefined {
    if (!this.o.cacheDir || !/^Q1[A-Za-z0-9+/]{27}=$/.test(checksum)) return undefined;
    const name = createHash('sha256')
      .update(`${splitCredentials(location).url}\n${checksum}\n${size}`)
      .digest('hex');
    return join(this.o.cacheDir, name.slice(0, 2), `${name}.json`);
  }

  private async load(location: string, checksum: string, size: number): Promise<PackageStreams> {
    const cached = this.cachePath(location, checksum, size);
    if (cached) {
      const hit = await readFile(cached, 'utf8').then(parseCached, () => undefined);
      if (hit) return hit;
    }
    const streams = await this.read(location, checksum, size);
    if (cached) await writeCache(cached, streams).catch(() => undefined);
    return streams;
  }

  private async read(location: string, checksum: string, indexSize: number): Promise<PackageStreams> {
    const { url } = splitCredentials(location);
    let want = this.o.firstBytes;
    for (;;) {
      const { bytes, total } = await this.range(location, 0, want - 1);
      let head: ApkHead;
      try {
        head = readApkHead(bytes);
      } catch (err) {
        if (err instanceof ApkHeadError && err.needMore && bytes.length >= want && want < this.o.maxHeadBytes) {
          want = Math.min(want * 2, this.o.maxHeadBytes);
          continue;
        }
        if (err instanceof ApkHeadError)
          throw new PackageHeadError(
            url,
            err.needMore && bytes.length >= want
              ? `its signature and control members are longer than ${this.o.maxHeadBytes} bytes`
              : `not an .apk: ${err.message}`,
          );
        throw err;
      }
      const control = `Q1${head.control.sha1}`;
      if (checksum !== '' && control !== checksum)
        throw new PackageHeadError(
          url,
          `its control section hashes to ${control}, but the index says ${checksum} (the index and the package disagree)`,
        );
      const fileSize = indexSize || total;
      if (!fileSize)
        throw new PackageHeadError(url, 'its size is unknown (no S: in the index, no length from the server)');
      const start = (head.signature?.size ?? 0) + head.control.size;
      if (fileSize <= start)
        throw new PackageHeadError(url, `its size (${fileSize}) leaves no data member after byte ${start}`);
      const sha256 = head.datahash
        ? Buffer.from(head.datahash, 'hex').toString('base64')
        : await this.hashRest(location, start, fileSize);
      return { signature: head.signature, control: head.control, data: { size: fileSize - start, sha256 } };
    }
  }

  /** The data member of a package without `datahash`, read to its end and hashed. */
  private async hashRest(location: string, start: number, fileSize: number): Promise<string> {
    const { url } = splitCredentials(location);
    if (fileSize > this.o.maxPackageBytes)
      throw new PackageHeadError(url, `has no datahash, and at ${fileSize} bytes is too large to hash whole`);
    const { bytes } = await this.range(location, start, fileSize - 1);
    return createHash('sha256').update(bytes).digest('base64');
  }

  /** Bytes `from`..`to` (inclusive) or fewer at the end of the file, and the file's length when known. */
  private async range(location: string, from: number, to: number): Promise<{ bytes: Buffer; total: number }> {
    if (this.active >= this.o.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await this.rangeNow(location, from, to);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async rangeNow(location: string, from: number, to: number): Promise<{ bytes: Buffer; total: number }> {
    const length = to - from + 1;
    this.requests++;
    this.o.onRequest?.(location, `bytes=${from}-${to}`);
    if (!/^https?:\/\//i.test(location)) return readLocal(location, from, length);
    const { url, authorization } = splitCredentials(location);
    const headers: Record<string, string> = {
      range: `bytes=${from}-${to}`,
      ...(authorization && { authorization }),
      ...this.o.headers?.(url),
    };
    const signal = AbortSignal.timeout(this.o.timeoutMs);
    let response: Response;
    try {
      response = await (this.o.fetch ?? fetch)(url, { headers, signal });
    } catch (err) {
      throw new PackageHeadError(url, `cannot fetch: ${networkReason(err)}`, { cause: err });
    }
    if (response.status !== 206 && response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new PackageHeadError(url, `HTTP ${response.status} (bytes=${from}-${to})`);
    }
    const total =
      Number(/\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '')?.[1]) ||
      (response.status === 200 ? Number(response.headers.get('content-length')) || 0 : 0);
    // A server that ignores Range sends the whole file: read what was asked for and stop.
    const skip = response.status === 200 ? from : 0;
    const chunks: Buffer[] = [];
    let have = 0;
    try {
      // Leaving the loop early cancels the rest of the body.
      for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
        chunks.push(Buffer.from(chunk));
        have += chunk.length;
        if (have >= skip + length) break;
      }
    } catch (err) {
      throw new PackageHeadError(url, `download failed: ${networkReason(err)}`, { cause: err });
    }
    return { bytes: Buffer.concat(chunks).subarray(skip, skip + length), total };
  }
}

/** A local package's bytes, read at once: a head is a few KiB, and the thread pool's round trips cost more. */
async function readLocal(location: string, from: number, length: number): Promise<{ bytes: Buffer; total: number }> {
  const path = location.startsWith('file:') ? fileURLToPath(location) : location;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new PackageHeadError(path, `cannot read: ${describeFileProblem(err)}`, { cause: err });
  }
  try {
    const total = fstatSync(fd).size;
    const bytes = Buffer.alloc(Math.max(0, Math.min(length, total - from)));
    const read = readSync(fd, bytes, 0, bytes.length, from);
    return { bytes: bytes.subarray(0, read), total };
  } finally {
    closeSync(fd);
  }
}

function parseCached(text: string): PackageStreams | undefined {
  try {
    const v = JSON.parse(text) as PackageStreams;
    if (typeof v?.control?.sha1 === 'string' && typeof v.data?.sha256 === 'string') return v;
  } catch {
    // A torn or foreign file is read again from the package.
  }
  return undefined;
}

const madeDirectories = new Set<string>();

async function writeCache(path: string, streams: PackageStreams): Promise<void> {
  const dir = dirname(path);
  if (!madeDirectories.has(dir)) {
    await mkdir(dir, { recursive: true });
    madeDirectories.add(dir);
  }
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(streams));
  await rename(temp, path);
}
