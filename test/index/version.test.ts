import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/vercmp.js';
import { compareVersions, isPrerelease, isValidVersion, versionSymbol } from '../../src/index/version.js';

/** apk-tools' own test/version.data: "A op B" lines, copied as data. */
const vectors = readFileSync(new URL('../data/version/apk-tools.data', import.meta.url), 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*$/, '').trim())
  .filter(Boolean)
  .map((l) => l.split(/\s+/) as [string, '<' | '=' | '>', string]);

const flip = { '<': '>', '=': '=', '>': '<' } as const;

describe('apk version order', () => {
  it(`agrees with every pair of apk-tools' own test data (${vectors.length} pairs), both ways round`, () => {
    expect(vectors.length).toBeGreaterThan(700);
    const wrong = vectors.filter(([a, op, b]) => versionSymbol(compareVersions(a, b)) !== op || versionSymbol(compareVersions(b, a)) !== flip[op]);
    expect(wrong).toEqual([]);
  });

  it.each([
    ['1.0_rc9', '<', '1.0_rc10'],
    ['1.0_rc10', '<', '1.0'],
    ['1.0', '<', '1.0_p1'],
    ['1.0_p1', '>', '1.0-r1'], // a post-release suffix outranks a revision of the bare version
    ['1.0', '<', '1.0a'],
    ['1.0a', '<', '1.0b'],
    ['1.0_alpha', '<', '1.0_beta'],
    ['1.0_beta', '<', '1.0_pre'],
    ['1.0_pre', '<', '1.0_rc'],
    ['1.0_cvs', '<', '1.0_svn'],
    ['1.0_svn', '<', '1.0_git'],
    ['1.0_git', '<', '1.0_hg'],
    ['1.0_hg', '<', '1.0_p'],
    ['1.0_git20240101', '<', '1.0_git20240102'],
    ['1.0_git20240101', '>', '1.0'],
    ['1.0-r9', '<', '1.0-r10'],
    ['20241120-r5', '<', '20241121-r0'],
    ['1.01', '<', '1.1'],
    ['1.2', '<', '1.2.0'],
    ['1.0~abc123-r0', '<', '1.0~abc124-r0'],
    ['6.6_p20241123-r0', '>', '6.6-r3'],
    ['3.4.0_rc10-r0', '<', '3.4.0-r9'],
    ['99999999999999999999.1', '>', '99999999999999999998.9'],
  ] as const)('%s %s %s', (a, op, b) => {
    expect(versionSymbol(compareVersions(a, b))).toBe(op);
    expect(versionSymbol(compareVersions(b, a))).toBe(flip[op]);
  });

  it('follows apk for invalid versions: the walk stops at the first invalid token', () => {
    expect(versionSymbol(compareVersions('1.0', '1.0bc'))).toBe('<'); // from apk-tools' data
    expect(versionSymbol(compareVersions('23_foo', '4_beta'))).toBe('>');
    expect(versionSymbol(compareVersions('1.0-foo', '1.0-bar'))).toBe('=');
    expect(versionSymbol(compareVersions('abc', 'abd'))).toBe('=');
  });

  it('validates like apk_version_validate', () => {
    for (const v of ['1', '1.0', '1.0a', '1.0_rc1', '1.0_rc1_p2', '1.0-r0', '1.0~a1b2-r3', '20241121-r0']) expect(isValidVersion(v)).toBe(true);
    for (const v of ['', 'a1', '1.', '1.0-', '1.0-r', '1.0_foo', '1.0-r1a', '1..0', '1.0 ', 'v1.0']) expect(isValidVersion(v)).toBe(false);
  });

  it('calls only _alpha, _beta, _pre and _rc pre-releases', () => {
    expect(['1.0_alpha', '1.0_beta2', '1.0_pre1-r0', '1.0_rc1-r3'].every(isPrerelease)).toBe(true);
    expect(['1.0', '1.0_p1', '1.0_git2024', '1.0-r1', '1.0a', '1.0_rcx'].some(isPrerelease)).toBe(false);
  });

  const part = fc.oneof(
    fc.nat({ max: 30 }).map(String),
    fc.constantFrom('0', '00', '01', '007', '10', '20241121'),
  );
  const version = fc
    .record({
      parts: fc.array(part, { minLength: 1, maxLength: 4 }),
      letter: fc.option(fc.constantFrom('a', 'b', 'z'), { nil: undefined }),
      suffixes: fc.array(
        fc.record({ s: fc.constantFrom('alpha', 'beta', 'pre', 'rc', 'cvs', 'svn', 'git', 'hg', 'p'), n: fc.option(fc.nat({ max: 12 }), { nil: undefined }) }),
        { maxLength: 2 },
      ),
      rev: fc.option(fc.nat({ max: 12 }), { nil: undefined }),
    })
    .map(({ parts, letter, suffixes, rev }) => {
      const [first, ...rest] = parts;
      return (
        first!.replace(/^0+(?=\d)/, '') +
        rest.map((p) => `.${p}`).join('') +
        (letter ?? '') +
        suffixes.map(({ s, n }) => `_${s}${n ?? ''}`).join('') +
        (rev === undefined ? '' : `-r${rev}`)
      );
    });

  it('is a total order on well-formed versions (reflexive, antisymmetric, transitive)', () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(isValidVersion(a)).toBe(true);
        expect(compareVersions(a, a)).toBe(0);
        expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('sorts consistently: sorting a shuffled list gives the same order', () => {
    fc.assert(
      fc.property(fc.array(version, { minLength: 2, maxLength: 40 }), (list) => {
        const sorted = [...list].sort(compareVersions);
        const again = [...sorted].reverse().sort(compareVersions);
        expect(again.map((v, i) => compareVersions(v, sorted[i]!))).toEqual(again.map(() => 0));
        for (let i = 1; i < sorted.length; i++) expect(compareVersions(sorted[i - 1]!, sorted[i]!)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('apk-indexer vercmp', () => {
  async function vercmp(args: string[], input = '') {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d) => (out += d));
    stderr.on('data', (d) => (err += d));
    const code = await run(args, { stdin: Readable.from([input]), stdout, stderr });
    return { code, out, err };
  }

  it('answers one line per pair, like apk version -t', async () => {
    const input = vectors.map(([a, , b]) => `${a} ${b}`).join('\n');
    const r = await vercmp([], input);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toEqual(vectors.map(([, op]) => op));
  });

  it('keeps answers aligned and exits 2 on a malformed line', async () => {
    const r = await vercmp([], '1.0 1.1\n\nonly-one\n# comment\n2.0 1.0\n');
    expect(r.out).toBe('<\n?\n>\n');
    expect(r.err).toMatch(/line 3: expected "A B"/);
    expect(r.code).toBe(2);
  });

  it('compares a pair given as arguments', async () => {
    expect((await vercmp(['1.0_rc1', '1.0'])).out).toBe('<\n');
    expect((await vercmp(['1.0'])).code).toBe(2);
  });
});
