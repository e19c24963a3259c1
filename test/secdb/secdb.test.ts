import { describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { fixedIds, fixesBetween } from '../../src/secdb/fixes.js';
import { parseSecdb } from '../../src/secdb/parse.js';

const db = (packages: unknown) => parseSecdb(JSON.stringify({ packages }), 'security.json');

describe('secdb parsing', () => {
  it('reads fixes per origin in apk order, splits alias lists, keeps "0" apart and skips non-versions', () => {
    const parsed = db([
      {
        pkg: {
          name: 'xen',
          secfixes: {
            '4.10.0-r2': ['CVE-2018-7540 XSA-252'],
            '0': ['CVE-2017-0001'],
            '4.9.1-r0': ['XSA-248'],
            'not a version!': ['X-1'],
            '4.10.0_rc1-r0': null,
          },
        },
      },
      { pkg: { name: 'zlib' } },
    ]);
    expect(parsed.fixes.get('xen')).toEqual([
      { version: '4.9.1-r0', ids: ['XSA-248'] },
      { version: '4.10.0_rc1-r0', ids: [] },
      { version: '4.10.0-r2', ids: ['CVE-2018-7540', 'XSA-252'] },
    ]);
    expect(parsed.notAffected.get('xen')).toEqual(['CVE-2017-0001']);
    expect(parsed.skipped).toBe(1);
    expect(parsed.ids).toBe(3);
    expect(parsed.fixes.has('zlib')).toBe(false);
  });

  it.each([
    ['not JSON', '{"packages": [', /security.json: not a security database: /],
    [
      'no packages list',
      '{"apkurl": "x"}',
      /security.json: not a security database: expected an object with a "packages" list/,
    ],
    [
      'an entry without a name',
      '{"packages": [{"pkg": {"secfixes": {}}}]}',
      /security.json: packages\[0\]: expected \{pkg: \{name, secfixes\}\}/,
    ],
    [
      'IDs that are not a list',
      '{"packages": [{"pkg": {"name": "a", "secfixes": {"1-r0": "CVE-1"}}}]}',
      /packages\[0\]\.pkg\.secfixes\["1-r0"\]: expected a list of IDs/,
    ],
  ])('refuses %s with one line naming where', (_what, text, message) => {
    let error: unknown;
    try {
      parseSecdb(text, 'security.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(IndexError);
    expect((error as IndexError).reason).toBe('format');
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('fixes a bump brings', () => {
  const openssl = db([
    {
      pkg: {
        name: 'openssl',
        secfixes: {
          '0': ['CVE-2000-0001'],
          '3.4.0_rc1-r0': ['RC1'],
          '3.4.0_rc2-r0': ['RC2'],
          '3.4.0-r0': ['REL'],
          '3.4.0-r1': ['R1'],
          '3.4.0_p1-r0': ['P1'],
          '3.4.1-r0': ['NEXT'],
        },
      },
    },
  ]);
  const ids = (from: string, to: string, origin = 'openssl') => fixedIds(fixesBetween([openssl], origin, from, to));

  it('takes entries greater than the current version and at most the new one', () => {
    expect(ids('3.4.0-r0', '3.4.0-r1')).toEqual(['R1']);
    expect(ids('3.4.0-r1', '3.4.1-r0')).toEqual(['P1', 'NEXT']);
    expect(ids('3.4.0-r1', '3.4.0-r1')).toEqual([]);
  });

  it('orders _rc before the release, the release before -rN, -rN before _p', () => {
    expect(ids('3.3.9-r0', '3.4.0_rc2-r0')).toEqual(['RC1', 'RC2']);
    expect(ids('3.4.0_rc1-r0', '3.4.0-r0')).toEqual(['RC2', 'REL']);
    // 3.4.0_p1 is newer than every 3.4.0-rN: a bump from -r1 to _p1-r0 brings P1 only.
    expect(ids('3.4.0-r1', '3.4.0_p1-r0')).toEqual(['P1']);
    // -r10 is newer than -r9 (numbers, not text), so r1's fix is not brought again.
    expect(ids('3.4.0-r9', '3.4.0-r10')).toEqual([]);
    expect(ids('3.4.0-r0', '3.4.0-r10')).toEqual(['R1']);
  });

  it('never lists the "0" key, which says the ID never applied', () => {
    expect(ids('0', '9-r0')).not.toContain('CVE-2000-0001');
    expect(ids('0', '9-r0')).toEqual(['RC1', 'RC2', 'REL', 'R1', 'P1', 'NEXT']);
  });

  it('goes through the origin: a subpackage has no entries of its own', () => {
    expect(ids('3.4.0-r0', '3.4.0-r1', 'libcrypto3')).toEqual([]);
    expect(ids('3.4.0-r0', '3.4.0-r1', 'openssl')).toEqual(['R1']);
  });

  it('merges databases of several repositories, each ID once', () => {
    const extra = db([{ pkg: { name: 'openssl', secfixes: { '3.4.0-r1': ['R1', 'EXTRA'] } } }]);
    expect(fixesBetween([openssl, extra], 'openssl', '3.4.0-r0', '3.4.0-r1')).toEqual([
      { version: '3.4.0-r1', ids: ['R1', 'EXTRA'] },
    ]);
  });
});
