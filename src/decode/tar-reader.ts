import { DecodeError } from './decode-error.js';
import { headerChecksum, TAR_BLOCK as BLOCK, tarPadding } from './tar-block.js';

/**
 * A streaming reader of the tar inside an APKINDEX.tar.gz, by apk-tools' rules (src/tar.c): 512-byte blocks,
 * `ustar` headers (ustar and GNU magic), a name prefix joined with `/`, GNU long names (`L`) and pax `path`
 * records (`x`) applied to the next entry, regular files (`0`, `7`) handed on, every other entry skipped, and a
 * block whose name is empty ending the archive. The archive may end without end blocks (apk's signature tars
 * do), but never inside a header, an entry or its padding. Headers must carry a valid checksum (apk does not
 * check it; GNU tar does), so a corrupt header is reported as one rather than read as garbage.
 *
 * It is fed inflated bytes in pieces and calls back synchronously: no streams, so nothing can fail outside the
 * caller's own try.
 */
export interface TarFileSink {
  data(bytes: Buffer): void;
  end(): void;
}

/** The longest GNU long name or pax record block accepted. */
const MAX_EXTENDED = 64 * 1024;

type State =
  | { at: 'header' }
  | { at: 'data'; name: string; size: number; left: number; sink: TarFileSink | undefined }
  | { at: 'extended'; kind: 'L' | 'x'; size: number; parts: Buffer[]; left: number }
  | { at: 'padding'; left: number }
  | { at: 'end' };

export class TarReader {
  private state: State = { at: 'header' };
  /** The part of a header block seen so far. */
  private partial: Buffer | undefined;
  /** What a GNU long name or pax header says about the next entry. */
  private longName: string | undefined;
  /** Bytes of the tar read so far: errors say where. */
  private offset = 0;

  /** `file(name)` is asked for every regular file: a sink for its bytes, or undefined to skip them. */
  constructor(private readonly file: (name: string) => TarFileSink | undefined) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const state = this.state;
      switch (state.at) {
        case 'header': {
          let block: Buffer;
          if (this.partial === undefined && chunk.length - pos >= BLOCK) {
            block = chunk.subarray(pos, pos + BLOCK);
            pos += BLOCK;
          } else {
            const have = this.partial?.length ?? 0;
            const piece = chunk.subarray(pos, pos + BLOCK - have);
            pos += piece.length;
            this.partial = this.partial === undefined ? Buffer.from(piece) : Buffer.concat([this.partial, piece]);
            if (this.partial.length < BLOCK) continue;
            block = this.partial;
            this.partial = undefined;
          }
          this.header(block);
          this.offset += BLOCK;
          break;
        }
        case 'data': {
          const piece = chunk.subarray(pos, pos + Math.min(state.left, chunk.length - pos));
          pos += piece.length;
          state.left -= piece.length;
          this.offset += piece.length;
          if (piece.length > 0) state.sink?.data(piece);
          if (state.left === 0) {
            state.sink?.end();
            this.afterEntry(state.size);
          }
          break;
        }
        case 'extended': {
          const piece = chunk.subarray(pos, pos + Math.min(state.left, chunk.length - pos));
          pos += piece.length;
          state.left -= piece.length;
          this.offset += piece.length;
          state.parts.push(Buffer.from(piece));
          if (state.left === 0) {
            const text = Buffer.concat(state.parts);
            this.longName = state.kind === 'L' ? cString(text, 0, text.length) : paxPath(text);
            this.afterEntry(state.size);
          }
          break;
        }
        case 'padding': {
          const n = Math.min(state.left, chunk.length - pos);
          pos += n;
          state.left -= n;
          this.offset += n;
          if (state.left === 0) this.state = { at: 'header' };
          break;
        }
        case 'end': {
          // After the end block only zeros may follow (more end blocks, the rest of the record).
          for (; pos < chunk.length; pos++, this.offset++)
            if (chunk[pos] !== 0)
              throw new DecodeError('tar', `data after the end of the archive (byte ${this.offset})`);
          break;
        }
      }
    }
  }

  /** The tar has no more bytes: it must stop between entries. */
  end(): void {
    const state = this.state;
    if (state.at === 'data' || state.at === 'extended')
      throw new DecodeError(
        'tar',
        `${state.at === 'data' ? `member ${state.name}` : 'an extended header'} is cut short: ${state.size - state.left} of ${state.size} bytes`,
      );
    if (state.at === 'padding' || this.partial !== undefined)
      throw new DecodeError('tar', `cut short inside a ${state.at === 'padding' ? 'padding' : 'header'} block`);
  }

  private header(block: Buffer): void {
    if (block[0] === 0) {
      this.state = { at: 'end' };
      return;
    }
    if (block.toString('latin1', 257, 262) !== 'ustar')
      throw new DecodeError('tar', `not a ustar header at byte ${this.offset}`);
    if (!checksumOk(block)) throw new DecodeError('tar', `corrupt tar header at byte ${this.offset} (bad checksum)`);
    const size = octal(block, 124, 12);
    if (size === undefined) throw new DecodeError('tar', `corrupt tar header at byte ${this.offset} (bad size)`);
    const type = String.fromCharCode(block[156]!);
    if (type === 'L' || type === 'x') {
      if (size > MAX_EXTENDED)
        throw new DecodeError('tar', `extended header at byte ${this.offset} is larger than ${MAX_EXTENDED} bytes`);
      this.state = size === 0 ? { at: 'header' } : { at: 'extended', kind: type, size, parts: [], left: size };
      return;
    }
    let name = this.longName ?? headerName(block);
    this.longName = undefined;
    if (name.startsWith('./')) name = name.slice(2);
    const sink = type === '0' || type === '7' ? this.file(name) : undefined;
    this.state = { at: 'data', name, size, left: size, sink };
    if (size === 0) {
      sink?.end();
      this.afterEntry(0);
    }
  }

  private afterEntry(size: number): void {
    const pad = tarPadding(size);
    this.state = pad === 0 ? { at: 'header' } : { at: 'padding', left: pad };
  }
}

/** Every regular file of a whole tar, in order (the signature members: a few hundred bytes each). */
export function readTarFiles(tar: Buffer): Array<{ name: string; data: Buffer }> {
  const files: Array<{ name: string; data: Buffer }> = [];
  const reader = new TarReader((name) => {
    const parts: Buffer[] = [];
    return { data: (bytes) => parts.push(bytes), end: () => files.push({ name, data: Buffer.concat(parts) }) };
  });
  reader.push(tar);
  reader.end();
  return files;
}

/** The name field of a header block, after its prefix field when that is not empty (as apk joins them). */
export function headerName(block: Buffer): string {
  const name = cString(block, 0, 100);
  return block[345] === 0 ? name : `${cString(block, 345, 155)}/${name}`;
}

function cString(buf: Buffer, start: number, length: number): string {
  const zero = buf.indexOf(0, start);
  return buf.toString('utf8', start, zero === -1 || zero > start + length ? start + length : zero);
}

/** An octal number field as apk reads it: digits, then only NULs and spaces; leading spaces allowed. */
function octal(block: Buffer, start: number, length: number): number | undefined {
  let i = start;
  const end = start + length;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  for (; i < end && block[i]! >= 0x30 && block[i]! <= 0x37; i++) value = value * 8 + block[i]! - 0x30;
  for (; i < end; i++) if (block[i] !== 0 && block[i] !== 0x20) return undefined;
  return value;
}

function checksumOk(block: Buffer): boolean {
  return octal(block, 148, 8) === headerChecksum(block);
}

/** The `path` of pax records (`<length> path=<value>\n`...), as apk applies it to the next entry. */
function paxPath(records: Buffer): string | undefined {
  let pos = 0;
  let path: string | undefined;
  while (pos < records.length) {
    const space = records.indexOf(0x20, pos);
    const length = space === -1 ? NaN : Number(records.toString('latin1', pos, space));
    if (!Number.isInteger(length) || length <= space - pos || pos + length > records.length) break;
    const record = records.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    pos += length;
  }
  return path;
}
