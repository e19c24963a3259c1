import { describe, expect, it } from 'vitest';
import { VersionSourceError } from '../../src/errors.js';
import { choosePin, HttpVersionSource } from '../../src/generate/version-source.js';

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
  function fakeFetch(answers: Record<string, { status: number; body?: unknown }>) {
    const calls: string[] = [];
    const impl = (async (url: string | URL | Request) => {
      calls.push(String(url));
      const path = new URL(String(url)).pathname;
      const a =
        path === '/readyz'
          ? { status: 200, body: 'ready' }
          : path === '/-/status'
            ? { status: 200, body: { ready: true, indexes: [] } }
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
    });
    const source = await HttpVersionSource.open('http://svc/', { fetch: impl });
    expect(await source.versions('nosuch', ['x86_64'], [])).toBeUndefined();
    await expect(source.versions('broken', ['x86_64'], [])).rejects.toThrow(VersionSourceError);
    await expect(source.versions('broken', ['x86_64'], [])).rejects.toThrow(
      /^http:\/\/svc\/broken\?arch=x86_64: HTTP 503/,
    );
    await expect(source.versions('odd', ['x86_64'], [])).rejects.toThrow(/no releases array/);
    await expect(source.versions('blank', ['x86_64'], [])).rejects.toThrow(/without a version string/);
  });
});

describe('a 404 from a running apk-indexer', () => {
  it('is an unknown name only when the name is unknown without ?arch= too; otherwise no version on all arches', async () => {
    const calls: string[] = [];
    const impl = (async (url: string | URL | Request) => {
      calls.push(String(url));
      if (String(url) === 'http://svc/readyz') return new Response('ready', { status: 200 });
      if (String(url) === 'http://svc/-/status') return new Response(JSON.stringify({ indexes: [] }), { status: 200 });
      if (String(url) === 'http://svc/curl')
        return new Response(JSON.stringify({ releases: [{ version: '1-r0' }] }), { status: 200 });
      return new Response('has no version present on every requested arch', { status: 404 });
    }) as typeof fetch;
    const source = await HttpVersionSource.open('http://svc', { fetch: impl });
    expect(await source.versions('curl', ['x86_64', 'riscv64'], [])).toEqual([]);
    expect(await source.versions('nosuch', ['x86_64'], [])).toBeUndefined();
    expect(await source.versions('curl', ['aarch64', 'riscv64'], [])).toEqual([]);
    // The existence check is asked once per name.
    expect(calls.filter((c) => c === 'http://svc/curl')).toHaveLength(1);
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
