import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRepo, type FixturePackage } from '../fixtures/apk-repo.js';
import { fixtureKey } from '../helpers/fixture-service.js';
import { ensureBuilt, serveProcess, type RunningService } from '../helpers/cli-process.js';
import { parseResponses } from './raw-http-helper.js';
import { eventually } from '../helpers/wait.js';

/**
 * SIGTERM while the real CLI is under load: every request the server reads is answered 200 in full (also one whose
 * large answer is still being written to a slow reader, and one pipelined behind it), idle keep-alive connections
 * are closed, new connections are refused once the drain starts, and the process exits 0.
 */

const NAMES = 200;
/** One package with many long versions: an answer of ~12 MB, more than loopback socket buffers hold. */
const BIG_VERSIONS = 32_000;
const LOAD_CONNECTIONS = 32;
const IDLE_CONNECTIONS = 40;

const packages: FixturePackage[] = [
  ...Array.from({ length: NAMES }, (_, i) => ({ name: `pkg-${i}`, version: `1.${i}.0-r0` })),
  ...Array.from({ length: BIG_VERSIONS }, (_, i) => ({
    name: 'big',
    version: `${i + 1}${'.0'.repeat(140)}-r0`,
    buildTime: 1_700_000_000 + i,
  })),
];

let dir: string;
let s: RunningService | undefined;
/** The test's connections, here so that afterAll ends them whether the test passes or not. */
let pool: Pool | undefined;
let slow: Socket | undefined;
const idleSockets: Socket[] = [];
/** Tells the load workers to stop. */
let stop = false;

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'apk-sigterm-'));
  const repo = await writeFixtureRepo(join(dir, 'os'), { arches: { x86_64: packages }, sign: [{ key: fixtureKey() }] });
  s = await serveProcess(
    [
      '--index',
      join(dir, 'os'),
      '--arch',
      'x86_64',
      '--key',
      repo.keyPaths[0]!,
      '--log-output',
      'json',
      '--first-load-timeout',
      '20s',
    ],
    {},
  );
}, 60_000);
afterAll(async () => {
  stop = true;
  await pool?.destroy();
  slow?.destroy();
  for (const socket of idleSockets) socket.destroy();
  if (s && s.child.exitCode === null) s.child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  sentAt: number;
  answeredAt?: number;
  status?: number;
  complete?: boolean;
  connection?: string;
  error?: string;
}

/** Opens a connection, sends one request and leaves the connection idle (keep-alive) once answered. */
function idleKeepAlive(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let answered = false;
    const closed = new Promise<string>((r) => socket.on('close', () => r(received)));
    socket.on('error', () => {});
    socket.on('connect', () => socket.write('GET /pkg-1/latest HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('data', (d) => {
      received += d.toString('latin1');
      if (!answered && parseResponses(received).length === 1) {
        answered = true;
        received = '';
        resolve({ socket, closed });
      }
    });
    setTimeout(() => reject(new Error('idle connection got no answer')), 5_000).unref();
  });
}

/** Resolves 'refused' once a new connection is refused, 'accepted' when one is accepted. */
function tryConnect(port: number): Promise<'refused' | 'accepted'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.on('error', () => resolve('refused'));
  });
}

describe('SIGTERM under load', () => {
  it('answers every request it read in full with 200, refuses new connections and exits 0', async () => {
    const { port } = s!;
    // Ready, and the big answer computed once (as Renovate's many queries would have).
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200));
    const bigBody = await (await fetch(`http://127.0.0.1:${port}/big`)).text();
    expect(bigBody.length).toBeGreaterThan(10 * 1024 * 1024);

    const idle = await Promise.all(
      Array.from({ length: IDLE_CONNECTIONS }, async () => {
        const connection = await idleKeepAlive(port);
        idleSockets.push(connection.socket);
        return connection;
      }),
    );

    // Load: keep-alive connections asking as fast as they can.
    const load = (pool = new Pool(`http://127.0.0.1:${port}`, { connections: LOAD_CONNECTIONS, pipelining: 1 }));
    const outcomes: Outcome[] = [];
    let killedAt = Infinity;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const outcome: Outcome = { sentAt: performance.now() };
        outcomes.push(outcome);
        const name = `pkg-${(w * 7 + i) % NAMES}`;
        try {
          const res = await load.request({ path: `/${name}?format=plain`, method: 'GET' });
          outcome.status = res.statusCode;
          outcome.answeredAt = performance.now();
          outcome.connection = String(res.headers.connection ?? '');
          const text = await res.body.text();
          outcome.complete = text === `1.${name.slice(4)}.0-r0\n`;
        } catch (err) {
          outcome.error = (err as { code?: string }).code ?? String(err);
          if (outcome.sentAt > killedAt) return; // the server is gone for this worker
          // Before SIGTERM no error is expected; keep going so the assertion below reports it.
        }
      }
    };
    const workers = Array.from({ length: LOAD_CONNECTIONS }, (_, w) => worker(w));

    // A slow reader: a ~11 MB answer the client does not read yet.
    const reader = (slow = connect(port, '127.0.0.1'));
    const slowChunks: Buffer[] = [];
    const slowClosed = new Promise<void>((r) => reader.on('close', () => r()));
    reader.on('error', () => {});
    await new Promise<void>((r) => reader.on('connect', () => r()));
    reader.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((r) =>
      reader.on('data', (d) => {
        slowChunks.push(d);
        if (slowChunks.length === 1) {
          reader.pause();
          r();
        }
      }),
    );

    // SIGTERM once every load connection has been answered a few times: the load is running.
    await eventually(() =>
      expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(4 * LOAD_CONNECTIONS),
    );
    const beforeKill = outcomes.filter((o) => o.status === 200).length;
    killedAt = performance.now();
    s!.child.kill('SIGTERM');

    // The listener closes at once; the slow reader keeps the process draining meanwhile.
    await eventually(async () =>
      expect(await tryConnect(port), 'new connections are refused while draining').toBe('refused'),
    );
    expect(s!.child.exitCode, 'exited before the slow answer was read').toBeNull();

    // A request arriving on an open connection while draining is still answered (read once the big answer is out).
    reader.write('GET /pkg-2?format=plain HTTP/1.1\r\nHost: x\r\n\r\n');

    // Idle keep-alive connections are closed by the server without a byte.
    for (const { closed } of idle) expect(await closed).toBe('');

    stop = true;
    await Promise.all(workers);
    await load.destroy();

    // Now read the slow answer: all of it, then the pipelined one, then the server closes the connection.
    reader.resume();
    await slowClosed;
    const responses = parseResponses(Buffer.concat(slowChunks).toString('latin1'));
    expect(responses[0]?.status).toBe(200);
    expect(responses[0]!.body.length, 'the slow answer was cut short').toBe(bigBody.length);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect((JSON.parse(responses[0]!.body) as { releases: unknown[] }).releases).toHaveLength(BIG_VERSIONS);
    expect(responses[1]!.body).toBe('1.2.0-r0\n');
    expect(responses[1]!.headers.connection).toBe('close');

    expect(await s!.exited).toBe(0);

    // The load: before SIGTERM everything 200; every answer ever received is a complete 200; a request that got
    // no answer was sent after SIGTERM and failed at the connection (refused or closed), never half-way.
    expect(beforeKill).toBeGreaterThan(LOAD_CONNECTIONS);
    const answered = outcomes.filter((o) => o.status !== undefined);
    const failed = outcomes.filter((o) => o.error !== undefined);
    const summary = `${answered.length} answered, ${failed.length} failed: ${JSON.stringify(failed.slice(0, 5))}`;
    for (const o of answered) {
      expect(o.status, summary).toBe(200);
      expect(o.complete, summary).toBe(true);
    }
    for (const o of failed) {
      expect(o.sentAt, `failed before SIGTERM: ${summary}`).toBeGreaterThan(killedAt);
      expect(o.error, summary).toMatch(
        /^(ECONNREFUSED|ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|UND_ERR_DESTROYED)$/,
      );
    }
    // The requests outstanding when SIGTERM was sent (every worker had one) were answered in full too.
    const inFlight = answered.filter((o) => o.sentAt < killedAt && o.answeredAt! > killedAt);
    expect(inFlight.length).toBeGreaterThan(0);
    const log = s!.output();
    expect(log).toContain('shutting down: finishing in-flight requests');
    expect(log).toContain('"msg":"stopped"');
    console.log(
      `sigterm-load: ${beforeKill} answered before SIGTERM, ${answered.length} in all, ${inFlight.length} in flight at SIGTERM, ${failed.length} refused after`,
    );
  }, 30_000);
});
