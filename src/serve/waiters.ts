import { timerDelay } from './retry.js';

/**
 * Promises that settle once a condition is decided, looked at again on every change the store reports (a first
 * load that succeeded or failed, stop): queries waiting for the first load, and `whenReady`.
 */
export class Waiters {
  private waiting: Array<() => void> = [];

  /** Resolves with `check`'s answer once it gives one (undefined: not yet), or false after `timeoutMs`. */
  until(check: () => boolean | undefined, timeoutMs: number): Promise<boolean> {
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve) => {
      const look = () => {
        const now = check();
        if (now === undefined) return void this.waiting.push(look);
        clearTimeout(timer);
        resolve(now);
      };
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== look);
        resolve(false);
      }, timerDelay(timeoutMs));
      this.waiting.push(look);
    });
  }

  /** How many wait now. */
  get size(): number {
    return this.waiting.length;
  }

  /** Something changed: every waiter looks again. */
  changed(): void {
    for (const look of this.waiting.splice(0)) look();
  }
}
