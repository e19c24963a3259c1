import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { buildIndexArchive, generateFixtureKey } from '../fixtures/apk-repo.js';
import { loadIndex } from '../../src/load/load-index.js';
import { loadTrustedKey } from '../../src/load/load-keys.js';
import { defaultRepositoryName, indexLocations } from '../../src/source/locations.js';
import { splitCredentials } from '../../src/source/locations.js';
import { MAX_RETRY_AFTER_MS, openSource, retryAfterMs } from '../../src/source/open.js';
import { Upstream } from '../helpers/upstream.js';

const key = generateFixtureKey('signer.rsa.pub');
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('credentials in URLs', () => {
  let upstream: Upstream;
  /** The upstream's URL with `user:password@` (percent-encoded as a URL carries them). */
  let withCredentials: (path: string) => string;

  beforeAll(async () => {
    upstream = await new Upstream().start();
    upstream.files.set(
      '/os/x86_64/APKINDEX.tar.gz',
      buildIndexArchive({ packages: [{ name: 'bash', version: '5.2.37-r1' }], sign: [{ key }] }),
    );
    upstream.files.set('/keys/signer.rsa.pub', Buffer.from(key.publicPem));
    withCredentials = (path) => upstream.url.replace('://', '://robot%40ci:p%3Ass%20w@') + path;
  });

  afterAll(() => upstream.stop());

  it('are sent as Basic authorization for an index and for a key, decoded, and never shown', async () => {
    const trusted = await loadTrustedKey(withCredentials('/keys/signer.rsa.pub'));
    expect(trusted.origin).toBe(upstream.url.replace('://', '://***:***@') + '/keys/signer.rsa.pub');
    const [location] = indexLocations({ url: withCredentials('/os'), arches: ['x86_64'] });
    const result = await loadIndex(location!, { keys: [trusted] });
    expect(result.notModified).toBe(false);
    if (!result.notModified) {
      expect(result.snapshot.verifiedBy).toBe('signer.rsa.pub');
      expect(result.snapshot.url).not.toContain('p%3Ass');
    }
    expect(location!.repository).toBe(`${upstream.url.replace('://', '://***:***@')}/os`);
    const expected = basic('robot@ci', 'p:ss w');
    expect(upstream.requestsFor('/keys/signer.rsa.pub').map((r) => r.authorization)).toEqual([expected]);
    expect(upstream.requestsFor('/os/x86_64/APKINDEX.tar.gz').map((r) => r.authorization)).toEqual([expected]);
  });

  it('give way to an authorization header given by the caller', async () => {
    const opened = await openSource(withCredentials('/keys/signer.rsa.pub'), {
      headers: { Authorization: 'Bearer from-config' },
    });
    if (!opened.notModified) for await (const _ of opened.body);
    expect(upstream.requests.at(-1)!.authorization).toBe('Bearer from-config');
  });

  it('are redacted in errors', async () => {
    const err = await loadTrustedKey(withCredentials('/keys/missing.rsa.pub')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexError);
    expect((err as IndexError).message).not.toContain('p%3Ass');
    expect(upstream.requests.at(-1)!.authorization).toBe(basic('robot@ci', 'p:ss w'));
  });

  it('splitCredentials strips them from the URL', () => {
    expect(splitCredentials('https://u:p@h.test/os')).toEqual({
      url: 'https://h.test/os',
      authorization: basic('u', 'p'),
    });
    expect(splitCredentials('https://u@h.test/os')).toEqual({
      url: 'https://h.test/os',
      authorization: basic('u', ''),
    });
    expect(splitCredentials('https://h.test/os')).toEqual({ url: 'https://h.test/os', authorization: undefined });
  });
});

describe('the default repository name', () => {
  it('carries no password', () => {
    expect(defaultRepositoryName('https://robot:s3cret@apk.example.com/os/')).toBe(
      'https://***:***@apk.example.com/os',
    );
    expect(defaultRepositoryName('https://apk.example.com/os/')).toBe('https://apk.example.com/os');
    expect(defaultRepositoryName('/srv/apk/os/')).toBe('/srv/apk/os');
    for (const url of [
      'https://robot:s3cret@apk.example.com/os',
      'https://robot:s3cret@apk.example.com/os/x86_64/APKINDEX.tar.gz',
    ]) {
      for (const l of indexLocations({ url })) expect(l.repository).not.toContain('s3cret');
    }
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('is read in seconds or as a date, never negative, at most 24h', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(24 * 3_600_000);
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:02:00 GMT', now)).toBe(120_000);
    expect(retryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('99999999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('9'.repeat(400), now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('Fri, 01 Jan 2100 00:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('from an HTTP 503 is capped on the IndexError', async () => {
    const upstream = await new Upstream().start();
    try {
      upstream.fail({ status: 503, headers: { 'retry-after': '31536000' } }); // a year
      const err = await openSource(`${upstream.url}/x86_64/APKINDEX.tar.gz`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IndexError);
      expect((err as IndexError).retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
    } finally {
      await upstream.stop();
    }
  });
});
