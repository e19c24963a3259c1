import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexErrorReason } from '../../src/errors.js';
import {
  buildIndexArchive,
  generateFixtureKey,
  indexDataMember,
  renderApkIndex,
  signatureMember,
  type FixtureKey,
  type FixturePackage,
} from '../fixtures/apk-repo.js';
import { writeTar } from '../fixtures/tar-writer.js';
import { DEFAULT_LIMITS } from '../../src/parse/limits.js';
import { startFixtureService, type FixtureService, type RepoContent } from '../helpers/fixture-service.js';
import type { Fault } from '../helpers/upstream.js';
import { eventually } from '../helpers/wait.js';

/**
 * One running service, one upstream that misbehaves in every way we know of, one refresh per fault: whatever the
 * upstream does, the service keeps answering from the last good index, stays ready, counts and logs the failure
 * once with the right reason, never throws out of the process, keeps its memory bounded, and serves a good newer
 * index as soon as there is one.
 */

const X86 = 'x86_64/APKINDEX.tar.gz';
const MiB = 1024 * 1024;
const MAX_DECOMPRESSED = 8 * MiB;
const MAX_LINE = 16 * 1024;
const REQUEST_TIMEOUT_MS = 400;
/** Every step is one refresh; the slowest waits out REQUEST_TIMEOUT_MS once. */
const STEP_TIMEOUT_MS = 5_000;

const good: RepoContent = {
  x86_64: [
    { name: 'bootc', version: '1.16.6-r0' },
    { name: 'bootc', version: '1.16.7-r0' },
    { name: 'curl', version: '8.11.0-r0' },
  ],
};
const newer: RepoContent = { x86_64: [...good.x86_64!, { name: 'bootc', version: '1.17.0-r0' }] };
const GOOD_BOOTC = ['1.16.6-r0', '1.16.7-r0'];
const NEWER_BOOTC = ['1.16.6-r0', '1.16.7-r0', '1.17.0-r0'];
/** What an attacker or a broken mirror would like the service to believe. */
const evil: FixturePackage[] = [{ name: 'bootc', version: '9.9.9-r0', arch: 'x86_64' }];

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  index?: string;
  failures?: number;
}

interface Status {
  ready: boolean;
  generation: number;
  indexes: Array<{
    etag: string;
    verifiedBy: string | undefined;
    consecutiveFailures: number;
    lastError: { message: string; reason: IndexErrorReason; at: string } | undefined;
    nextRefresh: string;
  }>;
}

let f: FixtureService;
const lines: string[] = [];
const processErrors: Array<{ event: string; error: unknown }> = [];
const onUnhandledRejection = (error: unknown) => void processErrors.push({ event: 'unhandledRejection', error });
const onUncaughtException = (error: unknown) => void processErrors.push({ event: 'uncaughtException', error });

/** What the service answered from the first good index; every failing step must answer exactly this. */
let baseline: { body: string; etag: string; indexEtag: string; generation: number; indexUrl: string };
/** The upstream file of the good index, for truncating and stalling. */
let goodArchive: Buffer;
/** Archives built before the sequence starts, so building them does not count against the memory bound. */
let bomb: Buffer;
let untrusted: FixtureKey;

const get = (url: string, headers: Record<string, string> = {}) =>
  f.service.app.inject({ method: 'GET', url, headers });
const status = async () => (await get('/-/status')).json() as Status;
const logged = (from: number): LogLine[] => lines.slice(from).map((l) => JSON.parse(l) as LogLine);

/** `apk_indexer_refresh_failures_total` of the x86_64 index, by reason. */
async function failureCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const m of (await get('/metrics')).body.matchAll(/^apk_indexer_refresh_failures_total\{([^}]*)\} (\d+)$/gm)) {
    if (!/arch="x86_64"/.test(m[1]!)) continue;
    counts[/reason="([^"]+)"/.exec(m[1]!)![1]!] = Number(m[2]);
  }
  return counts;
}

/**
 * What the steps so far must have left behind, tallied by `refreshAgainst` as each fault is served: failures by
 * reason (the metric), every failure logged, and failures since the last success (`consecutiveFailures`).
 */
const expected = { counts: {} as Record<string, number>, logged: 0, consecutive: 0 };

/** Lets pending rejections surface as `unhandledRejection` before we look. */
const settle = () => new Promise((r) => setImmediate(r));

async function expectServingLastGoodData(): Promise<void> {
  const res = await get('/bootc');
  expect(res.statusCode).toBe(200);
  expect((res.json() as { releases: Array<{ version: string }> }).releases.map((r) => r.version)).toEqual(GOOD_BOOTC);
  expect(res.body).toBe(baseline.body);
  expect(res.headers.etag).toBe(baseline.etag);
  expect((await get('/bootc', { 'if-none-match': baseline.etag })).statusCode).toBe(304);
  expect((await get('/bootc/latest')).body).toBe('1.16.7-r0\n');
  const readyz = await get('/readyz');
  expect([readyz.statusCode, readyz.body]).toEqual([200, 'ready\n']);
  expect((await status()).generation).toBe(baseline.generation);
}

/**
 * Makes the next request for the index misbehave, refreshes once, and checks everything a user relies on:
 * last good data served, still ready, one conditional request, failure counted and logged once with `reason`.
 */
async function refreshAgainst(
  fault: Fault,
  reason: IndexErrorReason,
  detail: RegExp,
  options: { queryWhileHeld?: boolean } = {},
): Promise<Status['indexes'][number]> {
  const logMark = lines.length;
  const requestMark = f.upstream.requestsFor(X86).length;
  const countsBefore = await failureCounts();
  const failuresBefore = (await status()).indexes[0]!.consecutiveFailures;
  f.upstream.fail({ ...fault, path: X86 });

  const refreshing = f.service.app.inject({ method: 'POST', url: '/-/refresh' });
  if (options.queryWhileHeld) {
    // While the upstream holds the refresh's request, queries are answered from memory, not made to wait or fail.
    await eventually(() => expect(f.upstream.requestsFor(X86).length).toBeGreaterThan(requestMark));
    await expectServingLastGoodData();
  }
  const refreshed = await refreshing;
  expect(refreshed.statusCode).toBe(200);
  expect(f.upstream.pendingFaults).toBe(0);
  expected.counts[reason] = (expected.counts[reason] ?? 0) + 1;
  expected.logged++;
  expected.consecutive++;

  // One request, conditional on the last good index.
  const sent = f.upstream.requestsFor(X86).slice(requestMark);
  expect(sent).toHaveLength(1);
  expect(sent[0]!.ifNoneMatch).toBe(baseline.indexEtag);

  await expectServingLastGoodData();

  const index = (await status()).indexes[0]!;
  expect(index.lastError?.reason).toBe(reason);
  expect(index.lastError?.message).toMatch(detail);
  expect(index.consecutiveFailures).toBe(failuresBefore + 1);
  expect(index.etag).toBe(baseline.indexEtag);

  // Counted once, under this reason only.
  expect(await failureCounts()).toEqual({ ...countsBefore, [reason]: (countsBefore[reason] ?? 0) + 1 });

  // Logged exactly once, as a warning naming the index, the reason and what went wrong; nothing else complains.
  const complaints = logged(logMark).filter((l) => l.level >= 40);
  expect(complaints).toHaveLength(1);
  const [line] = complaints;
  expect(line).toMatchObject({ level: 40, reason, index: baseline.indexUrl, failures: failuresBefore + 1 });
  expect(
    line!.msg.startsWith(`index refresh failed (${reason}), serving the last good data: ${baseline.indexUrl}: `),
  ).toBe(true);
  expect(line!.msg).toMatch(detail);

  await settle();
  expect(processErrors).toEqual([]);
  return index;
}

/** A signed archive whose signed member holds this tar (instead of DESCRIPTION + APKINDEX as written by apk). */
function signedArchiveOfTar(tarball: Buffer, gzip: (b: Buffer) => Buffer): Buffer {
  const data = gzip(tarball);
  return Buffer.concat([signatureMember(data, { key: f.key }), data]);
}

/** A gzip member that inflates to `header` followed by `size` newlines, built without holding it inflated. */
async function gzipBomb(header: Buffer, size: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve, reject) => gzip.on('end', resolve).on('error', reject));
  const chunk = Buffer.alloc(MiB, '\n');
  gzip.write(header);
  for (let written = 0; written < size; written += chunk.length) {
    if (!gzip.write(chunk)) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

describe('upstream faults, one after another against one running service', () => {
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandledRejection);
    process.on('uncaughtException', onUncaughtException);
    f = await startFixtureService({
      repositories: { os: good },
      settings: {
        logLevel: 'info',
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        // Refreshes are driven by POST /-/refresh only: no timer may take a fault meant for the next step.
        updateIntervalMs: 3_600_000,
        limits: { ...DEFAULT_LIMITS, maxDecompressedBytes: MAX_DECOMPRESSED, maxLineBytes: MAX_LINE },
      },
      service: { retryBaseMs: 3_600_000, logStream: { write: (line) => void lines.push(line) } },
    });
    untrusted = generateFixtureKey('untrusted.rsa.pub');
    goodArchive = await readFile(join(f.dir, 'os', 'x86_64', 'APKINDEX.tar.gz'));

    // 256 MiB of APKINDEX (blank lines: cheap to parse, so only the size limit can stop it), signed by the trusted key.
    const bombSize = 256 * MiB;
    const tarHead = writeTar([{ name: 'DESCRIPTION', data: Buffer.from('bomb') }], { endBlocks: false });
    const indexHeader = writeTar([{ name: 'APKINDEX', data: Buffer.alloc(0) }], { endBlocks: false });
    indexHeader.write(bombSize.toString(8).padStart(11, '0') + '\0', 124, 12, 'latin1');
    fixChecksum(indexHeader);
    const bombData = await gzipBomb(Buffer.concat([tarHead, indexHeader]), bombSize);
    bomb = Buffer.concat([signatureMember(bombData, { key: f.key }), bombData]);
    expect(bomb.length).toBeLessThan(2 * MiB); // a bomb: small on the wire, huge inflated

    const s = await status();
    const first = await get('/bootc');
    baseline = {
      body: first.body,
      etag: first.headers.etag as string,
      indexEtag: s.indexes[0]!.etag,
      generation: s.generation,
      indexUrl: `${f.upstream.url}/os/${X86}`,
    };
  }, 30_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandledRejection);
    process.off('uncaughtException', onUncaughtException);
    await f?.close();
  });

  it('loads the good index, verified by the trusted key', async () => {
    const s = await status();
    expect(s.ready).toBe(true);
    expect(s.indexes[0]).toMatchObject({ verifiedBy: 'fixture-service.rsa.pub', consecutiveFailures: 0 });
    expect(baseline.indexEtag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(baseline.etag).toBeTruthy();
    const first = await get('/bootc');
    expect((first.json() as { releases: Array<{ version: string }> }).releases.map((r) => r.version)).toEqual(
      GOOD_BOOTC,
    );
    expect(await failureCounts()).toEqual({});
    expect(logged(0).filter((l) => l.level >= 40)).toEqual([]);
  });

  it('HTTP 500', { timeout: STEP_TIMEOUT_MS }, async () => {
    await refreshAgainst({ status: 500 }, 'http-status', /: HTTP 500$/);
  });

  it('HTTP 404', { timeout: STEP_TIMEOUT_MS }, async () => {
    await refreshAgainst({ status: 404 }, 'http-status', /: HTTP 404$/);
  });

  it('HTTP 429 with Retry-After: the next automatic refresh waits as asked', { timeout: STEP_TIMEOUT_MS }, async () => {
    const index = await refreshAgainst(
      { status: 429, headers: { 'retry-after': '7200' } },
      'http-status',
      /: HTTP 429$/,
    );
    // The backoff (retryBaseMs = 1h) is shorter than the 2h the upstream asked for: Retry-After wins.
    expect(Date.parse(index.nextRefresh) - Date.parse(index.lastError!.at)).toBeGreaterThanOrEqual(7_200_000 - 1_000);
  });

  it('no answer at all: the request timeout ends the wait', { timeout: STEP_TIMEOUT_MS }, async () => {
    await refreshAgainst({ hang: true }, 'network', /: UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error$/, {
      queryWhileHeld: true,
    });
  });

  it('a body that stalls halfway: the body timeout ends the wait', { timeout: STEP_TIMEOUT_MS }, async () => {
    await refreshAgainst(
      { stallAfter: Math.floor(goodArchive.length / 2) },
      'network',
      /: download failed: UND_ERR_BODY_TIMEOUT: Body Timeout Error$/,
      {
        queryWhileHeld: true,
      },
    );
  });

  it('a connection closed before the answer', { timeout: STEP_TIMEOUT_MS }, async () => {
    await refreshAgainst({ reset: true }, 'network', /: (UND_ERR_SOCKET: other side closed|(read )?ECONNRESET)/);
  });

  it('a connection reset (RST) halfway through the body', { timeout: STEP_TIMEOUT_MS }, async () => {
    await refreshAgainst(
      { resetAfter: Math.floor(goodArchive.length / 2) },
      'network',
      /: download failed: (UND_ERR_SOCKET: other side closed|(read )?ECONNRESET)/,
    );
  });

  it('a truncated gzip file', { timeout: STEP_TIMEOUT_MS }, async () => {
    await refreshAgainst(
      { body: goodArchive.subarray(0, goodArchive.length - 40) },
      'gzip',
      /member 2: truncated \(the file ends inside the compressed data\)$/,
    );
  });

  it('a corrupt tar inside a correctly signed gzip', { timeout: STEP_TIMEOUT_MS }, async () => {
    const tarball = writeTar([
      { name: 'DESCRIPTION', data: Buffer.from('corrupt') },
      { name: 'APKINDEX', data: Buffer.from(renderApkIndex(evil)) },
    ]);
    tarball[1024 + 148] = tarball[1024 + 148] === 0x31 ? 0x32 : 0x31; // APKINDEX header: checksum no longer matches
    await refreshAgainst(
      { body: signedArchiveOfTar(tarball, gzipSync) },
      'tar',
      /: corrupt tar header at byte 1024 \(bad checksum\)$/,
    );
  });

  it('an index signed only by an untrusted key', { timeout: STEP_TIMEOUT_MS }, async () => {
    const archive = buildIndexArchive({ packages: evil, sign: [{ key: untrusted }] });
    await refreshAgainst(
      { body: archive },
      'signature',
      /signed by untrusted\.rsa\.pub, none of which is a trusted key/,
    );
  });

  it('an index signed by an impostor key carrying the trusted key name', { timeout: STEP_TIMEOUT_MS }, async () => {
    const archive = buildIndexArchive({ packages: evil, sign: [{ key: { ...untrusted, name: f.key.name } }] });
    await refreshAgainst(
      { body: archive },
      'signature',
      /signature by fixture-service\.rsa\.pub does not match the index/,
    );
  });

  it('a validly signed index whose signed member was then tampered with', { timeout: STEP_TIMEOUT_MS }, async () => {
    const genuine = indexDataMember(renderApkIndex(good.x86_64!.map((p) => ({ ...p, arch: 'x86_64' }))));
    const tampered = indexDataMember(renderApkIndex(evil));
    const archive = Buffer.concat([signatureMember(genuine, { key: f.key }), tampered]);
    await refreshAgainst(
      { body: archive },
      'signature',
      /signature by fixture-service\.rsa\.pub does not match the index/,
    );
  });

  it('an unsigned index while keys are configured', { timeout: STEP_TIMEOUT_MS }, async () => {
    await refreshAgainst(
      { body: buildIndexArchive({ packages: evil }) },
      'signature',
      /not signed, but trusted keys are configured/,
    );
  });

  it(
    'a decompression bomb over the size limit, without memory growing past the limit',
    { timeout: STEP_TIMEOUT_MS },
    async () => {
      const before = process.memoryUsage();
      await refreshAgainst({ body: bomb }, 'limit', new RegExp(`inflates to more than ${MAX_DECOMPRESSED} bytes`));
      const after = process.memoryUsage();
      // Inflated in full the bomb is 256 MiB; read as a stream it may cost at most the limit plus working buffers.
      const bound = MAX_DECOMPRESSED + 64 * MiB;
      expect(after.rss - before.rss, 'rss growth').toBeLessThan(bound);
      expect(after.heapUsed - before.heapUsed, 'heap growth').toBeLessThan(bound);
    },
  );

  it('a single APKINDEX line over the line-length limit', { timeout: STEP_TIMEOUT_MS }, async () => {
    const long: FixturePackage[] = [
      { name: 'bootc', version: '9.9.9-r0', arch: 'x86_64', description: 'x'.repeat(MAX_LINE + 1) },
    ];
    const archive = buildIndexArchive({ packages: long, sign: [{ key: f.key }] });
    await refreshAgainst(
      { body: archive },
      'limit',
      new RegExp(`line \\d+ is longer than the limit of ${MAX_LINE} bytes`),
    );
  });

  it(
    'an unchanged index: one 304 to a conditional request, nothing parsed again, failures cleared',
    { timeout: STEP_TIMEOUT_MS },
    async () => {
      const logMark = lines.length;
      const requestMark = f.upstream.requestsFor(X86).length;
      const countsBefore = await failureCounts();
      const failuresBefore = (await status()).indexes[0]!.consecutiveFailures;
      expect(failuresBefore).toBe(expected.consecutive);

      expect((await f.service.app.inject({ method: 'POST', url: '/-/refresh' })).statusCode).toBe(200);

      const sent = f.upstream.requestsFor(X86).slice(requestMark);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ ifNoneMatch: baseline.indexEtag, status: 304 });
      expect(sent[0]!.ifModifiedSince).toMatch(/GMT$/);
      await expectServingLastGoodData(); // generation unchanged: nothing was parsed or swapped
      const index = (await status()).indexes[0]!;
      expect(index).toMatchObject({ consecutiveFailures: 0, etag: baseline.indexEtag });
      expect(index.lastError).toBeUndefined();
      expected.consecutive = 0;
      expect(await failureCounts()).toEqual(countsBefore);
      expect((await get('/metrics')).body).toMatch(
        /apk_indexer_refreshes_total\{[^}]*arch="x86_64"[^}]*outcome="not-modified"\} 1$/m,
      );
      const since = logged(logMark);
      expect(since.filter((l) => l.level >= 40)).toEqual([]);
      expect(since.filter((l) => l.msg === 'index refresh recovered')).toEqual([
        expect.objectContaining({ level: 30, index: baseline.indexUrl, failures: failuresBefore }),
      ]);
      await settle();
      expect(processErrors).toEqual([]);
    },
  );

  it('a newer good index is served right after it is published', { timeout: STEP_TIMEOUT_MS }, async () => {
    await f.publish('os', newer, 'newer');
    expect((await f.service.app.inject({ method: 'POST', url: '/-/refresh' })).statusCode).toBe(200);

    const res = await get('/bootc');
    expect(res.statusCode).toBe(200);
    expect((res.json() as { releases: Array<{ version: string }> }).releases.map((r) => r.version)).toEqual(
      NEWER_BOOTC,
    );
    expect(res.headers.etag).toBeTruthy();
    expect(res.headers.etag).not.toBe(baseline.etag);
    expect((await get('/bootc', { 'if-none-match': baseline.etag })).statusCode).toBe(200);
    expect((await get('/bootc/latest')).body).toBe('1.17.0-r0\n');
    expect((await get('/readyz')).statusCode).toBe(200);

    const s = await status();
    expect(s.generation).toBe(baseline.generation + 1);
    expect(s.indexes[0]).toMatchObject({ verifiedBy: 'fixture-service.rsa.pub', consecutiveFailures: 0 });
    expect(s.indexes[0]!.etag).not.toBe(baseline.indexEtag);
    expect(f.upstream.requestsFor(X86).at(-1)).toMatchObject({ ifNoneMatch: baseline.indexEtag, status: 200 });
  });

  it('counted every failure once by reason, and nothing escaped as an unhandled rejection or exception', async () => {
    expect(await failureCounts()).toEqual(expected.counts);
    const failures = lines.map((l) => JSON.parse(l) as LogLine).filter((l) => l.msg.startsWith('index refresh failed'));
    expect(failures).toHaveLength(expected.logged);
    await settle();
    expect(processErrors).toEqual([]);
  });
});

function fixChecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header.subarray(0, 512)) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}
