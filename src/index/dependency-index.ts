import type { ApkIndexSink } from '../decode/index-archive.js';
import { isValidVersion } from './version.js';

/**
 * One package of one index as apk resolves it: what it depends on (`D:`) and what it provides (`p:`, with
 * `so:`, `cmd:`, `pc:` and plain names), with what the solver weighs (`o:`, `k:`, `i:`) and what a lock records
 * (`C:`, `S:`, `A:`). Only commands that resolve install sets (`check`, `resolve`, `lock`, `pin` with locks) read
 * these; the service never keeps them.
 */
export interface DependencyRecord {
  name: string;
  version: string;
  /** `D:` tokens as written: `name`, `name>=1.2`, `so:libc.musl-x86_64.so.1`, `!conflict`. */
  depends: readonly string[];
  /** `p:` tokens as written: `cmd:sh=1.36-r0`, `so:libz.so.1=1.3`, `virtual`. */
  provides: readonly string[];
  /** `i:` tokens: installed when all of them are (`busybox libssl3`, `name=version`). */
  installIf: readonly string[];
  /** `o:`, the origin package; '' when absent. */
  origin: string;
  /** `k:`, provider priority; 0 when absent. */
  providerPriority: number;
  /** `C:`, apk's `Q1` + base64 SHA-1 of the control section; '' when absent. */
  checksum: string;
  /** `S:`, the size of the .apk file in bytes; 0 when absent. */
  size: number;
  /** `A:`, as the index writes it; '' when absent. */
  arch: string;
}

/** The records of one index, by name and by every name they provide. */
export class DependencyIndex {
  readonly byName = new Map<string, DependencyRecord[]>();
  readonly providers = new Map<string, DependencyRecord[]>();

  constructor(readonly records: readonly DependencyRecord[]) {
    for (const r of records) {
      push(this.byName, r.name, r);
      for (const p of r.provides) push(this.providers, providedName(p), r);
    }
  }

  has(name: string, version: string): boolean {
    return this.byName.get(name)?.some((r) => r.version === version) ?? false;
  }
}

/** One shared empty list: most records have no `i:` and many no `D:` or `p:`. */
const NONE: readonly string[] = Object.freeze([]);

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `cmd:sh=1.36` -> `cmd:sh`; `so:libz.so.1` stays. */
export function providedName(token: string): string {
  const m = /^([^=<>~]+)/.exec(token);
  return m ? m[1]! : token;
}

/**
 * Reads APKINDEX text (the sink of `readIndexArchive`) keeping P, V, D and p lines. Strings are interned per
 * token, as thousands of packages share `so:libc.musl-x86_64.so.1` and the like.
 */
export class DependencyIndexReader implements ApkIndexSink {
  private readonly records: DependencyRecord[] = [];
  private readonly tokens = new Map<string, string>();
  private carry = '';
  private name = '';
  private version = '';
  private depends: readonly string[] = NONE;
  private provides: readonly string[] = NONE;
  private installIf: readonly string[] = NONE;
  private origin = '';
  private providerPriority = 0;
  private checksum = '';
  private size = 0;
  private arch = '';
  private decoder = new TextDecoder('latin1');
  index: DependencyIndex | undefined;

  data(chunk: Buffer): void {
    const text = this.carry + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.carry = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.carry) this.line(this.carry);
    this.line('');
    this.index = new DependencyIndex(this.records);
  }

  private line(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') {
      // A version apk would not accept is never compared (the snapshot skips the same records).
      if (this.name && isValidVersion(this.version))
        this.records.push({
          name: this.name,
          version: this.version,
          depends: this.depends,
          provides: this.provides,
          installIf: this.installIf,
          origin: this.origin,
          providerPriority: this.providerPriority,
          checksum: this.checksum,
          size: this.size,
          arch: this.arch,
        });
      this.name = '';
      this.version = '';
      this.depends = NONE;
      this.provides = NONE;
      this.installIf = NONE;
      this.origin = '';
      this.providerPriority = 0;
      this.checksum = '';
      this.size = 0;
      this.arch = '';
      return;
    }
    if (line[1] !== ':') return;
    const value = line.slice(2);
    switch (line[0]) {
      case 'P':
        this.name = this.intern(value);
        break;
      case 'V':
        this.version = value;
        break;
      case 'D':
        this.depends = this.list(value);
        break;
      case 'p':
        this.provides = this.list(value);
        break;
      case 'i':
        this.installIf = this.list(value);
        break;
      case 'o':
        this.origin = this.intern(value);
        break;
      case 'k':
        this.providerPriority = Number(value) || 0;
        break;
      case 'C':
        this.checksum = value;
        break;
      case 'S':
        this.size = Number(value) || 0;
        break;
      case 'A':
        this.arch = this.intern(value);
        break;
    }
  }

  private list(value: string): string[] {
    return value
      .split(' ')
      .filter(Boolean)
      .map((t) => this.intern(t));
  }

  private intern(token: string): string {
    let known = this.tokens.get(token);
    if (known === undefined) {
      known = token;
      this.tokens.set(token, token);
    }
    return known;
  }
}
