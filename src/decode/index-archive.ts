import { once } from 'node:events';
import tar from 'tar-stream';
import { IndexError, isBug } from '../errors.js';
import type { ReadLimits } from '../parse/limits.js';
import { RecordError } from '../parse/record-error.js';
import { GzipError, gunzipMembers } from './gzip-members.js';
import { parseSignatureName, SignatureCheck, type SignatureEntry, type TrustedKey, type Verdict } from './signature.js';
import { entryName, readTarEntries } from './tar-header.js';

/** Receives the APKINDEX member's bytes as they are inflated. */
export interface ApkIndexSink {
  data(chunk: Buffer): void;
  end(): void;
}

export interface ArchiveResult {
  description: string | undefined;
  verdict: Extract<Verdict, { ok: true }>;
}

const MAX_SIGNATURE_MEMBER = 64 * 1024;
const MAX_DESCRIPTION = 64 * 1024;

/**
 * Decodes one APKINDEX.tar.gz: signature members first (a tar without end blocks holding `.SIGN.*`),
 * then the signed member with DESCRIPTION and APKINDEX. Errors name the source and the reason.
 */
export async function readIndexArchive(
  body: AsyncIterable<Buffer>,
  options: { source: string; keys: readonly TrustedKey[]; limits: ReadLimits; sink: ApkIndexSink },
): Promise<ArchiveResult> {
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

  const feedTar = async (chunk: Buffer): Promise<void> => {
    if (!extract.write(chunk)) await Promise.race([once(extract, 'drain'), extractDone]);
    if (sinkError) throw sinkError as Error; // what the tar sink caught, rethrown as it was
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
          throw new IndexError(source, 'format', `signature member ${member + 1} is larger than ${MAX_SIGNATURE_MEMBER} bytes`);
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
      throw new IndexError(source, 'format', signatures.length > 0 ? 'archive holds only signatures, no index' : 'archive holds no tar data');
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
  if (err instanceof GzipError) return new IndexError(source, err.kind, err.message, { cause: err });
  // The sink's parser reports records and lines of the APKINDEX member.
  if (err instanceof RecordError) return new IndexError(source, err.kind, `APKINDEX ${err.message}`, { cause: err });
  const message = (err as Error | undefined)?.message ?? String(err);
  if (/tar|header|Unexpected end/i.test(message)) return new IndexError(source, 'tar', `corrupt tar: ${message}`, { cause: err });
  return new IndexError(source, 'network', message, { cause: err });
}
