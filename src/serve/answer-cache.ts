import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { REASON_HEADER, type Reason } from '../datasource/reasons.js';

/**
 * Bodies up to this size go out as strings, larger ones as Buffers. Node writes a string body in one `write`
 * together with the headers, but a Buffer body as a second chunk (`writev`), which cost about 10 µs per answer
 * here. A string that a socket cannot take at once is copied for that socket, though, where a Buffer is shared:
 * at most this much per stalled connection (Node stops reading a connection's next requests once this much is
 * waiting: the socket's highWaterMark), while a large answer read by many slow clients is held once.
 */
export const STRING_BODY_MAX = 16 * 1024;

/** A serialized answer with its ETag and headers: computed once per (version map generation, query), sent as is. */
export interface Answer {
  readonly status: number;
  /** The reason code of every answer but a 200 (REASONS). */
  readonly reason: Reason | undefined;
  readonly type: string;
  readonly body: string | Buffer;
  readonly etag: string;
  /** What the body costs in memory, for the cache's byte bound. */
  readonly size: number;
  /** Every header of the answer, content-length included, as name/value pairs: made once, written as they are. */
  readonly head: readonly string[];
  /** How a string body is written: `latin1` (copied byte for byte) when it is all ASCII, else `utf8`. */
  readonly encoding: 'latin1' | 'utf8';
}

/** An answer from text, or from bytes already made (a binary body: sent as is, never as a string). */
export function answer(status: number, type: string, text: string | Buffer, reason?: Reason): Answer {
  const bytes = Buffer.byteLength(text);
  // A strong ETag from the bytes: an answer that did not change across a refresh keeps its ETag, so 304s survive.
  const etag = `"${createHash('sha1').update(text).digest('base64url')}"`;
  const small = typeof text === 'string' && bytes <= STRING_BODY_MAX;
  const head = [
    'content-type',
    type,
    'etag',
    etag,
    'cache-control',
    'no-cache',
    'x-content-type-options',
    'nosniff',
    'content-length',
    String(bytes),
  ];
  if (reason) head.push(REASON_HEADER, reason);
  return {
    status,
    reason,
    type,
    body: small || typeof text !== 'string' ? text : Buffer.from(text),
    etag,
    // V8 keeps a string with a character past Latin-1 at two bytes per character.
    size: small && bytes !== text.length ? 2 * text.length : bytes,
    head,
    encoding: typeof text === 'string' && bytes === text.length ? 'latin1' : 'utf8',
  };
}

/** Memory an entry holds beside its body: the answer, its headers and ETag, the cache's own bookkeeping. */
const ENTRY_OVERHEAD = 400;

export interface AnswerCacheOptions {
  /** Bound on what the entries hold, keys included (`answerCacheBytes`). */
  maxBytes: number;
}

/**
 * Answers by request, for the current generation only: when a newer generation is asked for, the old answers are
 * dropped at once rather than aged out. A query still running on an older map computes without caching. Bounded
 * by bytes (least recently used first out), so neither every name of a large index read once nor a flood of
 * distinct query strings holds more than `maxBytes`.
 *
 * Keys are the raw request URL (`/bash?arch=x86_64`), so that a repeated request is answered before its query is
 * validated or normalised (see the routes' `onRequest` hooks), or a normalised query for answers that are costly
 * to compute whatever their spelling (wildcard scans).
 */
export class AnswerCache {
  private generation = -1;
  private readonly cache: LRUCache<string, Answer>;
  /** Entries dropped to stay within maxBytes (not those dropped with an old generation). */
  evictions = 0;
  /** Lookups answered from the cache, and those that were not (counted in /metrics). */
  hits = 0;
  misses = 0;

  constructor(options: AnswerCacheOptions) {
    this.cache = new LRUCache<string, Answer>({
      maxSize: Math.max(1, options.maxBytes),
      // The key counts too: a query string can make it kilobytes long, and a flood of distinct long queries
      // must not hold more than maxBytes. An answer too large for the whole bound is not kept.
      sizeCalculation: (a, key) => a.size + 2 * key.length + ENTRY_OVERHEAD,
      dispose: (_a, _key, why) => {
        if (why === 'evict') this.evictions++;
      },
    });
  }

  get size(): number {
    return this.cache.size;
  }

  /** What the entries count against `maxBytes`. */
  get bytes(): number {
    return this.cache.calculatedSize;
  }

  get maxBytes(): number {
    return this.cache.maxSize;
  }

  /** The cached answer for `key` in `generation`, if any. */
  peek(generation: number, key: string): Answer | undefined {
    if (generation !== this.generation) this.advance(generation);
    const hit = generation === this.generation ? this.cache.get(key) : undefined;
    if (hit === undefined) this.misses++;
    else this.hits++;
    return hit;
  }

  /**
   * Keeps an answer computed for `generation` (not when a newer generation has come meanwhile). Not-found answers
   * are kept only when `keepNotFound` (costly to compute, such as wildcard scans): a name lookup is cheaper than
   * an entry, and a flood of unknown names must not push the real answers out.
   */
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
