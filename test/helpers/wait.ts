import { expect, vi } from 'vitest';

/**
 * The one way a test waits for something to happen: `check` (assertions, or a value) is tried again every 25 ms
 * until it passes, and its last failure is the test's failure after `timeoutMs`. The default is generous because
 * the machines that run the suite are shared; a test that waits on a timer of its own (a timeout, an interval)
 * says so with fake timers or a bound, not with this.
 */
export function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 25 });
}

/** Waits until `GET <baseUrl>/readyz` answers 200 (a service or a serve process that has loaded its indexes). */
export async function untilReady(baseUrl: string, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => {
    const res = await fetch(`${baseUrl}/readyz`);
    expect(res.status, await res.text()).toBe(200);
  }, timeoutMs);
}
