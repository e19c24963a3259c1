import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { IndexError } from '../errors.js';
import { ByteReader, type HeldBytes } from './byte-reader.js';
import { DecodeError } from './decode-error.js';
import { gunzipMembers } from './gzip-members.js';
import { readSignatureMembers } from './signature-members.js';
import { SignatureCheck, type TrustedKey, type Verdict } from './signature.js';
import { TarReader, type TarFileSink } from './tar-reader.js';

/** Receives the APKINDEX member's bytes as they are inflated; a chunk is valid only during the call. */
export type ApkIndexSink = TarFileSink;

/** The bounds on one APKINDEX.tar.gz that decoding enforces (see ReadLimits). */
export interface DecodeLimits {
  /** Compressed bytes of the whole file. */
  maxCompressedBytes: number;
  /** Inflated bytes across all its gzip members. */
  maxDecompressedBytes: number;
}

export interface ArchiveOptions {
  /** How errors name the file (a redacted URL or a path). */
  source: string;
  keys: readonly TrustedKey[];
  limits: DecodeLimits;
  sink: ApkIndexSink;
  /** Counts the compressed bytes held until they are verified against a budget shared by every download. */
  held?: HeldBytes;
}

export interface ArchiveResult {
  description: string | undefined;
  /** The file as received, in the chunks it arrived in, when it was verified (trusted keys): what a state directory keeps. */
  archive: readonly Buffer[] | undefined;
  verdict: Extract<Verdict, { ok: true }>;
}

const MAX_DESCRIPTION = 64 * 1024;
/** Parsing runs between zlib's pieces; after this long without a turn the event loop gets one (probes answer). */
const YIELD_AFTER_MS = 50;

/**
 * Decodes one APKINDEX.tar.gz, one path for every source:
 * 1. its signature members (a tar without end blocks holding `.SIGN.*`), inflated one by one (64 KiB at most);
 * 2. with trusted keys, the rest of the file, hashed as it arrives and kept in the chunks it arrived in (up to
 *    `maxCompressedBytes`), then its signature checked: an unsigned, foreign or tampered index costs its download
 *    and the inflation of its small signature members, nothing more, and an unsigned or foreign one not even its
 *    whole download. Without keys, nothing is held: the data is decoded as it arrives;
 * 3. the signed members, inflated and read as a tar: DESCRIPTION kept, APKINDEX handed to the sink.
 *
 * Every failure is an IndexError naming the source and the reason; the sink's own errors and bugs pass unchanged.
 */
export async function readIndexArchive(body: AsyncIterable<Buffer>, options: ArchiveOptions): Promise<ArchiveResult> {
  const reader = new ByteReader(body, {
    maxBytes: options.limits.maxCompressedBytes,
    keep: options.keys.length > 0,
    ...(options.held && { held: options.held }),
  });
  try {
    const { signatures, members } = await readSignatureMembers(reader);
    const verdict = await verify(reader, new SignatureCheck(signatures, options.keys));
    const description = await readTar(reader, members, options);
    return { description, verdict, archive: reader.kept };
  } catch (err) {
    if (err instanceof DecodeError) throw new IndexError(options.source, err.reason, err.message, { cause: err });
    throw err;
  } finally {
    await reader.close();
  }
}

/** With trusted keys, reads the whole rest of the file, hashing it as it arrives, and checks the signature. */
async function verify(reader: ByteReader, check: SignatureCheck): Promise<ArchiveResult['verdict']> {
  const refusal = check.refusal();
  if (refusal !== undefined) throw new DecodeError('signature', refusal);
  if (reader.kept) await reader.readAll((bytes) => check.update(bytes));
  const verdict = check.verdict();
  if (!verdict.ok) throw new DecodeError('signature', verdict.error);
  return verdict;
}

/** Inflates the signed members and reads their tar; returns DESCRIPTION. */
async function readTar(reader: ByteReader, firstMember: number, options: ArchiveOptions): Promise<string | undefined> {
  let description: string | undefined;
  let sawIndex = false;
  const tar = new TarReader((name) => {
    if (name === 'DESCRIPTION') return text(MAX_DESCRIPTION, (value) => (description = value));
    if (name !== 'APKINDEX') return undefined;
    if (sawIndex) throw new DecodeError('tar', 'archive holds more than one APKINDEX');
    sawIndex = true;
    return options.sink;
  });
  let lastYield = performance.now();
  const onData = async (bytes: Buffer): Promise<void> => {
    tar.push(bytes);
    if (performance.now() - lastYield >= YIELD_AFTER_MS) {
      await yieldToLoop();
      lastYield = performance.now();
    }
  };
  await gunzipMembers(reader, onData, { maxOutputBytes: options.limits.maxDecompressedBytes, firstMember });
  tar.end();
  if (!sawIndex) throw new DecodeError('format', 'archive has no APKINDEX member');
  return description;
}

/** A tar file's first `max` bytes as trimmed UTF-8 text, copied (the chunks belong to zlib's output buffers). */
function text(max: number, done: (value: string) => void): TarFileSink {
  const parts: Buffer[] = [];
  let size = 0;
  return {
    data(bytes) {
      if (size < max) parts.push(Buffer.from(bytes.subarray(0, max - size)));
      size += bytes.length;
    },
    end: () => done(Buffer.concat(parts).toString('utf8').trim()),
  };
}
