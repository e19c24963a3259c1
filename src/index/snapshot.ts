import type { RecordFields, RecordSink } from '../parse/apkindex-parser.js';
import { Column, float64Column, grow, int32Column, NameTable, ValueStore } from '../parse/field-bytes.js';
import { compareVersions, isValidVersionBytes } from './version.js';

/** One version of one package name in one index. A fixed shape keeps hundreds of thousands of them compact. */
export class IndexedRelease {
  constructor(
    readonly version: string,
    readonly buildTime: number | undefined,
    readonly origin: string | undefined,
    readonly commit: string | undefined,
    readonly url: string | undefined,
    /** The package whose `p:name=version` makes this version findable under another name. */
    readonly providedBy: string | undefined,
  ) {}

  providedAs(version: string, provider: string): IndexedRelease {
    return new IndexedRelease(version, this.buildTime, this.origin, this.commit, this.url, provider);
  }
}

/** Everything one APKINDEX.tar.gz says about versions, by package name, each list in apk order. */
export interface IndexSnapshot {
  readonly url: string;
  readonly arch: string;
  readonly repository: string;
  readonly description: string | undefined;
  /** Key that verified the signature; undefined when no keys were configured. */
  readonly verifiedBy: string | undefined;
  readonly records: number;
  /**
   * Records skipped because their `V:` is not a valid APK version (apk's own rules), plus provided versions (`p:`)
   * skipped for the same reason: never served, compared or written. `firstSkipped` names the first, for a log line.
   */
  readonly skippedVersions: number;
  readonly firstSkipped: { name: string; version: string } | undefined;
  /** The newest `t:` of any record, seconds; undefined when no record has one. */
  readonly newestBuildTime: number | undefined;
  readonly packages: ReadonlyMap<string, readonly IndexedRelease[]>;
}

/**
 * Everything the builder collected, column by column (struct of arrays): no object and no string per record, so
 * loading 250k records allocates little beyond the names, and the garbage collector has almost nothing to trace.
 *
 * An entry is one version under one name: a record under its own name, or under a name its `p:` provides.
 * Entries of a name form a chain through `next`, in index order. Values are refs into `store`.
 */
interface Columns {
  readonly names: readonly string[];
  readonly store: ValueStore;
  // Per entry.
  readonly version: Column<Int32Array>;
  readonly record: Column<Int32Array>;
  /** Name id of the providing package; -1 for the package itself. */
  readonly provider: Column<Int32Array>;
  readonly next: Column<Int32Array>;
  // Per record; -1 (0 for buildTime) when absent.
  readonly buildTime: Column<Float64Array>;
  readonly origin: Column<Int32Array>;
  readonly commit: Column<Int32Array>;
  readonly url: Column<Int32Array>;
}

/** PackageLists as plain data, for postMessage (PackageLists.toWire, fromWire). */
export interface PackageListsWire {
  heads: string[];
  headEntries: Int32Array;
  names: readonly string[];
  store: Uint8Array[];
  version: Int32Array[];
  record: Int32Array[];
  provider: Int32Array[];
  next: Int32Array[];
  buildTime: Float64Array[];
  origin: Int32Array[];
  commit: Int32Array[];
  url: Int32Array[];
}

/** A snapshot as another thread sends it: its fields, and its lists as plain data. */
export interface SnapshotWire extends Omit<IndexSnapshot, 'packages'> {
  lists: PackageListsWire;
}

/** A snapshot built on another thread, for postMessage; `transfer` lists the buffers that move with it. */
export function snapshotToWire(snapshot: IndexSnapshot): { wire: SnapshotWire; transfer: ArrayBuffer[] } {
  if (!(snapshot.packages instanceof PackageLists)) throw new TypeError('only a built snapshot can be sent');
  const { packages, ...fields } = snapshot;
  const { lists, transfer } = packages.toWire();
  return { wire: { ...fields, lists }, transfer };
}

export function snapshotFromWire(wire: SnapshotWire): IndexSnapshot {
  const { lists, ...fields } = wire;
  return { ...fields, packages: PackageLists.fromWire(lists) };
}

/**
 * Per-name release lists, made from the columns and put in apk order each time they are read. Loading a Wolfi-scale
 * index touches 250k records but a query reads a handful of names, so both are paid where used. A list is not
 * kept: what an index holds in memory is its columns, whatever is read (answers are cached, bounded by bytes, above).
 */
export class PackageLists implements ReadonlyMap<string, readonly IndexedRelease[]> {
  /** `heads`: first entry of each name, in order of first appearance. */
  constructor(
    private readonly heads: Map<string, number>,
    private readonly columns: Columns,
  ) {}

  get size(): number {
    return this.heads.size;
  }

  has(name: string): boolean {
    return this.heads.has(name);
  }

  get(name: string): readonly IndexedRelease[] | undefined {
    const head = this.heads.get(name);
    if (head === undefined) return undefined;
    const list = this.releases(head);
    return isOrdered(list) ? list : dedupeSorted(list.sort(byApkOrder));
  }

  keys(): MapIterator<string> {
    return this.heads.keys();
  }

  *entries(): MapIterator<[string, readonly IndexedRelease[]]> {
    for (const name of this.heads.keys()) yield [name, this.get(name)!];
  }

  *values(): MapIterator<readonly IndexedRelease[]> {
    for (const name of this.heads.keys()) yield this.get(name)!;
  }

  forEach(
    fn: (value: readonly IndexedRelease[], key: string, map: ReadonlyMap<string, readonly IndexedRelease[]>) => void,
  ): void {
    for (const [name, list] of this.entries()) fn(list, name, this);
  }

  [Symbol.iterator](): MapIterator<[string, readonly IndexedRelease[]]> {
    return this.entries();
  }

  /** These lists as plain data and typed arrays that postMessage moves rather than copies (see snapshotFromWire). */
  toWire(): { lists: PackageListsWire; transfer: ArrayBuffer[] } {
    const c = this.columns;
    const lists: PackageListsWire = {
      heads: [...this.heads.keys()],
      headEntries: Int32Array.from(this.heads.values()),
      names: c.names,
      store: c.store.toBlocks(),
      version: c.version.toBlocks(),
      record: c.record.toBlocks(),
      provider: c.provider.toBlocks(),
      next: c.next.toBlocks(),
      buildTime: c.buildTime.toBlocks(),
      origin: c.origin.toBlocks(),
      commit: c.commit.toBlocks(),
      url: c.url.toBlocks(),
    };
    const arrays = [
      lists.headEntries,
      ...lists.store,
      ...lists.version,
      ...lists.record,
      ...lists.provider,
      ...lists.next,
      ...lists.buildTime,
      ...lists.origin,
      ...lists.commit,
      ...lists.url,
    ];
    // Only arrays that own their whole buffer move; a view into a shared one (a small trimmed block) is copied.
    const transfer = arrays
      .filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer)
      .map((a) => a.buffer as ArrayBuffer);
    return { lists, transfer: [...new Set(transfer)] };
  }

  static fromWire(w: PackageListsWire): PackageLists {
    const heads = new Map<string, number>();
    for (let i = 0; i < w.heads.length; i++) heads.set(w.heads[i]!, w.headEntries[i]!);
    const int32 = (blocks: Int32Array[]) => Column.fromBlocks(blocks, (n) => new Int32Array(n));
    return new PackageLists(heads, {
      names: w.names,
      store: new ValueStore(w.store),
      version: int32(w.version),
      record: int32(w.record),
      provider: int32(w.provider),
      next: int32(w.next),
      buildTime: Column.fromBlocks(w.buildTime, (n) => new Float64Array(n)),
      origin: int32(w.origin),
      commit: int32(w.commit),
      url: int32(w.url),
    });
  }

  private releases(head: number): IndexedRelease[] {
    const c = this.columns;
    const out: IndexedRelease[] = [];
    for (let e = head; e !== -1; e = c.next.get(e)) {
      const r = c.record.get(e);
      const time = c.buildTime.get(r);
      const provider = c.provider.get(e);
      out.push(
        new IndexedRelease(
          c.store.latin1(c.version.get(e)),
          time > 0 ? time : undefined,
          this.text(c.origin.get(r), false),
          c.commit.get(r) < 0 ? undefined : c.store.latin1(c.commit.get(r)),
          this.text(c.url.get(r), true),
          provider < 0 ? undefined : c.names[provider],
        ),
      );
    }
    return out;
  }

  /** Names, versions, origins and commits are read byte for byte (latin1), as apk does; the URL as UTF-8. */
  private text(ref: number, utf8: boolean): string | undefined {
    if (ref < 0) return undefined;
    return utf8 ? this.columns.store.utf8(ref) : this.columns.store.latin1(ref);
  }
}

/**
 * Collects records into per-name chains of entries, column by column; strings, release objects and apk order
 * wait until a name is read (see PackageLists). It is the parser's RecordSink.
 */
export class SnapshotBuilder implements RecordSink {
  readonly names = new NameTable();
  readonly store = new ValueStore();
  /** Arch of the first record that names one. */
  firstArch: string | undefined;
  private count = 0;
  private skipped = 0;
  private firstSkipped: { name: string; version: string } | undefined;
  /** The last version ref checked, and whether it is a valid APK version (neighbouring records share refs). */
  private checkedVersion = -1;
  private checkedValid = false;
  private entries = 0;
  private newest = 0;
  // Per entry.
  private readonly version = int32Column();
  private readonly recordOf = int32Column();
  private readonly provider = int32Column();
  private readonly next = int32Column();
  // Per record.
  private readonly buildTime = float64Column();
  private readonly origin = int32Column();
  private readonly commit = int32Column();
  private readonly url = int32Column();
  // Per name id: first and last entry, plus one (0: no entry yet), and the names in order of first appearance.
  private head = new Int32Array(1 << 12);
  private tail = new Int32Array(1 << 12);
  private readonly order: number[] = [];

  /** Only the first arch is kept, so later `A:` lines are not decoded. */
  get wantsArch(): boolean {
    return this.firstArch === undefined;
  }

  record(f: Readonly<RecordFields>): void {
    if (!this.validVersion(f.version)) return this.skip(f.name, f.version);
    const r = this.count++;
    if (this.firstArch === undefined) this.firstArch = f.arch;
    this.buildTime.set(r, f.buildTime);
    if (f.buildTime > this.newest) this.newest = f.buildTime;
    this.origin.set(r, f.origin);
    this.commit.set(r, f.commit);
    this.url.set(r, f.url);
    const { name, provides } = f;
    this.append(name, f.version, r, -1);
    if (provides !== undefined) {
      for (let i = 0; i < provides.length; i += 2) {
        if (provides[i] === name) continue;
        if (this.validVersion(provides[i + 1]!)) this.append(provides[i]!, provides[i + 1]!, r, name);
        else this.skip(provides[i]!, provides[i + 1]!);
      }
    }
  }

  /** Whether version `ref` is a valid APK version; each ref is checked once in a row. */
  private validVersion(ref: number): boolean {
    if (ref !== this.checkedVersion) {
      this.checkedVersion = ref;
      const start = this.store.start(ref);
      this.checkedValid = isValidVersionBytes(this.store.block(ref), start, start + this.store.length(ref));
    }
    return this.checkedValid;
  }

  private skip(name: number, version: number): void {
    this.skipped++;
    this.firstSkipped ??= { name: this.names.strings[name]!, version: this.store.latin1(version) };
  }

  finish(
    meta: Omit<IndexSnapshot, 'packages' | 'records' | 'newestBuildTime' | 'skippedVersions' | 'firstSkipped'>,
  ): IndexSnapshot {
    const names = this.names.strings;
    const heads = new Map<string, number>();
    for (const id of this.order) heads.set(names[id]!, this.head[id]! - 1);
    this.store.trim();
    for (const column of [this.version, this.recordOf, this.provider, this.next]) column.trim(this.entries);
    for (const column of [this.buildTime, this.origin, this.commit, this.url]) column.trim(this.count);
    const columns: Columns = {
      names,
      store: this.store,
      version: this.version,
      record: this.recordOf,
      provider: this.provider,
      next: this.next,
      buildTime: this.buildTime,
      origin: this.origin,
      commit: this.commit,
      url: this.url,
    };
    return {
      ...meta,
      records: this.count,
      skippedVersions: this.skipped,
      firstSkipped: this.firstSkipped,
      newestBuildTime: this.newest > 0 ? this.newest : undefined,
      packages: new PackageLists(heads, columns),
    };
  }

  /** Adds a version of a name; a repeat of the name's last version is dropped, unless it replaces a provider. */
  private append(name: number, version: number, record: number, provider: number): void {
    if (name >= this.head.length) {
      this.head = grow(this.head, name + 1);
      this.tail = grow(this.tail, name + 1);
    }
    const last = this.tail[name]! - 1;
    // The parser gives a value repeated from the record before the same ref; a repeat further back costs an entry
    // here and is dropped when the name's list is first read (dedupeSorted).
    if (last >= 0 && this.version.get(last) === version) {
      // The package itself wins over another package that provides its name.
      if (this.provider.get(last) >= 0 && provider < 0) {
        this.version.set(last, version);
        this.recordOf.set(last, record);
        this.provider.set(last, -1);
      }
      return;
    }
    const e = this.entries++;
    this.version.set(e, version);
    this.recordOf.set(e, record);
    this.provider.set(e, provider);
    this.next.set(e, -1);
    if (last >= 0) this.next.set(last, e);
    else {
      this.head[name] = e + 1;
      this.order.push(name);
    }
    this.tail[name] = e + 1;
  }
}

function isOrdered(list: readonly IndexedRelease[]): boolean {
  for (let i = 1; i < list.length; i++) if (byApkOrder(list[i - 1]!, list[i]!) >= 0) return false;
  return true;
}

/** apk order; equal versions spelled differently fall back to the spelling, the real package before a provider. */
export function byApkOrder(a: IndexedRelease, b: IndexedRelease): number {
  return (
    compareVersions(a.version, b.version) ||
    (a.version < b.version ? -1 : a.version > b.version ? 1 : 0) ||
    (a.providedBy === undefined ? 0 : 1) - (b.providedBy === undefined ? 0 : 1)
  );
}

/** Drops repeats of a version string; after byApkOrder the package itself comes before its providers. */
function dedupeSorted(list: IndexedRelease[]): IndexedRelease[] {
  let out = 0;
  for (let i = 0; i < list.length; i++) {
    if (out > 0 && list[out - 1]!.version === list[i]!.version) continue;
    list[out++] = list[i]!;
  }
  list.length = out;
  return list;
}
