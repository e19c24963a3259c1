import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** A serialized answer: computed once per (version map generation, request), then served as is. */
export interface Answer {
  status: number;
  type: string;
  body: string;
  etag: string | undefined;
}

export function answer(status: number, type: string, body: string): Answer {
  // Strong ETag from the bytes: identical answers across generations keep their ETag, so 304s survive refreshes.
  const etag = status === 200 ? `"${createHash('sha1').update(body).digest('base64url')}"` : undefined;
  return { status, type, body, etag };
}

export class AnswerCache {
  private readonly cache = new LRUCache<string, Answer>({ max: 10_000, maxSize: 64 * 1024 * 1024, sizeCalculation: (a) => a.body.length + 64 });

  /** The answer for `key` in `generation`, computing it on a miss. Old generations age out of the LRU. */
  get(generation: number, key: string, compute: () => Answer): Answer {
    const full = `${generation}\u0000${key}`;
    let hit = this.cache.get(full);
    if (!hit) {
      hit = compute();
      this.cache.set(full, hit);
    }
    return hit;
  }
}
