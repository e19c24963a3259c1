import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  isPrerelease,
  isValidVersion,
  versionSymbol,
  type Ordering,
} from '../../src/index/version.js';
import { capture, command } from '../helpers/command.js';

const run = command('vercmp');

type Op = '<' | '=' | '>';
type Pair = { line: number; a: string; op: Op; b: string };
type Validity = { line: number; version: string; valid: boolean };

/**
 * Reads apk-tools' version.data format (as its test/unit/version_test.c does): `A op B` is a comparison,
 * `A !op B` its negation, `V` says V is valid and `!V` that it is not; `#` starts a comment. Ops with `~`
 * test fuzzy dependency matching (`apk add 'foo~3.6'`), which `apk version -t` does not do: counted, not run.
 */
function readData(file: string) {
  const pairs: Pair[] = [];
  const validity: Validity[] = [];
  let fuzzy = 0;
  readFileSync(new URL(`../data/version/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const text = raw.replace(/#.*$/, '').trim();
      if (!text) return;
      const fields = text.split(/\s+/);
      if (fields.length === 3) {
        const [a, op, b] = fields as [string, string, string];
        if (op.includes('~')) fuzzy++;
        else if (op === '<' || op === '=' || op === '>') pairs.push({ line: i + 1, a, op, b });
        else throw new Error(`${file}:${i + 1}: unexpected operator ${op}`);
      } else if (fields.length === 1) {
        const v = fields[0]!;
        validity.push({ line: i + 1, version: v.replace(/^!/, ''), valid: !v.startsWith('!') });
      } else {
        throw new Error(`${file}:${i + 1}: cannot read ${JSON.stringify(raw)}`);
      }
    });
  return { pairs, validity, fuzzy };
}

/**
 * apk-tools.data is apk-tools' own test data, copied byte for byte: test/version.data (its first 733 lines,
 * as in alpinelinux/apk-tools) followed by the lines that apk 3's test/unit/version.data adds.
 */
const upstream = readData('apk-tools.data');
const edge = readData('edge-cases.data');

const sym = (a: string, b: string) => versionSymbol(compareVersions(a, b));
const flip = { '<': '>', '=': '=', '>': '<' } as const;
const failures = (pairs: Pair[]) =>
  pairs
    .filter(({ a, op, b }) => sym(a, b) !== op || sym(b, a) !== flip[op])
    .map((p) => `line ${p.line}: ${p.a} ${p.op} ${p.b}, got ${sym(p.a, p.b)}`);
const validityFailures = (list: Validity[]) =>
  list
    .filter((v) => isValidVersion(v.version) !== v.valid)
    .map((v) => `line ${v.line}: ${v.valid ? '' : '!'}${v.version}`);

describe("apk-tools' own test data", () => {
  it('has every comparison, validity line and fuzzy line', () => {
    expect(upstream.pairs).toHaveLength(738);
    expect(upstream.validity).toHaveLength(31);
    expect(upstream.fuzzy).toBe(16);
  });

  it('agrees on every comparison, both ways round (antisymmetry)', () => {
    expect(failures(upstream.pairs)).toEqual([]);
  });

  it('agrees on every validity line', () => {
    expect(validityFailures(upstream.validity)).toEqual([]);
  });
});

describe('edge cases (test/data/version/edge-cases.data)', () => {
  it('orders every pair as apk does, both ways round', () => {
    expect(edge.pairs.length).toBeGreaterThan(60);
    expect(failures(edge.pairs)).toEqual([]);
  });

  it('validates as apk_version_validate does', () => {
    expect(validityFailures(edge.validity)).toEqual([]);
  });

  it.each([
    ['1.0_rc9', '<', '1.0_rc10'],
    ['1.0_p1', '>', '1.0'],
    ['1.0a', '>', '1.0'],
    ['1.0_git20240101', '>', '1.0'],
    ['1.0_git20240101', '<', '1.0.1'],
    ['20241121-r0', '>', '20241120-r9'],
    ['1.0-r10', '>', '1.0-r9'],
  ] as const)('%s %s %s', (a, op, b) => {
    expect(sym(a, b)).toBe(op);
    expect(sym(b, a)).toBe(flip[op]);
  });

  it('compares strings that cannot be written in a data file like apk', () => {
    expect(sym('', '')).toBe('=');
    expect(sym('', '0')).toBe('<'); // invalid at once, below anything that starts with a number
    expect(sym('1.0 ', '1.0')).toBe('<'); // trailing garbage
    expect(isValidVersion('')).toBe(false);
    expect(isValidVersion('1.0 ')).toBe(false);
    expect(isValidVersion(' 1.0')).toBe(false);
  });

  it('reads non-ASCII as apk reads UTF-8 bytes: part of a suffix or hash span', () => {
    expect(isValidVersion('1.0~abé')).toBe(true); // apk's hex span lets bytes >= 0x80 through
    expect(isValidVersion('1.0_rcé')).toBe(false);
    expect(sym('1.0_rcé', '1.0_rc')).toBe('>'); // the whole suffix "rcé" is invalid, not "rc" then garbage
    expect(sym('1.0~a😀', '1.0~a\uE000')).toBe('>'); // byte order of UTF-8, not UTF-16 code units
  });
});

describe('isPrerelease and versionSymbol', () => {
  it('calls only _alpha, _beta, _pre and _rc pre-releases', () => {
    for (const v of ['1.0_alpha', '1.0_beta2', '1.0_pre1-r0', '1.0_rc1-r3', '1.0_p1_rc1', '1.0_rc1~abc'])
      expect(isPrerelease(v)).toBe(true);
    for (const v of ['1.0', '1.0_p1', '1.0_git2024', '1.0-r1', '1.0a', '1.0_rcx', 'rc', '1.0~abc', ''])
      expect(isPrerelease(v)).toBe(false);
  });

  it('maps orderings to apk version -t symbols', () => {
    expect([-1, 0, 1].map((o) => versionSymbol(o as Ordering))).toEqual(['<', '=', '>']);
  });
});

describe('properties', () => {
  const number = fc.oneof(
    fc.nat({ max: 30 }).map(String),
    fc.constantFrom('0', '10', '20241121', '18446744073709551617'),
  );
  const later = fc.oneof(number, fc.constantFrom('00', '01', '007', '010'));
  const suffix = fc.record({
    name: fc.constantFrom('alpha', 'beta', 'pre', 'rc', 'cvs', 'svn', 'git', 'hg', 'p'),
    n: fc.option(fc.oneof(fc.nat({ max: 12 }), fc.constant(20240101)), { nil: undefined }),
  });
  /** Random well-formed versions: every token kind apk knows. */
  const version = fc
    .record({
      first: number,
      rest: fc.array(later, { maxLength: 3 }),
      letter: fc.option(fc.constantFrom('a', 'b', 'z'), { nil: undefined }),
      suffixes: fc.array(suffix, { maxLength: 2 }),
      hash: fc.option(fc.constantFrom('abc', 'abd', '0f', 'ABC'), { nil: undefined }),
      rev: fc.option(fc.nat({ max: 12 }), { nil: undefined }),
    })
    .map(
      ({ first, rest, letter, suffixes, hash, rev }) =>
        first +
        rest.map((p) => `.${p}`).join('') +
        (letter ?? '') +
        suffixes.map(({ name, n }) => `_${name}${n ?? ''}`).join('') +
        (hash === undefined ? '' : `~${hash}`) +
        (rev === undefined ? '' : `-r${rev}`),
    );
  /** Anything made of version characters and a little garbage: apk orders these too. */
  const anything = fc.oneof(
    version,
    fc
      .array(fc.constantFrom('1', '0', '.', 'a', 'r', '_', 'rc', 'p', '-', '-r', '~', 'f', 'x', 'é'), { maxLength: 8 })
      .map((p) => p.join('')),
  );

  it('is a total order on well-formed versions: reflexive, antisymmetric, transitive', () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(isValidVersion(a)).toBe(true);
        expect(compareVersions(a, a)).toBe(0);
        expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0)
          expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
        if (compareVersions(a, b) === 0 && compareVersions(b, c) === 0) expect(compareVersions(a, c)).toBe(0);
      }),
      { numRuns: 5000 },
    );
  });

  it('is antisymmetric even on invalid strings, as apk is', () => {
    fc.assert(
      fc.property(anything, anything, (a, b) => {
        expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
        expect(compareVersions(a, a)).toBe(0);
      }),
      { numRuns: 5000 },
    );
  });

  it('sorts consistently: every pair of a sorted list is in order, whatever order it came in', () => {
    fc.assert(
      fc.property(fc.array(version, { minLength: 2, maxLength: 40 }), (list) => {
        const sorted = [...list].sort(compareVersions);
        const again = [...sorted].reverse().sort(compareVersions);
        expect(again.map((v, i) => compareVersions(v, sorted[i]!))).toEqual(again.map(() => 0));
        for (let i = 0; i < sorted.length; i++)
          for (let j = i + 1; j < sorted.length; j++)
            expect(compareVersions(sorted[i]!, sorted[j]!)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it('orders dotted numbers without leading zeros component by component, the longer one last', () => {
    const nums = fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(nums, nums, (x, y) => {
        let expected = 0;
        for (let i = 0; i < Math.min(x.length, y.length) && expected === 0; i++) expected = Math.sign(x[i]! - y[i]!);
        if (expected === 0) expected = Math.sign(x.length - y.length);
        expect(compareVersions(x.join('.'), y.join('.'))).toBe(expected);
      }),
    );
  });

  it('reads numbers into a wrapping uint64, as apk does', () => {
    const digits = fc.array(fc.constantFrom(...'0123456789'), { minLength: 1, maxLength: 30 }).map((d) => d.join(''));
    fc.assert(
      fc.property(digits, digits, (x, y) => {
        const wx = BigInt.asUintN(64, BigInt(x));
        const wy = BigInt.asUintN(64, BigInt(y));
        expect(compareVersions(x, y)).toBe(wx < wy ? -1 : wx > wy ? 1 : 0);
        expect(compareVersions(`1_p${x}`, `1_p${y}`)).toBe(wx < wy ? -1 : wx > wy ? 1 : 0);
      }),
    );
  });

  it('puts suffixes and revisions where apk does around a release', () => {
    const order = ['_alpha', '_beta', '_pre', '_rc', '', '_cvs', '_svn', '_git', '_hg', '_p'];
    fc.assert(
      fc.property(
        version.filter((v) => /^[\d.]+[a-z]?$/.test(v)),
        fc.nat({ max: 50 }),
        (release, r) => {
          const chain = order.map((s) => release + s);
          for (let i = 1; i < chain.length; i++) expect(sym(chain[i - 1]!, chain[i]!)).toBe('<');
          expect(sym(`${release}-r${r}`, `${release}-r${r + 1}`)).toBe('<');
          expect(sym(`${release}_rc${r}`, `${release}_rc${r + 1}`)).toBe('<');
          expect(sym(release, `${release}-r${r}`)).toBe('<');
          expect(sym(`${release}_rc${r}-r9`, release)).toBe('<');
        },
      ),
    );
  });
});

describe('apk-indexer vercmp', () => {
  const vercmp = (args: string[], input = '') => capture(run, args, input);

  it("answers one line per pair, like apk version -t, for all of apk-tools' pairs", async () => {
    // apk-tools' data also orders invalid versions (its comparator does); `apk version -t` refuses those pairs.
    const valid = upstream.pairs.filter(({ a, b }) => isValidVersion(a) && isValidVersion(b));
    expect(valid.length).toBeGreaterThan(700);
    const r = await vercmp([], valid.map(({ a, b }) => `${a} ${b}`).join('\n'));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(valid.map(({ op }) => `${op}\n`).join(''));
    const invalid = upstream.pairs.filter((p) => !valid.includes(p));
    expect(invalid.length).toBeGreaterThan(0);
    const refused = await vercmp([], invalid.map(({ a, b }) => `${a} ${b}`).join('\n'));
    expect(refused.out).toBe('?\n'.repeat(invalid.length));
    expect(refused.err.trimEnd().split('\n')).toHaveLength(invalid.length);
    expect(refused.code).toBe(2);
  });

  it('skips blank lines and comments, accepts tabs and CRLF', async () => {
    const r = await vercmp([], '# header\r\n1.0\t1.1\r\n\r\n   \n2.0  1.0 # trailing\n1.0-r0 1.0-r00');
    expect(r).toEqual({ code: 0, out: '<\n>\n=\n', err: '' });
  });

  it('answers "?" for a malformed line, names its line on stderr and exits 2', async () => {
    const r = await vercmp([], '1.0 1.1\n\nonly-one\n# comment\n2.0 1.0\na b c\n1.0_rc1 1.0\n');
    expect(r.out).toBe('<\n?\n>\n?\n<\n');
    expect(r.err).toMatch(/line 3: expected "A B", got "only-one"/);
    expect(r.err).toMatch(/line 6: expected "A B", got "a b c"/);
    expect(r.code).toBe(2);
  });

  it('refuses versions apk does not accept, as apk version -t does (apk-tools validates both since 2025-09)', async () => {
    expect(await vercmp([], '1.0-foo 1.0\n1.0 1.1\nabc xyz\n')).toEqual({
      code: 2,
      out: '?\n<\n?\n',
      err:
        'apk-indexer vercmp: line 1: not a version apk accepts: "1.0-foo"\n' +
        'apk-indexer vercmp: line 3: not a version apk accepts: "abc"\n',
    });
    // One line: a value apk refuses, not a mistake in the command line's shape (no usage after it).
    expect(await vercmp(['1.0', 'banana'])).toEqual({
      code: 2,
      out: '',
      err: 'apk-indexer vercmp: not a version apk accepts: "banana"\n',
    });
    // A hostile version is shown escaped, never sent to the terminal as it is.
    expect((await vercmp(['1.0', '1.0\x1b[2J'])).err).toMatch(
      /^apk-indexer vercmp: not a version apk accepts: "1\.0\\x1b\[2J"\n/,
    );
  });

  it('compares a pair given as arguments', async () => {
    expect(await vercmp(['1.0_rc1', '1.0'])).toEqual({ code: 0, out: '<\n', err: '' });
    expect((await vercmp(['1.0-r10', '1.0-r9'])).out).toBe('>\n');
  });

  it('rejects one or three arguments with usage, exit 2', async () => {
    for (const args of [['1.0'], ['1', '2', '3']]) {
      const r = await vercmp(args);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/usage: apk-indexer vercmp/);
    }
  });

  it('prints usage for --help, documenting the "?" answer and the exit status', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await vercmp([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^usage: apk-indexer vercmp \[A B\]/);
      expect(r.out).toMatch(/"\?"/);
      expect(r.out).toMatch(/exit status/);
    }
  });

  it('answers large inputs in order', async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `1.${i} 1.${i % 2 ? i - 1 : i}`);
    const r = await vercmp([], lines.join('\n'));
    expect(r.code).toBe(0);
    expect(r.out).toBe(lines.map((_, i) => (i % 2 ? '>\n' : '=\n')).join(''));
  });
});
