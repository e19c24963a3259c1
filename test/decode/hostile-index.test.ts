import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { buildIndexArchive, generateFixtureKey, indexDataMember, signatureMember } from '../fixtures/apk-repo.js';
import { manyProvides, middleDifferingNames, renderLarge } from '../fixtures/hostile-index.js';
import { readIndexBody } from '../../src/load/load-index.js';
import { resolveLimits, type ReadLimits } from '../../src/parse/limits.js';
import { parseTrustedKey } from '../../src/load/load-keys.js';

const location = { url: 'file:///hostile/x86_64/APKINDEX.tar.gz', arch: 'x86_64', repository: 'hostile' };
const signer = generateFixtureKey('signer.rsa.pub');
const stranger = generateFixtureKey('signer.rsa.pub'); // same file name, other bits
const trusted = [parseTrustedKey(signer.name, signer.publicPem, signer.name)];

const read = (archive: Buffer, keys = trusted, limits: Partial<ReadLimits> = {}) =>
  readIndexBody(Readable.from([archive]), location, { keys, limits: resolveLimits(limits) });

async function failure(promise: Promise<unknown>): Promise<IndexError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(IndexError);
    return err as IndexError;
  }
  throw new Error('expected the read to fail');
}

/** A data member whose APKINDEX would fail to parse at its first line: reaching the parser shows as `format`. */
const unparsable = indexDataMember('this is not an APKINDEX line\n');

describe('with keys configured, an index is verified before anything of its data is parsed', () => {
  it('refuses an unsigned index as unsigned, not as the malformed text it holds', async () => {
    const err = await failure(read(unparsable));
    expect(err.reason).toBe('signature');
    expect(err.message).toContain('not signed');
  });

  it('refuses an index signed by a foreign key of the trusted name before inflating its bomb', async () => {
    // 64 MiB of zeros compress to ~64 KiB; the limit is 1 MiB: inflating it would say `limit`.
    const bomb = indexDataMember(Buffer.alloc(64 * 1024 * 1024));
    const err = await failure(
      read(Buffer.concat([signatureMember(bomb, { key: stranger }), bomb]), trusted, {
        maxDecompressedBytes: 1024 * 1024,
      }),
    );
    expect(err.reason).toBe('signature');
    expect(err.message).toContain('does not match');
  });

  it('refuses a tampered data member by its signature, not by its broken text', async () => {
    const good = indexDataMember('P:a\nV:1-r0\n');
    const signature = signatureMember(good, { key: signer });
    const err = await failure(read(Buffer.concat([signature, unparsable])));
    expect(err.reason).toBe('signature');
  });

  it('bounds what it holds before verifying, and any download without keys: the compressed size limit', async () => {
    const archive = buildIndexArchive({ packages: manyProvides(2_000, 1), sign: [{ key: signer }] });
    const err = await failure(read(archive, trusted, { maxCompressedBytes: 4096 }));
    expect(err.reason).toBe('limit');
    expect(err.message).toContain('compressed size limit');
    const ok = await read(archive, trusted, { maxCompressedBytes: archive.length });
    expect(ok.snapshot.records).toBe(2_000);
    expect(ok.snapshot.verifiedBy).toBe(signer.name);
    const unverified = await failure(read(archive, [], { maxCompressedBytes: 4096 }));
    expect(unverified.reason).toBe('limit');
  });

  it('refuses an unsigned or foreign-signed index after its signature members, not after its whole download', async () => {
    const endless = (head: Buffer) => {
      const state = { pulled: 0 };
      const body = (async function* () {
        state.pulled += head.length;
        yield head;
        const junk = Buffer.alloc(64 * 1024, 0x41);
        for (;;) {
          state.pulled += junk.length;
          yield junk;
        }
      })();
      return { state, body };
    };
    const foreign = generateFixtureKey('foreign.rsa.pub');
    for (const head of [unparsable, Buffer.concat([signatureMember(unparsable, { key: foreign }), unparsable])]) {
      const { state, body } = endless(head);
      const err = await failure(readIndexBody(body, location, { keys: trusted, limits: resolveLimits() }));
      expect(err.reason).toBe('signature');
      expect(state.pulled).toBeLessThan(1024 * 1024);
    }
  });

  it('keeps the verified file in the chunks it arrived in, hashed as they came, never joined', async () => {
    const archive = buildIndexArchive({ packages: manyProvides(500, 1), sign: [{ key: signer }] });
    const chunks: Buffer[] = [];
    for (let at = 0; at < archive.length; at += 1000) chunks.push(archive.subarray(at, at + 1000));
    const { archive: kept, snapshot } = await readIndexBody(Readable.from(chunks), location, {
      keys: trusted,
      limits: resolveLimits(),
    });
    expect(snapshot.records).toBe(500);
    expect(kept).toHaveLength(chunks.length);
    kept!.forEach((chunk, i) => expect(chunk).toBe(chunks[i]));
  });

  it('still reads a validly signed index, several signatures and SHA-1 included', async () => {
    const other = generateFixtureKey('other.rsa.pub');
    const archive = buildIndexArchive({
      packages: [{ name: 'a', version: '1-r0' }],
      sign: [{ key: other }, { key: signer, digest: 'sha1' }],
    });
    const { snapshot } = await read(archive);
    expect(snapshot.verifiedBy).toBe(signer.name);
    expect(snapshot.packages.get('a')?.map((r) => r.version)).toEqual(['1-r0']);
  });
});

describe('an index is bounded in what it creates, not only in records', () => {
  const unsigned = (packages: ReturnType<typeof manyProvides>) =>
    buildIndexArchive({ apkindex: renderLarge(packages) });

  it('refuses more distinct names than the names limit, provided names included', async () => {
    const archive = unsigned(manyProvides(200, 10)); // 2,200 names
    const err = await failure(read(archive, [], { maxNames: 1_000 }));
    expect(err.reason).toBe('limit');
    expect(err.message).toContain('more than 1000 distinct package names');
    expect((await read(archive, [], { maxNames: 2_200 })).snapshot.packages.size).toBe(2_200);
  });

  it('refuses a record with more provides than the per-record limit, and more provides in all than the total', async () => {
    const archive = unsigned(manyProvides(100, 20));
    expect((await failure(read(archive, [], { maxProvidesPerRecord: 19 }))).message).toContain(
      'provides more than 19 names',
    );
    expect((await failure(read(archive, [], { maxProvides: 1_999 }))).message).toContain('more than 1999 provides');
    expect((await read(archive, [], { maxProvidesPerRecord: 20, maxProvides: 2_000 })).snapshot.records).toBe(100);
  });

  it('refuses a package name longer than 255 bytes, as a name or as a provided name; 255 is read', async () => {
    const at = (length: number) => 'n'.repeat(length);
    for (const apkindex of [`P:${at(256)}\nV:1-r0\n`, `P:a\nV:1-r0\np:${at(256)}=1-r0\n`]) {
      const err = await failure(read(buildIndexArchive({ apkindex }), []));
      expect(err.reason).toBe('limit');
      expect(err.message).toContain('a package name longer than 255 bytes (the name length limit)');
    }
    const { snapshot } = await read(buildIndexArchive({ apkindex: `P:${at(255)}\nV:1-r0\n` }), []);
    expect(snapshot.packages.has(at(255))).toBe(true);
  });

  it('hashes whole names: 40,000 names that differ only in the middle load as 40,000 names', async () => {
    const { snapshot } = await read(unsigned(middleDifferingNames(40_000)), []);
    expect(snapshot.packages.size).toBe(40_000);
    expect(snapshot.packages.get(middleDifferingNames(40_000)[12_345]!.name)?.[0]?.version).toBe('1.0-r0');
  }, 20_000);
});
