import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** A serialized answer with its ETag: computed once per (version map generation, query), then sent as is. */
export interface Answer {
  readonly status: number;
  readonly type: string;
  /**
   * Bytes, not a string: every connection sending this answer then shares the one buffer. A string is copied
   * into native memory for each socket that cannot take it at once, so clients that ask and never read made
   * the service hold one copy per connection.
   */
  readonly body: Buffer;
  readonly etag: string;
}

export function answer(status: number, type: string, text: string): Answer {
  const body = Buffer.from(text);
  // A strong ETag from the bytes: an answer that did not change across a refresh keeps its ETag, so 304s survive.
  return { status, type, body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

/**
 * Answers by query, for the current generation only: when a newer generation is asked for, the old answers are
 * dropped at once rather than aged out. A query still running on an older map computes without caching.
 * A repeated query therefore costs one LRU lookup.
 */
export class AnswerCache {
  private generation = -1;
  private readonly cache: LRUCache<string, Answer>;

  constructor(options: { maxEntries?: number; maxBytes?: number } = {}) {
    this.cache = new LRUCache<string, Answer>({
      max: options.maxEntries ?? 20_000,
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      // The key counts too: a query string can make it kilobytes long, and a flood of distinct long queries
      // must not hold more than maxBytes.
      sizeCalculation: (a, key) => a.body.length + a.etag.length + key.length + 64,
    });
  }

  get size(): number {
    return this.cache.size;
  }

  /** What the entries count against `maxBytes`. */
  get bytes(): number {
    return this.cache.calculatedSize;
  }

  /**
   * The answer for `key`, computing it on a miss. Not-found answers are kept only when `keepNotFound` (costly to
   * compute, such as wildcard scans): a name lookup is cheaper than an entry, and a flood of unknown names must
   * not push the real answers out.
   */
  get(generation: number, key: string, compute: () => Answer, keepNotFound = false): Answer {
    const hit = this.peek(generation, key);
    if (hit !== undefined) return hit;
    const computed = compute();
    this.put(generation, key, computed, keepNotFound);
    return computed;
  }

  /** The cached answer for `key` in `generation`, if any. */
  peek(generation: number, key: string): Answer | undefined {
    this.advance(generation);
    return generation === this.generation ? this.cache.get(key) : undefined;
  }

  /** Keeps an answer computed for `generation` (not when a newer generation has come meanwhile). */
  put(generation: number, key: string, a: Answer, keepNotFound = false): void {
    this.advance(generation);
    if (generation === this.generation && (a.status === 200 || keepNotFound)) this.cache.set(key, a);
  }

  private advance(generation: number): void {
    if (generation > this.generation) {
      this.cache.clear();
      this.generation = generation;
    }
  }
}
