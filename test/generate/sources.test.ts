import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../src/datasource/status.js';
import { VersionSourceError } from '../../src/errors.js';
import { choosePin, HttpVersionSource } from '../../src/generate/version-source.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';

describe('choosing the version to pin', () => {
  const history = ['1.0-r0', '1.1_rc1-r0', '1.1-r0', '1.2_rc1-r0', '1.2_rc2-r0'];

  it('takes the newest stable version, unless the current pin is a prerelease', () => {
    expect(choosePin(history)).toBe('1.1-r0');
    expect(choosePin(history, '1.0-r0')).toBe('1.1-r0');
    expect(choosePin(history, '1.2_rc1-r0')).toBe('1.2_rc2-r0');
    expect(choosePin([...history, '1.2-r0'], '1.2_rc1-r0')).toBe('1.2-r0');
  });

  it('takes the newest prerelease when nothing stable exists, and nothing from nothing', () => {
    expect(choosePin(['2.0_alpha1-r0', '2.0_beta1-r0'], '1.0-r0')).toBe('2.0_beta1-r0');
    expect(choosePin([])).toBeUndefined();
  });
});

describe('asking a running apk-indexer', () => {
  /** A status as the service's contract has it (StatusSchema), holding one repository. */
  const status: Status = {
    ready: true,
    generation: 1,
    waitingFor: [],
    repositories: [{ name: 'os', urls: ['https://example.test/os'], arches: ['aarch64', 'x86_64'] }],
    indexes: [],
  };

  function fakeFetch(answers: Record<string, { status: number; body?: unknown }>) {
    const calls: string[] = [];
    const impl = (async (url: string | URL | Request) => {
      calls.push(String(url));
      const path = new URL(String(url)).pathname;
      const a =
        path === '/readyz'
          ? { status: 200, body: 'ready' }
          : path === '/-/status'
            ? { status: 200, body: status }
            : (answers[String(url)] ?? { status: 404 });
      return new Response(a.body === undefined ? 'not found' : JSON.stringify(a.body), { status: a.status });
    }) as typeof fetch;
    return { impl, calls };
  }

  it('reads the datasource body, restores apk order, asks once per name and arch set', async () => {
    const { impl, calls } = fakeFetch({
      'http://svc:3000/libstdc++?arch=x86_64,aarch64': {
        status: 200,
        body: { releases: [{ version: '1.10-r0' }, { version: '1.9-r0' }], tags: { latest: '1.10-r0' } },
      },
    });
    const source = await HttpVersionSource.open('http://svc:3000', { fetch: impl });
    expect(source.held).toEqual(status.repositories);
    expect(await source.versions('libstdc++', ['x86_64', 'aarch64'], [])).toEqual(['1.9-r0', '1.10-r0']);
    expect(await source.versions('libstdc++', ['x86_64', 'aarch64'], [])).toEqual(['1.9-r0', '1.10-r0']);
    // /readyz and /-/status once when opened, then one question per name and arch set.
    expect(calls.filter((c) => c.includes('libstdc++'))).toHaveLength(1);
  });

  it('answers undefined for a 404, and throws on a server error or a body that is not the datasource schema', async () => {
    const { impl } = fakeFetch({
      'http://svc/broken?arch=x86_64': { status: 503, body: {} },
      'http://svc/odd?arch=x86_64': { status: 200, body: { versions: ['1'] } },
      'http://svc/blank?arch=x86_64': { status: 200, body: { releases: [{ version: '' }] } },
      'http://svc/script?arch=x86_64': {
        status: 200,
        body: { releases: [{ version: '1-r0' }], homepage: 'javascript:alert(1)' },
      },
    });
    const source = await HttpVersionSource.open('http://svc/', { fetch: impl });
    expect(await source.versions('nosuch', ['x86_64'], [])).toBeUndefined();
    await expect(source.versions('broken', ['x86_64'], [])).rejects.toThrow(VersionSourceError);
    await expect(source.versions('broken', ['x86_64'], [])).rejects.toThrow(
      /^http:\/\/svc\/broken\?arch=x86_64: HTTP 503/,
    );
    await expect(source.versions('odd', ['x86_64'], [])).rejects.toThrow(
      /not a Renovate datasource body \(releases: .*expected array/,
    );
    await expect(source.versions('blank', ['x86_64'], [])).rejects.toThrow(
      /not a Renovate datasource body \(releases\.0\.version: /,
    );
    await expect(source.versions('script', ['x86_64'], [])).rejects.toThrow(
      /not a Renovate datasource body \(homepage: not an http\(s\) URL\)/,
    );
  });

  it('refuses a status without the repositories list: not the contract of this apk-indexer', async () => {
    const impl = (async (url: string | URL | Request) =>
      new URL(String(url)).pathname === '/readyz'
        ? new Response('ready\n')
        : new Response(JSON.stringify({ ready: true, generation: 1, waitingFor: [], indexes: [] }))) as typeof fetch;
    await expect(HttpVersionSource.open('http://svc', { fetch: impl })).rejects.toThrow(
      /^http:\/\/svc\/-\/status: not an apk-indexer status \(repositories: .*expected array/,
    );
  });

  it('a server that cannot be reached is a VersionSourceError naming the URL', async () => {
    const impl = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    }) as typeof fetch;
    await expect(HttpVersionSource.open('http://svc', { fetch: impl })).rejects.toThrow(
      'http://svc/readyz: no answer from the server (connect ECONNREFUSED)',
    );
  });
});

describe('a running apk-indexer, by its contract', () => {
  let f: FixtureService;
  beforeAll(async () => {
    f = await startFixtureService({
      repositories: {
        os: {
          x86_64: [
            { name: 'curl', version: '8.1.0-r0' },
            { name: 'curl', version: '8.2.0-r0' },
            { name: 'x86-only', version: '1.0-r0' },
          ],
          aarch64: [{ name: 'curl', version: '8.1.0-r0' }],
        },
      },
      listen: true,
    });
  });
  afterAll(async () => f?.close());

  it('lists its repositories with their URLs and arches from /-/status, as the indexes do', async () => {
    const source = await HttpVersionSource.open(f.baseUrl);
    expect(source.held).toEqual([{ name: 'os', urls: [`${f.upstream.url}/os`], arches: ['x86_64', 'aarch64'] }]);
  });

  it('tells a known name with no version on every arch (reason no-common-version) from an unknown one', async () => {
    const source = await HttpVersionSource.open(f.baseUrl);
    expect(await source.versions('curl', ['x86_64', 'aarch64'], ['os'])).toEqual(['8.1.0-r0']);
    expect(await source.versions('x86-only', ['x86_64', 'aarch64'], [])).toEqual([]);
    expect(await source.versions('nosuch', ['x86_64'], [])).toBeUndefined();
    // What GET /<name> answers without ?arch=: versions on every arch holding the name.
    expect(await source.answer('curl', {})).toEqual(['8.1.0-r0']);
    expect(await source.answer('x86-only', {})).toEqual(['1.0-r0']);
    expect(await source.answer('x86-only', { arches: ['x86_64', 'aarch64'] })).toBeUndefined();
  });
});
