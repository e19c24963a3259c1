import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { buildIndexArchive, generateFixtureKey, renderApkIndex } from '../fixtures/apk-repo.js';
import { writeTar } from '../fixtures/tar-writer.js';
import { readIndexBody } from '../../src/load/load-index.js';
import { SnapshotBuilder } from '../../src/index/snapshot.js';
import { isValidVersion } from '../../src/index/version.js';
import { ApkIndexParser, RecordError } from '../../src/parse/apkindex-parser.js';
import { resolveLimits } from '../../src/parse/limits.js';
import { parseTrustedKey } from '../../src/load/load-keys.js';

/**
 * Property-based fuzzing of the reader: mutated real indexes, random gzip/tar framing and random record text.
 * The reader may accept or refuse, but only ever with an IndexError, within the limits, and never accepts a
 * signed index whose content was changed. Seeds live in test/data/fuzz-corpus; crashes found become cases below.
 */
const corpusDir = new URL('../data/fuzz-corpus/', import.meta.url);
const melangeKey = parseTrustedKey('melange.rsa.pub', readFileSync(new URL('melange.rsa.pub', corpusDir)), 'corpus');
const fixtureKey = generateFixtureKey('fuzz.rsa.pub');
const trustedFixtureKey = parseTrustedKey(fixtureKey.name, fixtureKey.publicPem, 'fuzz');
const location = { url: 'http://fuzz.test/x86_64/APKINDEX.tar.gz', arch: 'x86_64', repository: 'fuzz' };
const limits = resolveLimits({ maxDecompressedBytes: 4 * 1024 * 1024, maxLineBytes: 64 * 1024, maxEntries: 10_000 });

const seeds: Array<{ name: string; bytes: Buffer; keys: ReturnType<typeof parseTrustedKey>[] }> = [
  ...readdirSync(corpusDir)
    .filter((f) => f.endsWith('.tar.gz'))
    .map((f) => ({ name: f, bytes: readFileSync(new URL(f, corpusDir)), keys: [melangeKey] })),
  {
    name: 'fixture-signed',
    bytes: buildIndexArchive({
      packages: Array.from({ length: 40 }, (_, i) => ({
        name: `pkg${i % 7}`,
        version: `1.${i}.0-r${i % 3}`,
        provides: [`cmd:p${i}=1`, `alias${i % 5}=1.${i}`],
      })),
      sign: [{ key: fixtureKey }],
    }),
    keys: [trustedFixtureKey],
  },
];

type Outcome = { ok: true; records: string } | { ok: false; error: IndexError };

async function outcome(bytes: Buffer, keys: ReturnType<typeof parseTrustedKey>[], chunk = 509): Promise<Outcome> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  try {
    const { snapshot } = await readIndexBody(Readable.from(parts), location, { keys, limits });
    const records = [...snapshot.packages.entries()]
      .map(([n, l]) => `${n}:${l.map((r) => r.version).join(',')}`)
      .join(';');
    return { ok: true, records };
  } catch (err) {
    if (!(err instanceof IndexError))
      throw new Error(`escaped as ${(err as Error)?.constructor?.name}: ${(err as Error)?.stack}`);
    return { ok: false, error: err };
  }
}

describe('fuzzing the index reader', () => {
  for (const seed of seeds) {
    it(`survives byte mutations of ${seed.name}; a signed index is never accepted with other content`, async () => {
      const original = await outcome(seed.bytes, seed.keys);
      expect(original.ok).toBe(true);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
            minLength: 1,
            maxLength: 4,
          }),
          fc.integer({ min: 1, max: 4096 }),
          async (flips, chunk) => {
            const bytes = Buffer.from(seed.bytes);
            for (const { at, value } of flips) bytes[at % bytes.length] = value;
            const result = await outcome(bytes, seed.keys, chunk);
            if (result.ok && original.ok) expect(result.records).toBe(original.records);
          },
        ),
        { numRuns: 150 },
      );
    });

    it(`survives truncation, insertion and duplication of ${seed.name}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 64 }), async (a, b, junk) => {
          const n = seed.bytes.length;
          const cut = seed.bytes.subarray(0, a % n);
          const spliced = Buffer.concat([seed.bytes.subarray(0, a % n), Buffer.from(junk), seed.bytes.subarray(b % n)]);
          for (const bytes of [cut, spliced, Buffer.concat([seed.bytes, seed.bytes])])
            await outcome(bytes, seed.keys, 1 + (b % 700));
        }),
        { numRuns: 120 },
      );
    });
  }

  it('survives random gzip and tar framing', async () => {
    const member = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => gzipSync(Buffer.from(b))),
      fc
        .array(
          fc.record({
            name: fc.constantFrom('APKINDEX', 'DESCRIPTION', '.SIGN.RSA256.fuzz.rsa.pub', '.SIGN.RSA.x', 'other'),
            data: fc.uint8Array({ maxLength: 300 }),
          }),
          { maxLength: 3 },
        )
        .chain((files) =>
          fc.boolean().map((end) =>
            gzipSync(
              writeTar(
                files.map((f) => ({ name: f.name, data: Buffer.from(f.data) })),
                { endBlocks: end },
              ),
            ),
          ),
        ),
      fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(member, { minLength: 1, maxLength: 4 }), fc.boolean(), async (members, withKey) => {
        await outcome(Buffer.concat(members), withKey ? [trustedFixtureKey] : []);
      }),
      { numRuns: 300 },
    );
  });

  it('parses random record text into the served snapshot or a RecordError, nothing else, however it is chunked', () => {
    const line = fc.oneof(
      fc
        .tuple(
          fc.constantFrom('P', 'V', 'A', 't', 'o', 'c', 'U', 'L', 'T', 'p', 'D', 'm', 'Z'),
          fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('a', 'b', '1.0-r0', '2-r1', 'x86_64', 'a=1 b=2', '')),
        )
        .map(([k, v]) => `${k}:${v}`),
      fc.string({ maxLength: 30 }),
      fc.constantFrom('', '\r'),
    );
    const limits = resolveLimits({ maxEntries: 1000, maxLineBytes: 256 });
    /** The production sink, read back as the service reads it: every name, every release, every field. */
    const read = (text: Buffer, chunk: number) => {
      const builder = new SnapshotBuilder();
      const parser = new ApkIndexParser(limits, builder, { arch: 'x86_64' });
      try {
        for (let i = 0; i < text.length; i += chunk) parser.push(Buffer.from(text.subarray(i, i + chunk)));
        parser.end();
      } catch (err) {
        expect(err).toBeInstanceOf(RecordError);
        return `refused: ${(err as RecordError).message}`;
      }
      const snapshot = builder.finish({
        url: 'fuzz',
        arch: 'x86_64',
        repository: 'fuzz',
        description: undefined,
        verifiedBy: undefined,
      });
      for (const [name, list] of snapshot.packages) {
        expect(name.length).toBeGreaterThan(0);
        for (const r of list) expect(isValidVersion(r.version)).toBe(true);
      }
      return JSON.stringify([...snapshot.packages]);
    };
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), fc.integer({ min: 1, max: 64 }), (lines, chunk) => {
        const text = Buffer.from(lines.join('\n'));
        expect(read(text, chunk)).toBe(read(text, text.length || 1));
      }),
      { numRuns: 1000 },
    );
  });

  // Regressions found while fuzzing live here with the bytes that found them.
  it('regression: a data member whose first output chunk is large is not mistaken for a signature member', async () => {
    const big = renderApkIndex(Array.from({ length: 3000 }, (_, i) => ({ name: `p${i}`, version: `1.${i}-r0` })));
    const r = await outcome(
      buildIndexArchive({ apkindex: big, sign: [{ key: fixtureKey }] }),
      [trustedFixtureKey],
      1 << 20,
    );
    expect(r.ok).toBe(true);
  });
});
