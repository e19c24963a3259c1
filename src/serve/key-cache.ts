import type { TrustedKey } from '../decode/signature.js';
import { loadRepositoryKeys, type RepositorySource } from './sources.js';

/**
 * Each repository's trusted keys, loaded once and shared by its indexes' refreshes, restores and saves. A load
 * that fails is forgotten, so the next asks again; `forget` drops loaded keys after a key or signature failure,
 * since the repository may have rotated them.
 */
export class KeyCache {
  private readonly loads = new Map<string, Promise<TrustedKey[]>>();

  constructor(private readonly requestTimeoutMs: number) {}

  /**
   * The keys of `source`, shared with every caller until they fail or are forgotten. A caller's `signal` ends its
   * own wait (its refresh's deadline, shutdown); the load it shares goes on for the others.
   */
  get(source: RepositorySource, signal: AbortSignal): Promise<TrustedKey[]> {
    let keys = this.loads.get(source.name);
    if (!keys) {
      const loading = loadRepositoryKeys(source, { timeoutMs: this.requestTimeoutMs, signal });
      loading.catch(() => {
        if (this.loads.get(source.name) === loading) this.loads.delete(source.name);
      });
      this.loads.set(source.name, (keys = loading));
    }
    return raceAbort(keys, signal);
  }

  forget(repository: string): void {
    this.loads.delete(repository);
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (a shared key download may outlive one refresh). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = () => (signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (
        signal.removeEventListener('abort', onAbort),
        reject(e instanceof Error ? e : new Error(String(e)))
      ),
    );
  });
}
