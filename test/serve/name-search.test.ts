import { describe, expect, it } from 'vitest';
import { NameSearch } from '../../src/serve/name-search.js';

describe('the name search', () => {
  const names = [
    'R-base',
    'argo-cd-2.12',
    'argo-cd-2.13',
    'libcrypto3',
    'openssl',
    'openssl-dev',
    'py3-Crypto',
    'zlib',
  ];
  const search = new NameSearch(names);

  it('finds names starting with the search, then names containing it, whatever the case', () => {
    expect(search.search('open', 50)).toEqual({ names: ['openssl', 'openssl-dev'], more: false });
    expect(search.search('CRYPTO', 50)).toEqual({ names: ['libcrypto3', 'py3-Crypto'], more: false });
    expect(search.search('r-b', 50)).toEqual({ names: ['R-base'], more: false });
    // Starting with `ssl`: none; containing it: in name order.
    expect(search.search('ssl', 50)).toEqual({ names: ['openssl', 'openssl-dev'], more: false });
    // Starting with `lib` comes before containing it.
    expect(search.search('lib', 50)).toEqual({ names: ['libcrypto3', 'zlib'], more: false });
  });

  it('stops at the limit and says more match', () => {
    expect(search.search('-', 2)).toEqual({ names: ['R-base', 'argo-cd-2.12'], more: true });
    expect(search.search('argo-cd-2.1', 2)).toEqual({ names: ['argo-cd-2.12', 'argo-cd-2.13'], more: false });
  });

  it('finds nothing for what no name holds, a newline, or nothing', () => {
    for (const q of ['xyz', 'openssl-devel', 'o\nz', '', 'é'])
      expect(search.search(q, 50), JSON.stringify(q)).toEqual({ names: [], more: false });
  });

  it('finds names past ASCII and across blocks of names', () => {
    const many = Array.from({ length: 1_000 }, (_, i) => `pkg-${String(i).padStart(4, '0')}`);
    const s = new NameSearch([...many, 'ünïcode-tool']);
    expect(s.search('ÜNÏ', 5)).toEqual({ names: ['ünïcode-tool'], more: false });
    expect(s.search('0999', 5)).toEqual({ names: ['pkg-0999'], more: false });
    expect(s.search('-09', 3)).toEqual({ names: ['pkg-0900', 'pkg-0901', 'pkg-0902'], more: true });
  });
});
