import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { loadIndex } from '../../src/load/load-index.js';
import { loadTrustedKey } from '../../src/load/load-keys.js';
import { loadSecdb } from '../../src/load/load-secdb.js';
import { buildIndexArchive, generateFixtureKey } from '../fixtures/apk-repo.js';
import { Upstream } from '../helpers/upstream.js';

/**
 * Issue 26 §1, elsewhere: every body the loaders read is read through its async iterator, which carries the
 * connection's errors to the reader. A connection reset in the middle of a security database, a key or an index is
 * one failed read (`network`), never an error nobody listens for.
 */
describe('a connection reset in the middle of a body', () => {
  let upstream: Upstream;
  const key = generateFixtureKey('reset.rsa.pub');
  const secdb = Buffer.from(
    JSON.stringify({
      packages: Array.from({ length: 2000 }, (_, i) => ({ pkg: { name: `p${i}`, secfixes: { '1.0-r0': ['CVE-1'] } } })),
    }),
  );
  const index = buildIndexArchive({
    packages: Array.from({ length: 5000 }, (_, i) => ({ name: `p${i}`, version: '1.0-r0' })),
    sign: [{ key }],
  });

  beforeAll(async () => {
    upstream = await new Upstream().start();
    upstream.files.set('/security.json', secdb);
    upstream.files.set('/reset.rsa.pub', Buffer.from(key.publicPem));
    upstream.files.set('/x86_64/APKINDEX.tar.gz', index);
  });
  afterAll(() => upstream.stop());

  const failure = async (promise: Promise<unknown>) => {
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexError);
    return err as IndexError;
  };

  it('fails the security database read with reason network', async () => {
    upstream.fail({ resetAfter: Math.floor(secdb.length / 2), path: 'security.json' });
    expect((await failure(loadSecdb(`${upstream.url}/security.json`))).reason).toBe('network');
  });

  it('fails the key read with reason network', async () => {
    upstream.fail({ resetAfter: 100, path: 'reset.rsa.pub' });
    expect((await failure(loadTrustedKey(`${upstream.url}/reset.rsa.pub`))).reason).toBe('network');
  });

  it('fails the index read with reason network, with keys (held) and without (streamed)', async () => {
    const trusted = await loadTrustedKey(`${upstream.url}/reset.rsa.pub`);
    for (const keys of [[trusted], []]) {
      upstream.fail({ resetAfter: Math.floor(index.length / 2), path: 'APKINDEX.tar.gz' });
      const location = { url: `${upstream.url}/x86_64/APKINDEX.tar.gz`, arch: 'x86_64', repository: 'r' };
      expect((await failure(loadIndex(location, { keys }))).reason).toBe('network');
    }
  });
});
