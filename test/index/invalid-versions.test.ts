import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readIndexBody } from '../../src/load/load-index.js';
import { resolveLimits } from '../../src/parse/limits.js';
import fc from 'fast-check';
import { isValidVersion, isValidVersionBytes } from '../../src/index/version.js';
import { DependencyIndexReader } from '../../src/index/dependency-index.js';
import { buildIndexArchive } from '../fixtures/apk-repo.js';

const location = { url: 'file:///fixture/x86_64/APKINDEX.tar.gz', arch: 'x86_64', repository: 'fixture' };
const read = (apkindex: string) =>
  readIndexBody(Readable.from([buildIndexArchive({ apkindex })]), location, { keys: [], limits: resolveLimits() });

/** The version of the attack in issue 26: escape sequences that clear a terminal, inside a plausible version. */
const ESCAPES = '1.0\x1b[2J\x1b[H-r0';

describe('a version apk would not accept', () => {
  it('is not a valid APK version by apk_version_validate rules, whatever it looks like', () => {
    for (const bad of [ESCAPES, '1.0 -r0', '1.0-r', '1.0_foo', 'abc', '1..0', '1.0-r0-r1', '-r0', '1.0~', '1.0\n'])
      expect(isValidVersion(bad), JSON.stringify(bad)).toBe(false);
    for (const good of [
      '1.0-r0',
      '2.11.7-r0',
      '1.0_rc1-r2',
      '20241121-r0',
      '1.2.3a_p4_git20240101-r9',
      '1.0~abc123-r0',
    ])
      expect(isValidVersion(good), good).toBe(true);
  });

  it('skips its record: never served, neither under its name nor under the names it provides; counted, the first named', async () => {
    const { snapshot } = await read(
      [
        'P:curl\nV:8.11.0-r0\n',
        `P:curl\nV:${ESCAPES}\np:curl-compat=8.11.1-r0\n`,
        'P:evil\nV:2.0 beta\n',
        'P:bash\nV:5.2.37-r1\np:sh=1.0\\x-r0 bash-compat=5.2.37-r1\n',
      ].join('\n'),
    );
    expect([...snapshot.packages].map(([name, list]) => [name, list.map((r) => r.version)])).toEqual([
      ['curl', ['8.11.0-r0']],
      ['bash', ['5.2.37-r1']],
      ['bash-compat', ['5.2.37-r1']],
    ]);
    expect(snapshot.records).toBe(2);
    // Two records, and the provided sh=1.0\x-r0 of a record that is kept.
    expect(snapshot.skippedVersions).toBe(3);
    expect(snapshot.firstSkipped).toEqual({ name: 'curl', version: ESCAPES });
  });

  it('leaves an index without one alone', async () => {
    const { snapshot } = await read('P:curl\nV:8.11.0-r0\n');
    expect([snapshot.skippedVersions, snapshot.firstSkipped]).toEqual([0, undefined]);
  });
});

describe('the dependency reader of check', () => {
  it('skips the same records', () => {
    const reader = new DependencyIndexReader();
    reader.data(Buffer.from(`P:curl\nV:8.11.0-r0\nD:so:libc.so\n\nP:curl\nV:${ESCAPES}\nD:evil\n`));
    reader.end();
    expect(reader.index!.records.map((r) => `${r.name}=${r.version}`)).toEqual(['curl=8.11.0-r0']);
  });
});

describe('validity read from bytes', () => {
  it('agrees with validity read from the string, for plain versions and anything else', () => {
    const char = fc.constantFrom(...'0123456789.-r_abcpgitvhsl~Z\x1b é'.split(''));
    const version = fc.oneof(
      fc.array(char, { maxLength: 16 }).map((cs) => cs.join('')),
      fc
        .tuple(fc.array(fc.nat(999), { minLength: 1, maxLength: 4 }), fc.option(fc.nat(30)))
        .map(([parts, r]) => `${parts.join('.')}${r === null ? '' : `-r${r}`}`),
    );
    fc.assert(
      fc.property(version, fc.nat(3), (v, pad) => {
        const bytes = Buffer.concat([Buffer.alloc(pad, 0x31), Buffer.from(v, 'latin1'), Buffer.from('-r9')]);
        expect(isValidVersionBytes(bytes, pad, pad + Buffer.byteLength(v, 'latin1'))).toBe(isValidVersion(v));
      }),
      { numRuns: 3000 },
    );
  });
});
