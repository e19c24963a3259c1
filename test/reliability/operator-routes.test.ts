import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceSettings } from '../../src/config/settings.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { rawExchange } from './raw-http-helper.js';

/** The operator routes (`/-/…`, `/metrics`, probes) as curl, wget and a proxy in front meet them. */

const TOKEN = 'op-token-1234';
let f: FixtureService | undefined;

afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function start(settings: Partial<ServiceSettings> = {}): Promise<number> {
  f = await startFixtureService({
    repositories: { os: { x86_64: [{ name: 'bootc', version: '1.16.7-r0' }] } },
    listen: true,
    settings,
  });
  return (f.service.app.server.address() as AddressInfo).port;
}

const exchange = async (port: number, head: string, body = '') =>
  (
    await rawExchange(
      port,
      `${head}\r\nHost: x\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
  ).responses[0]!;

const indexDownloads = () => f!.upstream.requests.filter((r) => r.path.endsWith('APKINDEX.tar.gz')).length;

describe('POST /-/refresh as curl and wget send it', () => {
  it('accepts an empty body of any content type, and checks the token first', async () => {
    const port = await start({ refreshToken: TOKEN });
    const auth = `Authorization: Bearer ${TOKEN}`;
    // curl -X POST -d '' …, wget --post-data='' …, and a plain POST without a type
    for (const type of [
      'Content-Type: application/x-www-form-urlencoded',
      'Content-Type: text/plain',
      'Content-Type: application/json',
      'X-None: 1',
    ]) {
      expect((await exchange(port, `POST /-/refresh HTTP/1.1\r\n${auth}\r\n${type}`)).status, type).toBe(200);
      expect((await exchange(port, `POST /-/refresh HTTP/1.1\r\n${type}`)).status, `${type} without token`).toBe(401);
    }
    expect(
      (
        await exchange(
          port,
          `POST /-/refresh HTTP/1.1\r\n${auth}\r\nContent-Type: application/x-www-form-urlencoded`,
          'a=b',
        )
      ).status,
    ).toBe(200);
  });

  it('answers other methods 405 with Allow: POST, not a package lookup', async () => {
    const port = await start();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await exchange(port, `${method} /-/refresh HTTP/1.1`);
      expect([res.status, res.headers.allow], method).toEqual([405, 'POST']);
      expect(res.body).not.toContain('package');
    }
  });
});

describe('operator routes answer only at their literal path', () => {
  it('percent-encoded spellings of /-/status, /-/refresh, /metrics and the probes are 404', async () => {
    const port = await start({ refreshToken: TOKEN });
    for (const path of ['/-/status', '/metrics', '/livez', '/readyz'])
      expect((await exchange(port, `GET ${path} HTTP/1.1`)).status, path).toBe(200);
    for (const path of [
      '/%2D/status',
      '/%2d/status',
      '/-/%73tatus',
      '/%6detrics',
      '/%6Civez',
      '/readyz%20',
      '/-%2Fstatus',
    ]) {
      const res = await exchange(port, `GET ${path} HTTP/1.1`);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toMatch(/generation|apk_indexer_|^ok\n$|^ready\n$/);
    }
    const before = indexDownloads();
    expect((await exchange(port, `POST /%2D/refresh HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}`)).status).toBe(404);
    expect(indexDownloads()).toBe(before);
    // Package names still decode: /libstdc%2B%2B is the package libstdc++.
    expect((await exchange(port, 'GET /bootc%2Fx HTTP/1.1')).status).toBe(404);
    expect((await exchange(port, 'GET /%62ootc HTTP/1.1')).status).toBe(200);
  });
});

describe('forced refreshes without a refresh token', () => {
  it('are at least refreshMinInterval apart: a storm of POSTs costs one download per index', async () => {
    const port = await start({ refreshMinIntervalMs: 60_000 });
    const before = indexDownloads();
    const answers = await Promise.all(Array.from({ length: 40 }, () => exchange(port, 'POST /-/refresh HTTP/1.1')));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(39);
    const limited = answers.find((a) => a.status === 429)!;
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toContain('refreshMinInterval');
    expect(indexDownloads() - before).toBe(1);
  });

  it('a token lifts the limit for those who hold it', async () => {
    const port = await start({ refreshMinIntervalMs: 60_000, refreshToken: TOKEN });
    for (let i = 0; i < 3; i++)
      expect((await exchange(port, `POST /-/refresh HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}`)).status).toBe(200);
  });
});
