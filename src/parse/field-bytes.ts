/**
 * Byte-level helpers for the APKINDEX parser. Turning bytes into strings was its main cost, and a load keeps
 * 250k records while a query reads a handful of names. So names become strings once each (NameTable), and every
 * other kept value stays bytes (ValueStore) until its package is read. Bytes are compared and copied 4 at a time
 * through DataViews (a single load each once optimized).
 */

import { RecordError } from './record-error.js';

const NL = 0x0a;
const CR = 0x0d;
/**
 * The longest package name kept (provided names included). apk sets none; real names are a few dozen bytes. Names
 * are the one value held as JavaScript strings, on V8's heap, so this bounds that heap: at most maxNames of them.
 */
export const MAX_NAME_BYTES = 255;

/** A DataView over exactly the bytes of `buf`, so both use the same offsets. */
export function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function mix(h: number, word: number): number {
  h = Math.imul(h ^ word, 0x5bd1e995);
  return h ^ (h >>> 13);
}

function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function hashRange(dv: DataView, start: number, end: number, h: number): number {
  let i = start;
  for (; i + 4 <= end; i += 4) h = mix(h, dv.getInt32(i, true));
  for (; i < end; i++) h = mix(h, dv.getUint8(i));
  return h;
}

/**
 * A table of names keyed by their bytes (latin1: one byte, one code unit, as apk's names are). Each distinct name
 * gets a small integer id and one string (`strings[id]`), which is also what its bytes are compared with: a name is
 * held once. A repeated name costs a hash and a compare, never a new string. Id 0 is the empty name. A slot holds
 * hash and id side by side: a lookup touches one slot and the name's string.
 */
export class NameTable {
  /** The name of each id. */
  readonly strings: string[] = [''];
  /** Open addressing, 2 ints a slot: hash, id + 1 (0: free). Load factor at most 1/2. */
  private slots = new Int32Array(2 * 4096);

  /** See ValueStore.lineMatch. */
  lineMatch(id: number, buf: Buffer, start: number, limit: number): number {
    const name = this.strings[id]!;
    const end = start + name.length;
    if (end >= limit) return -1;
    const after = buf[end];
    if (after !== NL && (after !== CR || buf[end + 1] !== NL)) return -1;
    return sameText(name, buf, start) ? end : -1;
  }

  /** Whether name `id` is exactly these bytes. */
  equals(id: number, buf: Buffer, start: number, end: number): boolean {
    const name = this.strings[id]!;
    return name.length === end - start && sameText(name, buf, start);
  }

  id(buf: Buffer, dv: DataView, start: number, end: number): number {
    const n = end - start;
    if (n === 0) return 0;
    if (n > MAX_NAME_BYTES) {
      const shown = JSON.stringify(buf.toString('latin1', start, start + 40));
      throw new RecordError(
        'limit',
        `a package name longer than ${MAX_NAME_BYTES} bytes (the name length limit): ${shown}…`,
      );
    }
    // Every byte: names that differ only in the middle must not collide (a hostile index made 80k such names).
    const h = finalMix(hashRange(dv, start, end, n));
    const slots = this.slots;
    const wrap = slots.length - 1;
    let s = (h << 1) & wrap;
    for (;;) {
      const id = slots[s + 1]!;
      if (id === 0) break;
      if (slots[s] === h && this.equals(id - 1, buf, start, end)) return id - 1;
      s = (s + 2) & wrap;
    }
    const id = this.strings.length;
    this.strings.push(buf.toString('latin1', start, end));
    slots[s] = h;
    slots[s + 1] = id + 1;
    if (id * 4 > slots.length) this.growSlots();
    return id;
  }

  private growSlots(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const wrap = slots.length - 1;
    for (let o = 0; o < old.length; o += 2) {
      if (old[o + 1] === 0) continue;
      let s = (old[o]! << 1) & wrap;
      while (slots[s + 1] !== 0) s = (s + 2) & wrap;
      slots[s] = old[o]!;
      slots[s + 1] = old[o + 1]!;
    }
    this.slots = slots;
  }
}

/** Whether `text` (one byte per char) is the bytes of `buf` from `start`. */
function sameText(text: string, buf: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

/** Bytes per block of a ValueStore: blocks are never copied or grown, so a load frees nothing it made. */
const BLOCK_BITS = 20;
const BLOCK = 1 << BLOCK_BITS;
const IN_BLOCK = BLOCK - 1;
/** Refs are int32: at most 2047 blocks (2 GiB), far beyond the decompressed-size limit's reach. */
const MAX_BLOCKS = 2047;

/**
 * Field values kept as bytes, decoded to strings only when a package's releases are read. A value is a `ref`:
 * block number and offset of its 4-byte length followed by its bytes; a value never spans blocks (one longer than
 * a block gets a block of its own). Ref 0 is the empty value. A repeat of the previous record's value is
 * recognised by `equals` and costs no bytes; a new value costs a copy, never a string.
 */
export class ValueStore {
  private readonly blocks: Buffer[] = [];
  private readonly views: DataView[] = [];
  private view!: DataView;
  private used = 0;

  /** `blocks`: another store's (toBlocks), moved here from another thread; the store is then read-only. */
  constructor(blocks?: readonly Uint8Array[]) {
    if (blocks === undefined || blocks.length === 0) {
      this.newBlock(BLOCK);
      this.view.setInt32(0, 0, true); // ref 0: the empty value (length 0)
      this.used = 4;
      return;
    }
    for (const b of blocks) {
      const block = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      this.blocks.push(block);
      this.views.push((this.view = viewOf(block)));
    }
    this.used = this.view.byteLength;
  }

  length(ref: number): number {
    return this.views[ref >>> BLOCK_BITS]!.getInt32(ref & IN_BLOCK, true);
  }

  /** Whether value `ref` is exactly these bytes. */
  equals(ref: number, dv: DataView, start: number, end: number): boolean {
    const own = this.views[ref >>> BLOCK_BITS]!;
    let a = ref & IN_BLOCK;
    const n = end - start;
    if (own.getInt32(a, true) !== n) return false;
    a += 4;
    let i = start;
    for (; i + 4 <= end; i += 4, a += 4) if (own.getInt32(a, true) !== dv.getInt32(i, true)) return false;
    for (; i < end; i++, a++) if (own.getUint8(a) !== dv.getUint8(i)) return false;
    return true;
  }

  /**
   * Where value `ref` ends when the line at `start` holds exactly it, followed by NL or CR NL before `limit`; else
   * -1. A repeated value is recognised in place, without first scanning for the end of its line.
   */
  lineMatch(ref: number, buf: Buffer, dv: DataView, start: number, limit: number): number {
    const own = this.views[ref >>> BLOCK_BITS]!;
    let a = ref & IN_BLOCK;
    const end = start + own.getInt32(a, true);
    if (end >= limit) return -1;
    const after = buf[end];
    if (after !== NL && (after !== CR || buf[end + 1] !== NL)) return -1;
    a += 4;
    let i = start;
    for (; i + 4 <= end; i += 4, a += 4) if (own.getInt32(a, true) !== dv.getInt32(i, true)) return -1;
    for (; i < end; i++, a++) if (own.getUint8(a) !== dv.getUint8(i)) return -1;
    return end;
  }

  add(buf: Buffer, dv: DataView, start: number, end: number): number {
    const n = end - start;
    if (n === 0) return 0;
    if (this.used + 4 + n > this.view.byteLength) this.newBlock(4 + n);
    const own = this.view;
    const ref = ((this.blocks.length - 1) << BLOCK_BITS) | this.used;
    own.setInt32(this.used, n, true);
    let a = this.used + 4;
    let i = start;
    for (; i + 4 <= end; i += 4, a += 4) own.setInt32(a, dv.getInt32(i, true), true);
    for (; i < end; i++, a++) own.setUint8(a, buf[i]!);
    this.used = a;
    return ref;
  }

  /** The block holding value `ref`: its bytes are `block(ref)[start(ref) .. start(ref) + length(ref))`. */
  block(ref: number): Buffer {
    return this.blocks[ref >>> BLOCK_BITS]!;
  }

  start(ref: number): number {
    return (ref & IN_BLOCK) + 4;
  }

  /** Adds a value given as text (latin1). */
  addString(value: string): number {
    const bytes = Buffer.from(value, 'latin1');
    return this.add(bytes, viewOf(bytes), 0, bytes.length);
  }

  latin1(ref: number): string {
    const at = (ref & IN_BLOCK) + 4;
    return this.blocks[ref >>> BLOCK_BITS]!.toString('latin1', at, at + this.length(ref));
  }

  utf8(ref: number): string {
    const at = (ref & IN_BLOCK) + 4;
    return this.blocks[ref >>> BLOCK_BITS]!.toString('utf8', at, at + this.length(ref));
  }

  /** The blocks, for another thread to rebuild this store from (the constructor); this store is not used after. */
  toBlocks(): Buffer[] {
    return [...this.blocks];
  }

  /** Gives back the unused end of the last block, once nothing more will be added. */
  trim(): void {
    const last = this.blocks.length - 1;
    if (this.used < this.blocks[last]!.length) {
      const block = Buffer.from(this.blocks[last]!.subarray(0, this.used));
      this.blocks[last] = block;
      this.views[last] = this.view = viewOf(block);
    }
  }

  private newBlock(need: number): void {
    if (this.blocks.length >= MAX_BLOCKS) throw new RecordError('limit', 'more than 2 GiB of field values');
    // A value longer than a block gets one of its own, starting at offset 0, so its ref still points at it.
    const block = Buffer.allocUnsafe(Math.max(BLOCK, need));
    this.blocks.push(block);
    this.views.push((this.view = viewOf(block)));
    this.used = 0;
  }
}

/**
 * A growable column of numbers in fixed blocks of 64k: it grows without copying, so loading an index allocates
 * each byte of its columns once. Unwritten elements read as 0.
 */
export class Column<T extends Int32Array | Float64Array> {
  private readonly blocks: T[] = [];

  constructor(private readonly make: (n: number) => T) {}

  get(i: number): number {
    return this.blocks[i >>> 16]![i & 0xffff]!;
  }

  set(i: number, value: number): void {
    const block = this.blocks[i >>> 16];
    if (block !== undefined) block[i & 0xffff] = value;
    else {
      while (i >>> 16 >= this.blocks.length) this.blocks.push(this.make(0x10000));
      this.blocks[i >>> 16]![i & 0xffff] = value;
    }
  }

  /** The blocks, for another thread to rebuild this column from (fromBlocks). */
  toBlocks(): T[] {
    return [...this.blocks];
  }

  static fromBlocks<T extends Int32Array | Float64Array>(blocks: readonly T[], make: (n: number) => T): Column<T> {
    const column = new Column(make);
    column.blocks.push(...blocks);
    return column;
  }

  /** Gives back the unused end of the last block; `length` elements are kept. */
  trim(length: number): void {
    const full = length >>> 16;
    const rest = length & 0xffff;
    this.blocks.length = Math.min(this.blocks.length, full + (rest > 0 ? 1 : 0));
    if (rest > 0 && this.blocks.length > full) this.blocks[full] = this.blocks[full]!.slice(0, rest) as T;
  }
}

export const int32Column = (): Column<Int32Array> => new Column((n) => new Int32Array(n));
export const float64Column = (): Column<Float64Array> => new Column((n) => new Float64Array(n));

/** A copy of `array` with room for at least `length` elements. */
export function grow<T extends Int32Array | Float64Array>(array: T, length: number): T {
  let size = Math.max(array.length * 2, 16);
  while (size < length) size *= 2;
  const out = new (array.constructor as new (n: number) => T)(size);
  out.set(array);
  return out;
}

const SPACE = 0x20;
const EQUALS = 0x3d;
const COLON = 0x3a;
const SPACES = 0x20202020;
const NEWLINES = 0x0a0a0a0a;
/** A line longer than this is ended by the native search (memchr), whose call costs what this many bytes do. */
const NATIVE_AFTER = 96;

/**
 * Index of the first newline in [i, end), or -1: 4 bytes at a time (a zero-byte test on word ^ "\n\n\n\n"),
 * then, for a long line, the native search. Most APKINDEX lines are short, where one native call per line cost
 * more than the scan.
 */
export function nextNewline(buf: Buffer, dv: DataView, i: number, end: number): number {
  const stop = i + NATIVE_AFTER < end ? i + NATIVE_AFTER : end;
  for (; i + 4 <= stop; i += 4) {
    const x = dv.getInt32(i, true) ^ NEWLINES;
    const zero = (x - 0x01010101) & ~x & 0x80808080;
    // The lowest flagged byte is always a real zero byte (a borrow only flags bytes above one).
    if (zero !== 0) return i + ((31 - Math.clz32(zero & -zero)) >> 3);
  }
  if (stop < end) return buf.indexOf(NL, i);
  for (; i < end; i++) if (buf[i] === NL) return i;
  return -1;
}

/** Index of the first space in [i, end), or end; 4 bytes at a time (a zero-byte test on word ^ "    "). */
function nextSpace(buf: Buffer, dv: DataView, i: number, end: number): number {
  for (; i + 4 <= end; i += 4) {
    const x = dv.getInt32(i, true) ^ SPACES;
    const zero = (x - 0x01010101) & ~x & 0x80808080;
    // The lowest flagged byte is always a real zero byte (a borrow only flags bytes above one).
    if (zero !== 0) return i + ((31 - Math.clz32(zero & -zero)) >> 3);
  }
  while (i < end && buf[i] !== SPACE) i++;
  return i;
}

/**
 * The `name=version` tokens of a `p:` value that name a package, in pairs (name id, version ref, …). Prefixed ones
 * (`cmd:`, `so:`, `pc:`, `py3.12:` …) are virtual names and are skipped without being decoded; so are unversioned
 * provides.
 */
export function scanProvides(
  buf: Buffer,
  dv: DataView,
  start: number,
  end: number,
  names: NameTable,
  store: ValueStore,
): number[] | undefined {
  let out: number[] | undefined;
  let pos = start;
  while (pos < end) {
    let tokenEnd = pos;
    let eq = -1;
    for (; tokenEnd < end; tokenEnd++) {
      const b = buf[tokenEnd];
      if (b === SPACE) break;
      if (b === EQUALS) {
        eq = tokenEnd;
        break;
      }
      if (b === COLON) {
        eq = -2; // a prefixed (virtual) name: nothing in this token is kept
        break;
      }
    }
    if (eq === -2) {
      tokenEnd = nextSpace(buf, dv, tokenEnd + 1, end);
    } else if (eq >= 0) {
      tokenEnd = nextSpace(buf, dv, eq + 1, end);
      if (eq > pos && eq + 1 < tokenEnd)
        (out ??= []).push(names.id(buf, dv, pos, eq), store.add(buf, dv, eq + 1, tokenEnd));
    }
    pos = tokenEnd + 1;
  }
  return out;
}
