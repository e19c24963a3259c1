import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { openSource } from '../../src/source/open.js';
import { Upstream } from '../helpers/upstream.js';

/**
 * Redirects of an upstream (issue 26 §4): followed over http(s) up to 5, credentials only to the origin they were
 * given for; a loop, a sixth redirect or another scheme is an IndexError of reason `redirect`, naming the URL asked.
 */

let a: Upstream;
let b: Upstream;
beforeAll(async () => {
  a = await new Upstream().start();
  b = await new Upstream().start();
  a.files.set('/os/index', Buffer.from('from a'));
  b.files.set('/os/index', Buffer.from('from b'));
});
afterEach(() => {
  for (const u of [a, b]) {
    u.clearFaults();
    u.requests.length = 0;
  }
});
afterAll(async () => {
  await a.stop();
  await b.stop();
});

const redirect = (path: string, location: string, status = 302) => ({ path, status, headers: { location } });

async function read(url: string, headers?: Record<string, string>): Promise<string> {
  const opened = await openSource(url, headers && { headers });
  if (opened.notModified) throw new Error('304');
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

async function failure(url: string): Promise<IndexError> {
  const err = await read(url).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IndexError);
  return err as IndexError;
}

describe('redirects', () => {
  it('are followed across origins, with the credentials left behind at the first hop to another origin', async () => {
    a.fail(redirect('/start', '/moved', 301), redirect('/moved', `${b.url}/hop`, 307));
    b.fail(redirect('/hop', `${a.url}/os/index`));
    expect(await read(`${a.url}/start`, { authorization: 'Bearer s3cret', Cookie: 'c=1' })).toBe('from a');
    expect(a.requests.map((r) => [r.path, r.authorization])).toEqual([
      ['/start', 'Bearer s3cret'],
      ['/moved', 'Bearer s3cret'], // the same origin keeps them
      ['/os/index', undefined], // back from another origin: once dropped, never sent again
    ]);
    expect(b.requests.map((r) => [r.path, r.authorization])).toEqual([['/hop', undefined]]);
  });

  it('five are followed; a sixth is a redirect failure', async () => {
    const chain = (n: number) =>
      Array.from({ length: n }, (_, i) => redirect(`/r${i}`, i + 1 < n ? `/r${i + 1}` : '/os/index'));
    a.fail(...chain(5));
    expect(await read(`${a.url}/r0`)).toBe('from a');
    a.fail(...chain(6));
    const err = await failure(`${a.url}/r0`);
    expect(err.reason).toBe('redirect');
    expect(err.message).toBe(`${a.url}/r0: more than 5 redirects (the last: HTTP 302 to ${a.url}/os/index)`);
  });

  it('in a loop are a redirect failure, not a network one', async () => {
    a.fail(redirect('/loop', '/loop'));
    const self = await failure(`${a.url}/loop`);
    expect([self.reason, self.message]).toEqual([
      'redirect',
      `${a.url}/loop: redirect loop: HTTP 302 back to ${a.url}/loop`,
    ]);
    a.fail(redirect('/ping', `${b.url}/pong`));
    b.fail(redirect('/pong', `${a.url}/ping#again`, 308));
    const between = await failure(`${a.url}/ping`);
    expect([between.reason, between.message]).toEqual([
      'redirect',
      `${a.url}/ping: redirect loop: HTTP 308 back to ${a.url}/ping`,
    ]);
  });

  it.each(['file:///etc/passwd', 'ftp://127.0.0.1/os/index', 'data:,P:a%0AV:1-r0', 'javascript:alert(1)'])(
    'to %s are refused, and nothing is read from there',
    async (location) => {
      a.fail(redirect('/elsewhere', location));
      const err = await failure(`${a.url}/elsewhere`);
      expect(err.reason).toBe('redirect');
      expect(err.message).toMatch(/: HTTP 302 to .* refused: only http and https redirects are followed$/);
    },
  );

  it('to a Location that is no URL are a redirect failure, the Location not quoted (it may hold credentials)', async () => {
    a.fail(redirect('/bad', 'file://user:pa55@host/x'));
    const err = await failure(`${a.url}/bad`);
    expect([err.reason, err.message]).toEqual(['redirect', `${a.url}/bad: HTTP 302 to a Location that is not a URL`]);
  });

  it('never show credentials of the URL they lead to', async () => {
    a.fail(redirect('/leak', 'ftp://user:pa55@host/x'));
    const err = await failure(`${a.url}/leak`);
    expect(err.message).toBe(
      `${a.url}/leak: HTTP 302 to ftp://***:***@host/x refused: only http and https redirects are followed`,
    );
  });
});
