import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SnapshotBuilder, type IndexSnapshot } from '../../src/index/snapshot.js';
import { ApkIndexParser, RecordError } from '../../src/parse/apkindex-parser.js';
import { DEFAULT_LIMITS } from '../../src/parse/limits.js';
import { reference } from '../reference.js';

/** Parses into the production sink (the snapshot the service serves), in chunks of the given sizes. */
function parse(text: string | Buffer, chunkSizes: number[] = [], limits = DEFAULT_LIMITS): IndexSnapshot {
  const builder = new SnapshotBuilder();
  const parser = new ApkIndexParser(limits, builder);
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  let pos = 0;
  let i = 0;
  while (pos < buf.length) {
    const size = chunkSizes.length ? Math.max(1, chunkSizes[i++ % chunkSizes.length]!) : buf.length;
    // A copy per chunk: the parser must not keep (or read after the call) the bytes it was handed.
    parser.push(Buffer.from(buf.subarray(pos, pos + size)));
    pos += size;
  }
  parser.end();
  return builder.finish({
    url: 'test',
    arch: builder.firstArch ?? 'noarch',
    repository: 'test',
    description: undefined,
    verifiedBy: undefined,
  });
}

/** Every name with every release and all its fields, as the service would read them. */
const dump = (snapshot: IndexSnapshot) => [...snapshot.packages.entries()].map(([name, list]) => [name, [...list]]);

describe('APKINDEX records', () => {
  const wolfi = readFileSync(reference.wolfiRecords);

  it('reads the real Wolfi records with the fields a version user needs', () => {
    const snapshot = parse(wolfi);
    expect(snapshot.records).toBe(wolfi.toString().trim().split(/\n\n+/).length);
    expect(snapshot.arch).toBe('x86_64');
    expect(snapshot.packages.get('argo-cd-2.11')).toEqual([
      {
        version: '2.11.7-r0',
        buildTime: 1721838776,
        origin: 'argo-cd-2.11',
        commit: '4488517a79076dd12d0cc2913b70a8a65182f7d5',
        url: undefined,
        providedBy: undefined,
      },
    ]);
    // p:argo-cd=2.11.7-r0 cmd:argocd=2.11.7-r0: only the unprefixed one names a package.
    expect(snapshot.packages.get('argo-cd')?.find((r) => r.version === '2.11.7-r0')?.providedBy).toBe('argo-cd-2.11');
  });

  it('never turns cmd:, so: or pc: provides into package names', () => {
    const snapshot = parse(wolfi);
    for (const name of snapshot.packages.keys()) expect(name).not.toMatch(/:/);
    const argo = snapshot.packages.get('argo-cd')!.find((r) => r.version === '2.7.9-r2')!;
    expect(argo.providedBy).toBeUndefined();
  });

  it('gives the same records however the stream is chunked', () => {
    const whole = dump(parse(wolfi));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        expect(dump(parse(wolfi, sizes))).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it('treats t:0 and a missing t: as unknown, not 1970', () => {
    const snapshot = parse('P:a\nV:1-r0\nt:0\n\nP:b\nV:2-r0\n');
    expect(snapshot.packages.get('a')![0]!.buildTime).toBeUndefined();
    expect(snapshot.packages.get('b')![0]!.buildTime).toBeUndefined();
  });

  it('accepts an index without a trailing newline, extra blank lines and CRLF', () => {
    const text = 'P:a\r\nV:1-r0\r\no:a\r\n\r\n\n\nP:a\r\nV:2-r0\r\no:a\r\n\r\nP:b\nV:2-r0';
    for (const sizes of [[], [1], [3], [7]]) {
      const snapshot = parse(text, sizes);
      expect(
        dump(snapshot).map(
          ([n, l]) => `${n as string}=${(l as Array<{ version: string }>).map((r) => r.version).join(',')}`,
        ),
      ).toEqual(['a=1-r0,2-r0', 'b=2-r0']);
      expect(snapshot.packages.get('a')!.map((r) => r.origin)).toEqual(['a', 'a']);
    }
  });

  it('recognises a value repeated from the previous record only when the whole line is that value', () => {
    // Each line starts like the previous record's value, and is longer, shorter or ends differently.
    const text = 'P:ab\nV:1-r0\no:ab\n\nP:abc\nV:1-r0\no:a\n\nP:a\nV:1-r0\no:ab\r\n\nP:ab\nV:2-r0\no:abX\n';
    for (const sizes of [[], [1], [2], [5]]) {
      const snapshot = parse(text, sizes);
      expect(
        [...snapshot.packages].map(([n, l]) => `${n}:${l.map((r) => `${r.version}/${r.origin}`).join(',')}`),
      ).toEqual(['ab:1-r0/ab,2-r0/abX', 'abc:1-r0/a', 'a:1-r0/ab']);
    }
  });

  it('ends a record at a blank line whatever the next line holds, in any chunking (found by the fuzzer)', () => {
    for (const sizes of [[], [1], [4], [5]]) {
      expect(() => parse('P:a\nV:1-r0\n\n:x\n', sizes), `${sizes.join()}`).toThrow(
        /^line 4: expected "X:value", got ":x"$/,
      );
    }
  });

  it('names the line of a malformed line', () => {
    expect(() => parse('P:a\nV:1-r0\nthis is not a field\n')).toThrow(/line 3: expected "X:value"/);
  });

  it('names the record that lacks a name or a version', () => {
    expect(() => parse('P:a\nV:1-r0\n\nP:b\nA:x86_64\n')).toThrow(/record at line 4 has no V:/);
    expect(() => parse('V:1-r0\n')).toThrow(/record at line 1 has no P:/);
    // A name repeated from the previous record, then an empty name: still a record without P:.
    expect(() => parse('P:a\nV:1-r0\n\nP:a\nV:2-r0\n\nP:\nV:3-r0\n')).toThrow(/record at line 7 has no P:/);
  });

  it('refuses a line over the limit, also when it spans chunks', () => {
    const limits = { ...DEFAULT_LIMITS, maxLineBytes: 100 };
    const long = `P:a\nV:1\nD:${'x'.repeat(200)}\n`;
    for (const sizes of [[], [7], [1000]]) {
      const err = (() => {
        try {
          parse(long, sizes, limits);
        } catch (e) {
          return e as RecordError;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(RecordError);
      expect(err!.kind).toBe('limit');
      expect(err!.message).toMatch(/line 3 is longer than the limit of 100 bytes/);
    }
  });

  it('refuses more records than the entry limit', () => {
    const text = Array.from({ length: 11 }, (_, i) => `P:p${i}\nV:1-r0\n`).join('\n');
    expect(() => parse(text, [], { ...DEFAULT_LIMITS, maxEntries: 10 })).toThrow(/more than 10 records/);
    expect(parse(text, [], { ...DEFAULT_LIMITS, maxEntries: 11 }).records).toBe(11);
  });
});
