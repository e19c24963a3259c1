import { Counter, Gauge, type Registry } from 'prom-client';
import type { AnswerCache } from './answer-cache.js';
import type { IndexStore } from './store.js';

/**
 * Metrics read from the service's state when /metrics is scraped, so the hot path counts nothing beyond plain
 * numbers: the answer cache (entries, bytes against its bound, hits, misses, evictions), and how each loaded index
 * was verified.
 */
export function registerStateMetrics(registry: Registry, state: { cache: AnswerCache; store: IndexStore }): void {
  const { cache, store } = state;
  const registers = [registry];
  new Gauge({
    name: 'apk_indexer_answer_cache_bytes',
    help: 'Memory the cached answers count against answerCacheBytes (bodies, keys, bookkeeping)',
    registers,
    collect() {
      this.set(cache.bytes);
    },
  });
  new Gauge({
    name: 'apk_indexer_answer_cache_max_bytes',
    help: 'The answer cache bound (answerCacheBytes)',
    registers,
    collect() {
      this.set(cache.maxBytes);
    },
  });
  new Gauge({
    name: 'apk_indexer_answer_cache_entries',
    help: 'Answers cached for the current generation',
    registers,
    collect() {
      this.set(cache.size);
    },
  });
  const lookups = new Counter({
    name: 'apk_indexer_answer_cache_lookups_total',
    help: 'Answer cache lookups by result (hit, miss)',
    labelNames: ['result'],
    registers,
    collect() {
      lookups.reset();
      lookups.inc({ result: 'hit' }, cache.hits);
      lookups.inc({ result: 'miss' }, cache.misses);
    },
  });
  const evictions = new Counter({
    name: 'apk_indexer_answer_cache_evictions_total',
    help: 'Answers dropped to stay within answerCacheBytes (least recently used first)',
    registers,
    collect() {
      evictions.reset();
      evictions.inc(cache.evictions);
    },
  });
  const verification = new Gauge({
    name: 'apk_indexer_index_verification',
    help: 'Each loaded index by how it was verified: verification="verified" (by the key in key) or "unverified" (no key configured); 1 per index',
    labelNames: ['index', 'arch', 'repository', 'verification', 'key'],
    registers,
    collect() {
      verification.reset();
      for (const i of store.status()) {
        if (!i.verification) continue;
        verification.set(
          {
            index: i.url,
            arch: i.arch ?? '',
            repository: i.repository,
            verification: i.verification,
            key: i.verifiedBy ?? '',
          },
          1,
        );
      }
    },
  });
}
