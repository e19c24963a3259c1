import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { gzipHeaderLength } from '../decode/gzip-members.js';
import { ApkHeadError } from '../errors.js';

/**
 * What an apko lock records of one .apk, read from its head. An .apk (v2) is concatenated gzip members: a signature
 * member (a tar holding `.SIGN.RSA*.<key>`; absent in an unsigned package), the control member (a tar with
 * `.PKGINFO` and the scripts) and the data member. The control member's SHA-1 is the index's `C:` (`Q1` + base64),
 * and `.PKGINFO`'s `datahash` is the SHA-256 of the data member, so the head alone gives every range and checksum.
 */
export interface ApkHead {
  /** Undefined for an unsigned package. */
  signature: { size: number; sha1: string } | undefined;
  control: { size: number; sha1: string };
  /** `.PKGINFO`'s datahash (hex SHA-256 of the data member); undefined when it has none. */
  datahash: string | undefined;
}

/** One gzip member at `offset`: where it ends and what it inflates to. */
function member(buf: Buffer, offset: number, which: string): { end: number; data: Buffer } {
  let header: number | undefined;
  try {
    header = gzipHeaderLength(buf.subarray(offset), 0);
  } catch (err) {
    throw new ApkHeadError(`${which}: ${(err as Error).message}`);
  }
  if (header === undefined) throw new ApkHeadError(`${which}: cut short`, true);
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    inflated = inflateRawSync(buf.subarray(offset + header), { info: true }) as unknown as typeof inflated;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') throw new ApkHeadError(`${which}: cut short`, true);
    throw new ApkHeadError(`${which}: not deflate data (${(err as Error).message})`);
  }
  const end = offset + header + inflated.engine.bytesWritten + 8;
  if (end > buf.length) throw new ApkHeadError(`${which}: cut short`, true);
  return { end, data: inflated.buffer };
}

/** Tar entries of a member (apk writes the first two without end-of-archive blocks). */
function tarEntries(tar: Buffer): { name: string; data: Buffer }[] {
  const out: { name: string; data: Buffer }[] = [];
  for (let pos = 0; pos + 512 <= tar.length;) {
    const header = tar.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) =>
      header
        .subarray(start, start + length)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    out.push({ name, data: tar.subarray(pos + 512, pos + 512 + size) });
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Reads the signature and control members from the first bytes of an .apk. */
export function readApkHead(head: Buffer): ApkHead {
  const first = member(head, 0, 'first gzip member');
  const signed = tarEntries(first.data).some((e) => e.name.startsWith('.SIGN.'));
  const controlStart = signed ? first.end : 0;
  const control = signed ? member(head, first.end, 'control member') : first;
  const sha1 = (from: number, to: number) => createHash('sha1').update(head.subarray(from, to)).digest('base64');
  const pkginfo = tarEntries(control.data).find((e) => e.name === '.PKGINFO');
  if (!pkginfo) throw new ApkHeadError('control member: no .PKGINFO');
  const datahash = /^datahash\s*=\s*([0-9a-fA-F]{64})\s*$/m.exec(pkginfo.data.toString('utf8'))?.[1]?.toLowerCase();
  return {
    signature: signed ? { size: first.end, sha1: sha1(0, first.end) } : undefined,
    control: { size: control.end - controlStart, sha1: sha1(controlStart, control.end) },
    datahash,
  };
}
