import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server; a registry of its own so several servers can live in one process (tests). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'apk_indexer_' });
  const indexLabels = ['index', 'arch', 'repository'] as const;
  return {
    registry,
    entries: new Gauge({ name: 'apk_indexer_index_records', help: 'Package records in the last good read of each index', labelNames: indexLabels, registers: [registry] }),
    lastSuccess: new Gauge({ name: 'apk_indexer_index_last_success_timestamp_seconds', help: 'Time of the last successful refresh (changed or not modified)', labelNames: indexLabels, registers: [registry] }),
    refreshDuration: new Histogram({ name: 'apk_indexer_refresh_duration_seconds', help: 'Time to refresh one index', labelNames: indexLabels, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry] }),
    refreshes: new Counter({ name: 'apk_indexer_refreshes_total', help: 'Successful refreshes by outcome (changed, not-modified)', labelNames: [...indexLabels, 'outcome'], registers: [registry] }),
    failures: new Counter({ name: 'apk_indexer_refresh_failures_total', help: 'Failed refreshes by reason', labelNames: [...indexLabels, 'reason'], registers: [registry] }),
    generation: new Gauge({ name: 'apk_indexer_generation', help: 'Version map generation; increases when any index changes', registers: [registry] }),
    requests: new Counter({ name: 'apk_indexer_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    latency: new Histogram({ name: 'apk_indexer_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['route', 'method'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
  };
}

export type ServiceMetrics = ReturnType<typeof createMetrics>;
