import { once } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import tar from 'tar-stream';
import { IndexError, isBug } from '../errors.js';
import type { ReadLimits } from '../parse/limits.js';
import { RecordError } from '../parse/record-error.js';
import { GzipError, gunzipMembers } from './gzip-members.js';
import { bufferBounded, ArchiveShapeError, splitSignedArchive } from './signed-archive.js';
import { parseSignatureName, SignatureCheck, type SignatureEntry, type TrustedKey, type Verdict } from './signature.js';
import { entryName, readTarEntries } from './tar-header.js';

/** Receives the APKINDEX member's bytes as they are inflated. */
export interface ApkIndexSink {
  data(chunk: Buffer): void;
  end(): void;
}

export interface ArchiveResult {
  description: string | undefined;
  /** The whole file as received, when it was verified (trusted keys): what a state directory keeps. */
  archive?: Buffer;
  verdict: Extract<Verdict, { ok: true }>;
}

const MAX_SIGNATURE_MEMBER = 64 * 1024;
const MAX_DESCRIPTION = 64 * 1024;
/** The parser runs in slices of the inflated text; after this long without a turn the event loop gets one. */
const SLICE_BYTES = 4 * 1024 * 1024;
const YIELD_AFTER_MS = 50;

export interface ArchiveOptions {
  source: string;
  keys: readonly TrustedKey[];
  limits: ReadLimits;
  sink: ApkIndexSink;
}

/**
 * Decodes one APKINDEX.tar.gz: signature members first (a tar without end blocks holding `.SIGN.*`),
 * then the signed member with DESCRIPTION and APKINDEX. Errors name the source and the reason.
 *
 * With trusted keys the compressed file is held (up to `maxCompressedBytes`) and its signature checked over the
 * signed member's compressed bytes first: an unsigned, foreign or tampered index costs its download and the
 * inflation of its small signature members, nothing more. Without keys it is decoded as it streams.
 */
export async function readIndexArchive(body: AsyncIterable<Buffer>, options: ArchiveOptions): Promise<ArchiveResult> {
  if (options.keys.length === 0) return decodeArchive(body, options);
  const { source, keys, limits } = options;
  let bytes: Buffer;
  let split;
  try {
    bytes = await bufferBounded(body, limits.maxCompressedBytes);
    split = splitSignedArchive(bytes);
  } catch (err) {
    throw toIndexError(source, err);
  }
  const check = new SignatureCheck(split.signatures, keys);
  check.update(bytes.subarray(split.dataOffset));
  const verdict = check.verdict();
  if (!verdict.ok) throw new IndexError(source, 'signature', verdict.error);
  // Verified: decode the signed member alone (its signatures are already read).
  const result = await decodeArchive(
    (async function* () {
      for (let at = split.dataOffset; at < bytes.length; at += SLICE_BYTES) yield bytes.subarray(at, at + SLICE_BYTES);
    })(),
    { ...options, keys: [] },
  );
  return { description: result.description, verdict, archive: bytes };
}

async function decodeArchive(body: AsyncIterable<Buffer>, options: ArchiveOptions): Promise<ArchiveResult> {
  const { source } = options;
  const signatures: SignatureEntry[] = [];
  let check: SignatureCheck | undefined;
  let dataMember = -1;
  let signatureBytes: Buffer[] = [];
  let signatureLength = 0;
  let undecidedRaw: Buffer[] = [];
  let description: string | undefined;
  let sawIndex = false;
  let sinkError: unknown;

  const extract = tar.extract();
  const extractDone = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('close', resolve);
    extract.on('error', reject);
  });
  extractDone.catch(() => undefined); // observed below; never an unhandled rejection
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    // tar-stream reports a member cut short (its header claims more bytes than follow) on the entry's own stream:
    // without this listener that error would escape as an uncaught exception and stop the process.
    stream.on('error', (err) => {
      sinkError ??= new IndexError(source, 'tar', `member ${name} is cut short: ${err.message}`, { cause: err });
    });
    if (name === 'APKINDEX' && header.type === 'file') {
      if (sawIndex) sinkError ??= new IndexError(source, 'tar', 'archive holds more than one APKINDEX');
      sawIndex = true;
      stream.on('data', (chunk) => {
        if (sinkError) return;
        try {
          options.sink.data(chunk as Buffer);
        } catch (err) {
          sinkError = err;
        }
      });
      stream.on('end', () => {
        if (!sinkError) {
          try {
            options.sink.end();
          } catch (err) {
            sinkError = err;
          }
        }
        next();
      });
    } else if (name === 'DESCRIPTION') {
      const parts: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk) => {
        const bytes = chunk as Buffer;
        size += bytes.length;
        if (size <= MAX_DESCRIPTION) parts.push(bytes);
      });
      stream.on('end', () => {
        description = Buffer.concat(parts).toString('utf8').trim();
        next();
      });
    } else {
      stream.on('end', next);
      stream.resume();
    }
  });

  let lastYield = performance.now();
  const feedTar = async (chunk: Buffer): Promise<void> => {
    // In slices, giving the event loop a turn between them when parsing held it: probes and queries stay answered.
    for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
      const slice = at === 0 && chunk.length <= SLICE_BYTES ? chunk : chunk.subarray(at, at + SLICE_BYTES);
      if (!extract.write(slice)) await Promise.race([once(extract, 'drain'), extractDone]);
      if (sinkError) throw sinkError as Error;
      if (performance.now() - lastYield >= YIELD_AFTER_MS) {
        await yieldToLoop();
        lastYield = performance.now();
        if (sinkError) throw sinkError as Error;
      }
    }
  };

  const sink = {
    raw(member: number, bytes: Buffer): void {
      if (dataMember === -1) undecidedRaw.push(bytes);
      else check?.update(bytes);
    },
    async data(member: number, bytes: Buffer): Promise<void> {
      if (dataMember !== -1) return feedTar(bytes);
      // Still deciding whether this member is another signature: look at its first tar header.
      signatureBytes.push(bytes);
      signatureLength += bytes.length;
      if (signatureLength < 512) return;
      const head = Buffer.concat(signatureBytes, signatureLength);
      if (entryName(head).startsWith('.SIGN.')) {
        if (signatureLength > MAX_SIGNATURE_MEMBER) {
          throw new IndexError(
            source,
            'format',
            `signature member ${member + 1} is larger than ${MAX_SIGNATURE_MEMBER} bytes`,
          );
        }
        return;
      }
      dataMember = member;
      check = new SignatureCheck(signatures, options.keys);
      for (const raw of undecidedRaw) check.update(raw);
      undecidedRaw = [];
      signatureBytes = [];
      signatureLength = 0;
      return feedTar(head);
    },
    end(member: number): void {
      if (dataMember !== -1) return;
      const content = Buffer.concat(signatureBytes, signatureLength);
      signatureBytes = [];
      signatureLength = 0;
      undecidedRaw = [];
      if (content.length < 512) {
        throw new IndexError(source, 'tar', `gzip member ${member + 1} is too short to hold a tar header`);
      }
      let entries;
      try {
        entries = readTarEntries(content);
      } catch (err) {
        throw new IndexError(source, 'tar', `signature member ${member + 1}: ${(err as Error).message}`);
      }
      for (const entry of entries) {
        const parsed = parseSignatureName(entry.name);
        // Unknown .SIGN.* kinds (other algorithms) are skipped, as apk skips them.
        if (parsed) signatures.push({ ...parsed, signature: Buffer.from(entry.data) });
      }
    },
  };

  try {
    await gunzipMembers(body, sink, { maxOutputBytes: options.limits.maxDecompressedBytes });
    if (dataMember === -1) {
      throw new IndexError(
        source,
        'format',
        signatures.length > 0 ? 'archive holds only signatures, no index' : 'archive holds no tar data',
      );
    }
    extract.end(undefined);
    await extractDone;
    if (sinkError) throw sinkError as Error; // what the tar sink caught, rethrown as it was
  } catch (err) {
    extract.destroy();
    if (isBug(err)) throw err; // a bug in a reader is not the upstream's fault: the refresh reports it as internal
    throw toIndexError(source, err);
  }
  if (!sawIndex) throw new IndexError(source, 'format', 'archive has no APKINDEX member');
  const verdict = (check ?? new SignatureCheck(signatures, options.keys)).verdict();
  if (!verdict.ok) throw new IndexError(source, 'signature', verdict.error);
  return { description, verdict };
}

function toIndexError(source: string, err: unknown): IndexError {
  if (err instanceof IndexError) return err;
  if (err instanceof ArchiveShapeError) return new IndexError(source, err.reason, err.message, { cause: err });
  if (err instanceof GzipError) return new IndexError(source, err.kind, err.message, { cause: err });
  // The sink's parser reports records and lines of the APKINDEX member.
  if (err instanceof RecordError) return new IndexError(source, err.kind, `APKINDEX ${err.message}`, { cause: err });
  const message = (err as Error | undefined)?.message ?? String(err);
  if (/tar|header|Unexpected end/i.test(message))
    return new IndexError(source, 'tar', `corrupt tar: ${message}`, { cause: err });
  return new IndexError(source, 'network', message, { cause: err });
}
