import type { ReadLimits } from './limits.js';
import type { PackageRecord } from './package-record.js';
import { NameTable, scanProvides, ValueStore, viewOf } from './field-bytes.js';
import { RecordError } from './record-error.js';

const NL = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

export { RecordError };

/**
 * One record's fields, by name. The parser fills one instance and hands it to the sink for every record, so no
 * object is made per record; a sink copies what it keeps before returning. The name (and each provided name) is
 * an id into the sink's `names` (`names.strings[id]`); other values are refs into its `store`, decoded when
 * needed: latin1 for version, origin and commit, UTF-8 for URL, licence, description and maintainer. -1 means the
 * record has no such field; `buildTime` is seconds, 0 when unknown; `provides` holds (name id, version ref) pairs.
 */
export class RecordFields {
  name = -1;
  version = -1;
  arch: string | undefined = undefined;
  buildTime = 0;
  origin = -1;
  commit = -1;
  url = -1;
  license = -1;
  description = -1;
  maintainer = -1;
  provides: number[] | undefined = undefined;

  clear(): void {
    this.name = this.version = this.origin = this.commit = -1;
    this.url = this.license = this.description = this.maintainer = -1;
    this.arch = undefined;
    this.buildTime = 0;
    this.provides = undefined;
  }
}

/**
 * Receives each record's fields (see RecordFields), valid only during the call. Fields the sink does not want
 * are not read and arrive as -1 / undefined: `arch` while `wantsArch` is false, `maintainer` while
 * `wantsMaintainer` is false.
 */
export interface RecordSink {
  readonly names: NameTable;
  readonly store: ValueStore;
  readonly wantsArch: boolean;
  readonly wantsMaintainer: boolean;
  record(fields: Readonly<RecordFields>): void;
}

/** Turns the fields back into a PackageRecord for callers that want one object per record. */
class RecordObjects implements RecordSink {
  readonly names = new NameTable();
  readonly store = new ValueStore();
  readonly wantsArch = true;
  readonly wantsMaintainer = true;

  constructor(private readonly emit: (record: PackageRecord) => void) {}

  record(f: Readonly<RecordFields>): void {
    const { names, store } = this;
    const record: PackageRecord = { name: names.strings[f.name]!, version: store.latin1(f.version) };
    if (f.arch !== undefined) record.arch = f.arch;
    if (f.buildTime > 0) record.buildTime = f.buildTime;
    if (f.origin >= 0) record.origin = store.latin1(f.origin);
    if (f.commit >= 0) record.commit = store.latin1(f.commit);
    if (f.url >= 0) record.url = store.utf8(f.url);
    if (f.license >= 0) record.license = store.utf8(f.license);
    if (f.description >= 0) record.description = store.utf8(f.description);
    if (f.maintainer >= 0) record.maintainer = store.utf8(f.maintainer);
    if (f.provides !== undefined) {
      record.provides = [];
      for (let i = 0; i < f.provides.length; i += 2) {
        record.provides.push([names.strings[f.provides[i]!]!, store.latin1(f.provides[i + 1]!)]);
      }
    }
    this.emit(record);
  }
}

/**
 * Streaming APKINDEX text parser: feed it chunks in order, it emits one record per blank-line separated block.
 *
 * Lines are found with one native newline search each and dispatched on their first byte; lines no version user
 * needs (C S I D i k r q …) cost nothing more. No string is made while reading, except for names not seen before:
 * a value equal to the same field of the previous record (subpackages share origin, commit, URL, licence and
 * often version) is recognised by one compare, and other values are copied as bytes into the sink's store.
 */
export class ApkIndexParser {
  private carry: Buffer | null = null;
  private line = 0;
  private recordStartLine = 0;
  private entries = 0;
  private providesSeen = 0;
  private inRecord = false;
  /** The record being read, handed to the sink when it ends. */
  private readonly fields = new RecordFields();
  // The previous record's values (0, the empty value, to start with): a repeat costs one compare.
  private lastName = 0;
  private lastVersion = 0;
  private lastOrigin = 0;
  private lastCommit = 0;
  private lastUrl = 0;
  private lastLicense = 0;
  private lastDescription = 0;
  private lastMaintainer = 0;
  private readonly names: NameTable;
  private readonly store: ValueStore;
  private readonly sink: RecordSink;

  /** The arch every record must name in `A:` (or `noarch`); undefined: any. */
  private readonly arch: Buffer | undefined;

  constructor(
    private readonly limits: Pick<
      ReadLimits,
      'maxEntries' | 'maxLineBytes' | 'maxNames' | 'maxProvides' | 'maxProvidesPerRecord'
    >,
    emit: ((record: PackageRecord) => void) | RecordSink,
    options: { arch?: string } = {},
  ) {
    this.arch = options.arch === undefined ? undefined : Buffer.from(options.arch, 'latin1');
    this.sink = typeof emit === 'function' ? new RecordObjects(emit) : emit;
    this.names = this.sink.names;
    this.store = this.sink.store;
  }

  get records(): number {
    return this.entries;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.carry !== null) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.carry = this.extendCarry(this.carry, chunk);
        return;
      }
      const line = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = null;
      this.checkLength(line.length);
      this.onLine(line, viewOf(line), 0, line.length);
      pos = nl + 1;
    }
    const max = this.limits.maxLineBytes;
    const dv = viewOf(chunk);
    for (;;) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) break;
      if (nl - pos > max) this.checkLength(nl - pos);
      this.onLine(chunk, dv, pos, nl);
      pos = nl + 1;
    }
    if (pos < chunk.length) this.carry = this.extendCarry(null, chunk.subarray(pos));
  }

  /** Flushes the last record; an index need not end with a newline or a blank line. */
  end(): void {
    if (this.carry !== null) {
      const line = this.carry;
      this.carry = null;
      this.onLine(line, viewOf(line), 0, line.length);
    }
    this.finishRecord();
  }

  private extendCarry(carry: Buffer | null, more: Buffer): Buffer {
    const length = (carry?.length ?? 0) + more.length;
    this.checkLength(length);
    // Copy: the chunk's memory belongs to the decompressor and may be reused.
    return carry === null ? Buffer.from(more) : Buffer.concat([carry, more], length);
  }

  private checkLength(length: number): void {
    if (length > this.limits.maxLineBytes) {
      throw new RecordError(
        'limit',
        `line ${this.line + 1} is longer than the limit of ${this.limits.maxLineBytes} bytes`,
      );
    }
  }

  private onLine(buf: Buffer, dv: DataView, start: number, end: number): void {
    this.line++;
    if (end > start && buf[end - 1] === CR) end--; // tolerate CRLF from hand-made indexes
    if (end === start) {
      this.finishRecord();
      return;
    }
    if (end - start < 2 || buf[start + 1] !== COLON) this.badLine(buf, start, end);
    if (!this.inRecord) {
      this.inRecord = true;
      this.recordStartLine = this.line;
    }
    const v = start + 2;
    const store = this.store;
    const f = this.fields;
    switch (buf[start]) {
      case 0x50 /* P */:
        if (!this.names.equals(this.lastName, dv, v, end)) this.lastName = this.names.id(buf, dv, v, end);
        f.name = this.lastName;
        break;
      case 0x56 /* V */:
        if (!store.equals(this.lastVersion, dv, v, end)) this.lastVersion = store.add(buf, dv, v, end);
        f.version = this.lastVersion;
        break;
      case 0x41 /* A */:
        if (this.arch !== undefined && !sameBytes(buf, v, end, this.arch) && !sameBytes(buf, v, end, NOARCH))
          this.foreignArch(buf, v, end);
        if (this.sink.wantsArch) f.arch = buf.toString('latin1', v, end);
        break;
      case 0x74 /* t */:
        f.buildTime = parseTime(buf, v, end);
        break;
      case 0x6f /* o */:
        if (!store.equals(this.lastOrigin, dv, v, end)) this.lastOrigin = store.add(buf, dv, v, end);
        f.origin = this.lastOrigin;
        break;
      case 0x63 /* c */:
        if (!store.equals(this.lastCommit, dv, v, end)) this.lastCommit = store.add(buf, dv, v, end);
        f.commit = this.lastCommit;
        break;
      case 0x55 /* U */:
        if (!store.equals(this.lastUrl, dv, v, end)) this.lastUrl = store.add(buf, dv, v, end);
        f.url = this.lastUrl;
        break;
      case 0x4c /* L */:
        if (!store.equals(this.lastLicense, dv, v, end)) this.lastLicense = store.add(buf, dv, v, end);
        f.license = this.lastLicense;
        break;
      case 0x54 /* T */:
        if (!store.equals(this.lastDescription, dv, v, end)) this.lastDescription = store.add(buf, dv, v, end);
        f.description = this.lastDescription;
        break;
      case 0x6d /* m */:
        if (!this.sink.wantsMaintainer) break;
        if (!store.equals(this.lastMaintainer, dv, v, end)) this.lastMaintainer = store.add(buf, dv, v, end);
        f.maintainer = this.lastMaintainer;
        break;
      case 0x70 /* p */:
        f.provides = scanProvides(buf, dv, v, end, this.names, store);
        break;
      default:
        // C S I D i k r q and fields apk may add later carry nothing a version query needs.
        break;
    }
  }

  private foreignArch(buf: Buffer, start: number, end: number): never {
    const found = JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 40)));
    throw new RecordError(
      'format',
      `line ${this.line}: record for arch ${found} in the index of ${this.arch!.toString('latin1')} (an index served at another arch's URL?)`,
    );
  }

  private badLine(buf: Buffer, start: number, end: number): never {
    const shown = buf.toString('utf8', start, Math.min(end, start + 40));
    throw new RecordError('format', `line ${this.line}: expected "X:value", got ${JSON.stringify(shown)}`);
  }

  private finishRecord(): void {
    if (!this.inRecord) return;
    this.inRecord = false;
    const f = this.fields;
    // 0 is the empty value: "P:" names nothing.
    if (f.name <= 0 || f.version <= 0) {
      throw new RecordError(
        'format',
        `record at line ${this.recordStartLine} has no ${f.name > 0 ? 'V: (version)' : 'P: (package name)'}`,
      );
    }
    if (++this.entries > this.limits.maxEntries) {
      throw new RecordError('limit', `more than ${this.limits.maxEntries} records (the entry limit)`);
    }
    const limits = this.limits;
    if (f.provides !== undefined) {
      const provides = f.provides.length / 2;
      if (provides > limits.maxProvidesPerRecord) {
        throw new RecordError(
          'limit',
          `record at line ${this.recordStartLine} provides more than ${limits.maxProvidesPerRecord} names (the per-record provides limit)`,
        );
      }
      if ((this.providesSeen += provides) > limits.maxProvides) {
        throw new RecordError('limit', `more than ${limits.maxProvides} provides (the provides limit)`);
      }
    }
    // Names are checked once a record has added its own: a record adds at most 1 + maxProvidesPerRecord.
    if (this.names.strings.length - 1 > limits.maxNames) {
      throw new RecordError('limit', `more than ${limits.maxNames} distinct package names (the names limit)`);
    }
    this.sink.record(f);
    f.clear();
  }
}

const NOARCH = Buffer.from('noarch');

function sameBytes(buf: Buffer, start: number, end: number, want: Buffer): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

/** `t:` as seconds; 0, empty or garbage means "unknown" (0), never 1970. */
function parseTime(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return 0;
    n = n * 10 + d;
  }
  return n > 0 && Number.isSafeInteger(n) ? n : 0;
}
