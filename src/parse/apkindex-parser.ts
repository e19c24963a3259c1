import type { ReadLimits } from './limits.js';
import { NameTable, nextNewline, scanProvides, ValueStore, viewOf } from './field-bytes.js';
import { RecordError } from './record-error.js';

const NL = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

export { RecordError };

/**
 * One record's fields, by name. The parser fills one instance and hands it to the sink for every record, so no
 * object is made per record; a sink copies what it keeps before returning. The name (and each provided name) is
 * an id into the sink's `names` (`names.strings[id]`); other values are refs into its `store`, decoded when
 * needed: latin1 for version, origin and commit, UTF-8 for the URL. -1 means the record has no such field; `buildTime` is seconds, 0 when unknown; `provides` holds (name id, version ref) pairs.
 */
export class RecordFields {
  name = -1;
  version = -1;
  arch: string | undefined = undefined;
  buildTime = 0;
  origin = -1;
  commit = -1;
  url = -1;
  provides: number[] | undefined = undefined;

  clear(): void {
    this.name = this.version = this.origin = this.commit = -1;
    this.url = -1;
    this.arch = undefined;
    this.buildTime = 0;
    this.provides = undefined;
  }
}

/**
 * Receives each record's fields (see RecordFields), valid only during the call. `arch` is read only while
 * `wantsArch` is true (it arrives undefined otherwise).
 */
export interface RecordSink {
  readonly names: NameTable;
  readonly store: ValueStore;
  readonly wantsArch: boolean;
  record(fields: Readonly<RecordFields>): void;
}

export type ParseLimits = Pick<
  ReadLimits,
  'maxEntries' | 'maxLineBytes' | 'maxNames' | 'maxProvides' | 'maxProvidesPerRecord'
>;

/**
 * Streaming APKINDEX text parser: feed it chunks in order, it hands one record per blank-line separated block to
 * its sink.
 *
 * Lines are dispatched on their first byte. No string is made while reading, except for names not seen before.
 * A value equal to the same field of the previous record (neighbouring records of one package share name, origin,
 * URL and arch) is recognised in place by one compare that also finds the line's end; other lines are ended by a
 * word-at-a-time newline scan, and the values kept are copied as bytes into the sink's store. Lines nothing reads
 * (C S I T L D m i k r q …: the description and licence too, which no answer shows) cost only that scan.
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
  private readonly names: NameTable;
  private readonly store: ValueStore;
  /** The arch every record must name in `A:` (or `noarch`), as a value of `store`; -1: any arch. */
  private readonly arch: number;
  private readonly noarch: number;

  constructor(
    private readonly limits: ParseLimits,
    private readonly sink: RecordSink,
    options: { arch?: string } = {},
  ) {
    this.names = sink.names;
    this.store = sink.store;
    this.arch = options.arch === undefined ? -1 : this.store.addString(options.arch);
    this.noarch = this.store.addString('noarch');
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
    const length = chunk.length;
    const dv = viewOf(chunk);
    while (pos < length) {
      if (chunk[pos + 1] === COLON) {
        const next = this.quickLine(chunk[pos]!, chunk, dv, pos, length);
        if (next !== -1) {
          pos = next;
          continue;
        }
      }
      const nl = nextNewline(chunk, dv, pos, length);
      if (nl === -1) break;
      if (nl - pos > max) this.checkLength(nl - pos);
      this.onLine(chunk, dv, pos, nl);
      pos = nl + 1;
    }
    if (pos < length) this.carry = this.extendCarry(null, chunk.subarray(pos));
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

  /**
   * A line at `start` ("X:" checked) taken without onLine, returning where the next line starts, or -1 to leave it
   * to onLine: a line nothing reads, ended by the scan alone; or a line repeating the previous record's value of its
   * field, recognised in place (with its end) and taken as it is.
   */
  private quickLine(key: number, buf: Buffer, dv: DataView, start: number, limit: number): number {
    const v = start + 2;
    const f = this.fields;
    const store = this.store;
    let end: number;
    switch (key) {
      case 0x50 /* P */:
        end = this.names.lineMatch(this.lastName, buf, v, limit);
        if (end > v) f.name = this.lastName;
        break;
      case 0x41 /* A */:
        // The expected arch, once the sink has the one arch it wants.
        if (this.arch === -1 || this.sink.wantsArch) return -1;
        end = store.lineMatch(this.arch, buf, dv, v, limit);
        break;
      case 0x6f /* o */:
        end = store.lineMatch(this.lastOrigin, buf, dv, v, limit);
        if (end > v) f.origin = this.lastOrigin;
        break;
      case 0x55 /* U */:
        end = store.lineMatch(this.lastUrl, buf, dv, v, limit);
        if (end > v) f.url = this.lastUrl;
        break;
      case 0x56 /* V */:
      case 0x74 /* t */:
      case 0x63 /* c */:
      case 0x70 /* p */:
      case NL: // a blank line (the next line starting with ":" is no field of it)
      case CR:
        return -1;
      default: {
        // C S I T L D m i k r q and fields apk may add later: nothing an answer shows.
        const nl = nextNewline(buf, dv, v, limit);
        if (nl === -1) return -1;
        if (nl - start > this.limits.maxLineBytes) this.checkLength(nl - start);
        this.startLine();
        return nl + 1;
      }
    }
    // An empty value (end === v) is left to onLine, which says what is wrong with it.
    if (end <= v) return -1;
    this.startLine();
    return (buf[end] === NL ? end : end + 1) + 1;
  }

  /** Counts a line of a record (for the line numbers errors name). */
  private startLine(): void {
    this.line++;
    if (!this.inRecord) {
      this.inRecord = true;
      this.recordStartLine = this.line;
    }
  }

  /** One whole line, from `start` to its newline at `nl` (or the end of the text). */
  private onLine(buf: Buffer, dv: DataView, start: number, nl: number): void {
    this.line++;
    const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl; // tolerate CRLF from hand-made indexes
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
        if (!this.names.equals(this.lastName, buf, v, end)) this.lastName = this.names.id(buf, dv, v, end);
        f.name = this.lastName;
        break;
      case 0x56 /* V */:
        if (!store.equals(this.lastVersion, dv, v, end)) this.lastVersion = store.add(buf, dv, v, end);
        f.version = this.lastVersion;
        break;
      case 0x41 /* A */:
        if (this.arch !== -1 && !store.equals(this.arch, dv, v, end) && !store.equals(this.noarch, dv, v, end))
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
      case 0x70 /* p */:
        f.provides = scanProvides(buf, dv, v, end, this.names, store);
        break;
      default:
        // Read only when it did not fit in one chunk (quickLine skips it otherwise): nothing an answer shows.
        break;
    }
  }

  private foreignArch(buf: Buffer, start: number, end: number): never {
    const found = JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 40)));
    throw new RecordError(
      'format',
      `line ${this.line}: record for arch ${found} in the index of ${this.store.latin1(this.arch)} (an index served at another arch's URL?)`,
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
