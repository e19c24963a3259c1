import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IndexError } from '../../src/errors.js';
import { RefreshState, Refresher, type RefreshOutcome, type Refreshed } from '../../src/serve/refresher.js';

/**
 * The one refresh scheduler both stores use (indexes, security databases), driven by fake timers: what it
 * schedules after each outcome, how it classifies failures, and how forced refreshes join the running one.
 */

const HOUR = 3_600_000;

interface Item extends Refreshed {
  results: Array<RefreshOutcome | Error>;
  attempts: number;
}

const item = (results: Item['results']): Item => ({
  state: new RefreshState(),
  shown: 'https://example.test/os/x86_64/APKINDEX.tar.gz',
  labels: { repository: 'os' },
  intervalMs: 4 * HOUR,
  results,
  attempts: 0,
});

const httpError = (status: number, retryAfterMs?: number) => {
  const error = new IndexError('https://example.test/os', 'http-status', `HTTP ${status}`);
  error.httpStatus = status;
  if (retryAfterMs !== undefined) error.retryAfterMs = retryAfterMs;
  return error;
};

let logged: Array<{ level: string; fields: Record<string, unknown>; msg: string }>;
let registry: Registry;

function refresher(items: Item[], attempt?: (i: Item) => Promise<RefreshOutcome>) {
  registry = new Registry();
  const registers = [registry];
  const log = Object.fromEntries(
    ['info', 'warn', 'error', 'debug'].map((level) => [
      level,
      (fields: Record<string, unknown>, msg: string) => void logged.push({ level, fields, msg }),
    ]),
  ) as unknown as FastifyBaseLogger;
  return new Refresher(items, {
    what: 'thing',
    logField: 'thing',
    log,
    metrics: {
      refreshes: new Counter({ name: 'refreshes', help: 'h', labelNames: ['repository', 'outcome'], registers }),
      failures: new Counter({ name: 'failures', help: 'h', labelNames: ['repository', 'reason'], registers }),
      lastSuccess: new Gauge({ name: 'last_success', help: 'h', labelNames: ['repository'], registers }),
    },
    refreshTimeoutMs: 10 * 60_000,
    attempt:
      attempt ??
      (async (i) => {
        const next = i.results[i.attempts++] ?? 'not-modified';
        if (next instanceof Error) throw next;
        return next;
      }),
    serving: () => 'serving what it had',
  });
}

/** How long after now the next attempt is scheduled. */
const nextIn = (i: Item) => i.state.nextRefresh! - Date.now();

beforeEach(() => {
  logged = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => vi.useRealTimers());

describe('the refresher', () => {
  it('retries after 5 s, 10 s, 20 s; a success resets the count and waits the interval', async () => {
    const network = new IndexError('https://example.test/os', 'network', 'ECONNREFUSED');
    const x = item([network, network, network, 'changed']);
    const r = refresher([x]);
    await r.refresh(x);
    expect([x.state.failures, x.state.transient, nextIn(x)]).toEqual([1, true, 5_000]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect([x.attempts, x.state.failures, nextIn(x)]).toEqual([2, 2, 10_000]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect([x.attempts, x.state.failures, nextIn(x)]).toEqual([3, 3, 20_000]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect([x.attempts, x.state.failures, x.state.lastError, nextIn(x)]).toEqual([4, 0, undefined, 4 * HOUR]);
    expect(x.state.lastSuccess).toBe(Date.now());
    const scraped = await registry.metrics();
    expect(scraped).toContain('failures{repository="os",reason="network"} 3');
    expect(scraped).toContain('refreshes{repository="os",outcome="changed"} 1');
    expect(logged.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(
      Array(3).fill('thing refresh failed (network), serving what it had: https://example.test/os: ECONNREFUSED'),
    );
    expect(logged.find((l) => l.msg === 'thing refresh recovered')?.fields).toEqual({
      thing: x.shown,
      failures: 3,
    });
    r.stop();
  });

  it('waits at least what Retry-After asked; a 404 is permanent, a 503 transient', async () => {
    const x = item([httpError(503, 90_000), httpError(404)]);
    const r = refresher([x]);
    await r.refresh(x);
    expect([x.state.transient, nextIn(x)]).toEqual([true, 90_000]);
    await vi.advanceTimersByTimeAsync(90_000);
    expect([x.state.transient, x.state.lastError?.reason, nextIn(x)]).toEqual([false, 'http-status', 10_000]);
    r.stop();
  });

  it('counts anything but an IndexError as a bug (internal), its stack logged at error level', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'map')");
    const x = item([bug]);
    const r = refresher([x]);
    await r.refresh(x);
    expect(x.state.lastError).toMatchObject({ reason: 'internal', message: `${x.shown}: ${bug.message}` });
    expect(x.state.transient).toBe(false);
    const errors = logged.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.fields.err).toBe(bug);
    expect(await registry.metrics()).toContain('failures{repository="os",reason="internal"} 1');
    r.stop();
  });

  it('runs one attempt at a time; a forced refresh during one runs once more after it, shared by every caller', async () => {
    const releases: Array<() => void> = [];
    const x = item([]);
    const r = refresher([x], () => {
      x.attempts++;
      return new Promise((resolve) => releases.push(() => resolve('not-modified')));
    });
    const scheduled = r.refresh(x);
    expect(r.refresh(x)).toBe(scheduled); // a scheduled refresh joins the running one
    const forced = [r.refreshAll(), r.refreshAll()];
    expect(x.attempts).toBe(1);
    releases.shift()!();
    await scheduled;
    await vi.waitFor(() => expect(x.attempts).toBe(2));
    releases.shift()!();
    await Promise.all(forced);
    expect(x.attempts).toBe(2);
    r.stop();
  });

  it('schedules nothing once stopped, and an attempt aborted by stop is no failure', async () => {
    const x = item([]);
    const r = refresher([x], (i) => {
      i.attempts++;
      return new Promise((_, reject) => setTimeout(() => reject(new IndexError(i.shown, 'network', 'aborted')), 1_000));
    });
    const running = r.refresh(x);
    r.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    await running;
    expect([x.state.failures, x.state.attempted, x.state.nextRefresh]).toEqual([0, false, undefined]);
    await r.refresh(x);
    expect(x.attempts).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
