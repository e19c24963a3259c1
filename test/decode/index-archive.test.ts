import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import {
  buildIndexArchive,
  generateFixtureKey,
  indexDataMember,
  renderApkIndex,
  signatureMember,
} from '../fixtures/apk-repo.js';
import { writeTar } from '../fixtures/tar-writer.js';
import { readIndexArchive } from '../../src/decode/index-archive.js';
import { readIndexBody } from '../../src/load/load-index.js';
import { RecordError } from '../../src/parse/record-error.js';
import { resolveLimits, type ReadLimits } from '../../src/parse/limits.js';
import { parseTrustedKey } from '../../src/load/load-keys.js';
import type { TrustedKey } from '../../src/decode/signature.js';
import { reference } from '../reference.js';

const location = { url: 'file:///fixture/x86_64/APKINDEX.tar.gz', arch: 'x86_64', repository: 'fixture' };
const signer = generateFixtureKey('signer.rsa.pub');
const other = generateFixtureKey('other.rsa.pub');
const trusted = (k: typeof signer, name = k.name): TrustedKey => parseTrustedKey(name, k.publicPem, name);
const packages = [
  { name: 'bash', version: '5.2.21-r0' },
  { name: 'bash', version: '5.2.37-r1' },
  { name: 'curl', version: '8.11.0-r0' },
];

function chunks(buf: Buffer, size = 97): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function read(buf: Buffer, keys: TrustedKey[] = [], limits: Partial<ReadLimits> = {}, size?: number) {
  return readIndexBody(chunks(buf, size), location, { keys, limits: resolveLimits(limits) });
}

async function failure(promise: Promise<unknown>): Promise<IndexError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(IndexError);
    return err as IndexError;
  }
  throw new Error('expected the read to fail');
}

describe('reading APKINDEX.tar.gz', () => {
  it('reads the real melange-built repository and verifies it with its key', async () => {
    const key = parseTrustedKey('melange.rsa.pub', readFileSync(reference.melangeKey), reference.melangeKey);
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const { snapshot } = await readIndexBody(
        Readable.from([readFileSync(reference.melangeIndex(arch))]),
        { ...location, arch },
        {
          keys: [key],
          limits: resolveLimits(),
        },
      );
      expect(snapshot.verifiedBy).toBe('melange.rsa.pub');
      expect(snapshot.packages.get('pretend-baselayout')?.map((r) => r.version)).toEqual(['1.0.0-r0']);
      // t:0 in melange output is an unknown time, never 1970.
      expect(snapshot.packages.get('pretend-baselayout')?.[0]?.buildTime).toBeUndefined();
    }
  });

  it('refuses the real index when the trusted key has its name but other bits', async () => {
    const impostor = trusted(other, 'melange.rsa.pub');
    const err = await failure(
      readIndexBody(Readable.from([readFileSync(reference.melangeIndex('x86_64'))]), location, {
        keys: [impostor],
        limits: resolveLimits(),
      }),
    );
    expect(err.reason).toBe('signature');
    expect(err.message).toMatch(/signature by melange\.rsa\.pub does not match/);
  });

  it('accepts SHA-256 and SHA-1 signatures, in any chunking', async () => {
    for (const digest of ['sha256', 'sha1'] as const) {
      const archive = buildIndexArchive({ packages, sign: [{ key: signer, digest }] });
      for (const size of [1, 13, 512, 1 << 20]) {
        const { snapshot } = await read(archive, [trusted(signer)], {}, size);
        expect(snapshot.verifiedBy).toBe('signer.rsa.pub');
        expect(snapshot.packages.get('bash')?.map((r) => r.version)).toEqual(['5.2.21-r0', '5.2.37-r1']);
      }
    }
  });

  it('accepts an index signed by several keys when one of them is trusted (key rotation)', async () => {
    const archive = buildIndexArchive({ packages, sign: [{ key: other }, { key: signer }] });
    const { snapshot } = await read(archive, [trusted(signer)]);
    expect(snapshot.verifiedBy).toBe('signer.rsa.pub');
    // The signature by the untrusted key comes first and is passed over.
    expect(
      (await read(buildIndexArchive({ packages, sign: [{ key: signer }, { key: other }] }), [trusted(other)])).snapshot
        .verifiedBy,
    ).toBe('other.rsa.pub');
  });

  it('accepts an unverified index when no keys are configured, and says so', async () => {
    const { snapshot } = await read(buildIndexArchive({ packages }));
    expect(snapshot.verifiedBy).toBeUndefined();
    expect(snapshot.records).toBe(3);
  });

  it('refuses an unsigned index when keys are configured', async () => {
    const err = await failure(read(buildIndexArchive({ packages }), [trusted(signer)]));
    expect(err.reason).toBe('signature');
    expect(err.message).toContain('file:///fixture/x86_64/APKINDEX.tar.gz');
    expect(err.message).toMatch(/not signed/);
  });

  it('refuses an index signed only by keys it does not trust', async () => {
    const err = await failure(read(buildIndexArchive({ packages, sign: [{ key: other }] }), [trusted(signer)]));
    expect(err.message).toMatch(
      /signed by other\.rsa\.pub, none of which is a trusted key \(trusted: signer\.rsa\.pub\)/,
    );
  });

  it('refuses a tampered index whose signature no longer matches', async () => {
    const data = indexDataMember(renderApkIndex(packages));
    const forged = indexDataMember(renderApkIndex([...packages, { name: 'bash', version: '9.9-r0' }]));
    const archive = Buffer.concat([signatureMember(data, { key: signer }), forged]);
    const err = await failure(read(archive, [trusted(signer)]));
    expect(err.reason).toBe('signature');
    expect(err.message).toMatch(/does not match the index/);
  });

  it('reports a flipped byte in the compressed data as corrupt', async () => {
    const archive = buildIndexArchive({
      packages: Array.from({ length: 200 }, (_, i) => ({ name: `p${i}`, version: `1.${i}-r0` })),
    });
    const bad = Buffer.from(archive);
    bad[Math.floor(bad.length / 2)]! ^= 0x55;
    const err = await failure(read(bad));
    expect(['gzip', 'tar', 'format']).toContain(err.reason);
  });

  it('reports a file cut short at any point, without hanging', async () => {
    const archive = buildIndexArchive({ packages, sign: [{ key: signer }] });
    for (const cut of [1, 9, 30, 200, archive.length - 300, archive.length - 9, archive.length - 1]) {
      // With keys, a cut inside the signed member fails its signature before anything of it is inflated.
      const err = await failure(read(archive.subarray(0, cut), [trusted(signer)]));
      expect(err.message).toContain('APKINDEX.tar.gz');
      expect(['gzip', 'tar', 'format', 'signature']).toContain(err.reason);
      const unverified = await failure(read(archive.subarray(0, cut)));
      expect(['gzip', 'tar', 'format']).toContain(unverified.reason);
    }
  });

  it('reports a corrupt tar', async () => {
    const tar = writeTar([{ name: 'APKINDEX', data: Buffer.from(renderApkIndex(packages)) }]);
    tar.write('garbage!', 148, 'latin1'); // breaks the header checksum
    const err = await failure(read(gzipSync(tar)));
    expect(err.reason).toBe('tar');
  });

  it('reports an archive without an APKINDEX member', async () => {
    const err = await failure(read(gzipSync(writeTar([{ name: 'DESCRIPTION', data: Buffer.from('x') }]))));
    expect(err.reason).toBe('format');
    expect(err.message).toMatch(/no APKINDEX member/);
  });

  it('reports a file that is not gzip at all, and bytes after the last member', async () => {
    expect((await failure(read(Buffer.from('<html>not found</html>')))).message).toMatch(/not a gzip file/);
    const archive = buildIndexArchive({ packages });
    expect((await failure(read(Buffer.concat([archive, Buffer.from('trailing junk')])))).message).toMatch(
      /not a gzip member/,
    );
    expect((await failure(read(Buffer.alloc(0)))).message).toMatch(/empty/);
  });

  it('stops a decompression bomb at the size limit', async () => {
    const apkindex = Buffer.alloc(8 * 1024 * 1024, 0x61); // compresses ~1000:1
    const archive = gzipSync(writeTar([{ name: 'APKINDEX', data: apkindex }]));
    const err = await failure(read(archive, [], { maxDecompressedBytes: 1024 * 1024 }));
    expect(err.reason).toBe('limit');
    expect(err.message).toMatch(/more than 1048576 bytes/);
  });

  it('names the source and line of a malformed record', async () => {
    const err = await failure(read(buildIndexArchive({ apkindex: 'P:a\nV:1-r0\n\nP:b\nbroken\n' })));
    expect(err.reason).toBe('format');
    expect(err.message).toBe(
      'file:///fixture/x86_64/APKINDEX.tar.gz: APKINDEX line 5: expected "X:value", got "broken"',
    );
  });

  it('reads DESCRIPTION', async () => {
    const { snapshot } = await read(buildIndexArchive({ packages, description: 'v20241122-1234-gabcdef' }));
    expect(snapshot.description).toBe('v20241122-1234-gabcdef');
  });
});

describe('reading APKINDEX.tar.gz, endless input', () => {
  it('stops an endless run of empty gzip members at the member limit', async () => {
    const archive = buildIndexArchive({ packages });
    const empty = gzipSync(Buffer.alloc(0));
    const err = await failure(read(Buffer.concat([archive, ...Array.from({ length: 100 }, () => empty)])));
    expect(err.reason).toBe('limit');
    expect(err.message).toMatch(/more than 32 gzip members/);
  });
});

describe('errors of the APKINDEX parser', () => {
  it('pass through the decoder unchanged: the errors of a sink are for its caller to name', async () => {
    const thrown = new RecordError('limit', 'more than 1 records (the entry limit)');
    const err = await readIndexArchive(Readable.from([buildIndexArchive({ packages })]), {
      source: 'https://repo.test/os/x86_64/APKINDEX.tar.gz',
      keys: [],
      limits: resolveLimits(),
      sink: {
        data: () => {
          throw thrown;
        },
        end: () => undefined,
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(thrown);
  });

  it('become IndexErrors once in the loader, with "APKINDEX" and the RecordError as cause', async () => {
    const err = await failure(
      readIndexBody(
        Readable.from([buildIndexArchive({ packages })]),
        { ...location, url: 'https://repo.test/os/x86_64/APKINDEX.tar.gz' },
        { keys: [], limits: resolveLimits({ maxEntries: 1 }) },
      ),
    );
    expect(err.reason).toBe('limit');
    expect(err.message).toBe(
      'https://repo.test/os/x86_64/APKINDEX.tar.gz: APKINDEX more than 1 records (the entry limit)',
    );
    expect(err.cause).toBeInstanceOf(RecordError);
  });

  it('name the limit that stopped a read', async () => {
    const err = await failure(read(buildIndexArchive({ packages }), [], { maxEntries: 2 }));
    expect(err.reason).toBe('limit');
    expect(err.message).toBe('file:///fixture/x86_64/APKINDEX.tar.gz: APKINDEX more than 2 records (the entry limit)');
    expect(err.cause).toBeInstanceOf(RecordError);
  });
});
