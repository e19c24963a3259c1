import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApkIndexParser, RecordError } from '../../src/parse/apkindex-parser.js';
import { DEFAULT_LIMITS } from '../../src/parse/limits.js';
import type { PackageRecord } from '../../src/parse/package-record.js';
import { reference } from '../reference.js';

function parse(text: string | Buffer, chunkSizes: number[] = [], limits = DEFAULT_LIMITS): PackageRecord[] {
  const out: PackageRecord[] = [];
  const parser = new ApkIndexParser(limits, (r) => out.push(r));
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  let pos = 0;
  let i = 0;
  while (pos < buf.length) {
    const size = chunkSizes.length ? Math.max(1, chunkSizes[i++ % chunkSizes.length]!) : buf.length;
    parser.push(buf.subarray(pos, pos + size));
    pos += size;
  }
  parser.end();
  return out;
}

describe('APKINDEX records', () => {
  const wolfi = readFileSync(reference.wolfiRecords);

  it('reads the real Wolfi records with the fields a version user needs', () => {
    const records = parse(wolfi);
    expect(records.length).toBe(wolfi.toString().trim().split(/\n\n+/).length);
    const stream = records.find((r) => r.name === 'argo-cd-2.11')!;
    expect(stream).toMatchObject({
      version: '2.11.7-r0',
      arch: 'x86_64',
      buildTime: 1721838776,
      origin: 'argo-cd-2.11',
      commit: '4488517a79076dd12d0cc2913b70a8a65182f7d5',
      license: 'Apache-2.0',
      description: 'Declarative continuous deployment for Kubernetes.',
    });
    // p:argo-cd=2.11.7-r0 cmd:argocd=2.11.7-r0: only the unprefixed one names a package.
    expect(stream.provides).toEqual([['argo-cd', '2.11.7-r0']]);
  });

  it('never turns cmd:, so: or pc: provides into package names', () => {
    const records = parse(wolfi);
    for (const r of records) for (const [name] of r.provides ?? []) expect(name).not.toMatch(/:/);
    const argo = records.find((r) => r.name === 'argo-cd' && r.version === '2.7.9-r2')!;
    expect(argo.provides).toBeUndefined();
  });

  it('gives the same records however the stream is chunked', () => {
    const whole = parse(wolfi);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        expect(parse(wolfi, sizes)).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it('treats t:0 and a missing t: as unknown, not 1970', () => {
    const [a, b] = parse('P:a\nV:1-r0\nt:0\n\nP:b\nV:2-r0\n');
    expect(a!.buildTime).toBeUndefined();
    expect(b!.buildTime).toBeUndefined();
  });

  it('accepts an index without a trailing newline, extra blank lines and CRLF', () => {
    expect(parse('P:a\r\nV:1-r0\r\n\r\n\n\nP:b\nV:2-r0').map((r) => `${r.name}=${r.version}`)).toEqual([
      'a=1-r0',
      'b=2-r0',
    ]);
  });

  it('names the line of a malformed line', () => {
    expect(() => parse('P:a\nV:1-r0\nthis is not a field\n')).toThrow(/line 3: expected "X:value"/);
  });

  it('names the record that lacks a name or a version', () => {
    expect(() => parse('P:a\nV:1-r0\n\nP:b\nA:x86_64\n')).toThrow(/record at line 4 has no V:/);
    expect(() => parse('V:1-r0\n')).toThrow(/record at line 1 has no P:/);
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
    expect(parse(text, [], { ...DEFAULT_LIMITS, maxEntries: 11 })).toHaveLength(11);
  });
});
