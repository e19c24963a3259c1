import type { ReadLimits } from './limits.js';
import type { PackageRecord } from './package-record.js';
import { RepeatedField, scanProvides } from './field-bytes.js';

const NL = 0x0a;
const COLON = 0x3a;

/** A record or line the parser cannot accept; the caller adds the source's name. */
export class RecordError extends Error {
  constructor(
    readonly kind: 'format' | 'limit',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Streaming APKINDEX text parser: feed it chunks in order, it emits one record per blank-line separated block.
 * Only the fields that matter for versions are turned into strings; the rest are skipped as bytes.
 */
export class ApkIndexParser {
  private carry: Buffer | null = null;
  private line = 0;
  private recordStartLine = 0;
  private entries = 0;
  private inRecord = false;
  private name: string | undefined;
  private version: string | undefined;
  private arch: string | undefined;
  private buildTime: number | undefined;
  private origin: string | undefined;
  private commit: string | undefined;
  private url: string | undefined;
  private license: string | undefined;
  private description: string | undefined;
  private maintainer: string | undefined;
  private provides: Array<readonly [string, string]> | undefined;
  // Neighbouring records share arch, origin, URL, licence, description and commit: reuse their strings.
  private readonly nameField = new RepeatedField('latin1');
  private readonly archField = new RepeatedField('latin1');
  private readonly originField = new RepeatedField('latin1');
  private readonly commitField = new RepeatedField('latin1');
  private readonly urlField = new RepeatedField('utf8');
  private readonly licenseField = new RepeatedField('utf8');
  private readonly descriptionField = new RepeatedField('utf8');
  private readonly maintainerField = new RepeatedField('utf8');

  constructor(
    private readonly limits: Pick<ReadLimits, 'maxEntries' | 'maxLineBytes'>,
    private readonly emit: (record: PackageRecord) => void,
  ) {}

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
      this.onLine(line, 0, line.length);
      pos = nl + 1;
    }
    const max = this.limits.maxLineBytes;
    for (;;) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) break;
      if (nl - pos > max) this.checkLength(nl - pos);
      this.onLine(chunk, pos, nl);
      pos = nl + 1;
    }
    if (pos < chunk.length) this.carry = this.extendCarry(null, chunk.subarray(pos));
  }

  /** Flushes the last record; an index need not end with a newline or a blank line. */
  end(): void {
    if (this.carry !== null) {
      const line = this.carry;
      this.carry = null;
      this.onLine(line, 0, line.length);
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

  private onLine(buf: Buffer, start: number, end: number): void {
    this.line++;
    if (end > start && buf[end - 1] === 0x0d) end--; // tolerate CRLF from hand-made indexes
    if (end === start) {
      this.finishRecord();
      return;
    }
    if (end - start < 2 || buf[start + 1] !== COLON) {
      const shown = buf.toString('utf8', start, Math.min(end, start + 40));
      throw new RecordError('format', `line ${this.line}: expected "X:value", got ${JSON.stringify(shown)}`);
    }
    if (!this.inRecord) {
      this.inRecord = true;
      this.recordStartLine = this.line;
    }
    const v = start + 2;
    switch (buf[start]) {
      case 0x50 /* P */:
        this.name = this.nameField.read(buf, v, end);
        break;
      case 0x56 /* V */:
        this.version = buf.toString('latin1', v, end);
        break;
      case 0x41 /* A */:
        this.arch = this.archField.read(buf, v, end);
        break;
      case 0x74 /* t */:
        this.buildTime = parseTime(buf, v, end);
        break;
      case 0x6f /* o */:
        this.origin = this.originField.read(buf, v, end);
        break;
      case 0x63 /* c */:
        this.commit = this.commitField.read(buf, v, end);
        break;
      case 0x55 /* U */:
        this.url = this.urlField.read(buf, v, end);
        break;
      case 0x4c /* L */:
        this.license = this.licenseField.read(buf, v, end);
        break;
      case 0x54 /* T */:
        this.description = this.descriptionField.read(buf, v, end);
        break;
      case 0x6d /* m */:
        this.maintainer = this.maintainerField.read(buf, v, end);
        break;
      case 0x70 /* p */:
        this.provides = scanProvides(buf, v, end);
        break;
      default:
        // C S I D i k r q and fields apk may add later carry nothing a version query needs.
        break;
    }
  }

  private finishRecord(): void {
    if (!this.inRecord) return;
    this.inRecord = false;
    const { name, version } = this;
    if (!name || !version) {
      throw new RecordError(
        'format',
        `record at line ${this.recordStartLine} has no ${name ? 'V: (version)' : 'P: (package name)'}`,
      );
    }
    if (++this.entries > this.limits.maxEntries) {
      throw new RecordError('limit', `more than ${this.limits.maxEntries} records (the entry limit)`);
    }
    const record: PackageRecord = { name, version };
    if (this.arch !== undefined) record.arch = this.arch;
    if (this.buildTime !== undefined) record.buildTime = this.buildTime;
    if (this.origin !== undefined) record.origin = this.origin;
    if (this.commit !== undefined) record.commit = this.commit;
    if (this.url !== undefined) record.url = this.url;
    if (this.license !== undefined) record.license = this.license;
    if (this.description !== undefined) record.description = this.description;
    if (this.maintainer !== undefined) record.maintainer = this.maintainer;
    if (this.provides !== undefined) record.provides = this.provides;
    this.name = this.version = this.arch = this.buildTime = this.origin = undefined;
    this.commit = this.url = this.license = this.description = this.maintainer = this.provides = undefined;
    this.emit(record);
  }
}

/** `t:` as seconds; 0, empty or garbage means "unknown", never 1970. */
function parseTime(buf: Buffer, start: number, end: number): number | undefined {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}
