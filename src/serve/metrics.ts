import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectionStates } from './connections.js';
import { RequestMetrics } from './request-metrics.js';

/** Prometheus metrics of one server; a registry of its own so several servers can live in one process (tests). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'apk_indexer_' });
  const indexLabels = ['index', 'arch', 'repository'] as const;
  const connectionStates = new Map<string, () => ConnectionStates>();
  const registers = [registry];
  return {
    registry,
    records: new Gauge({
      name: 'apk_indexer_index_records',
      help: 'Package records in the last good read of each index',
      labelNames: indexLabels,
      registers,
    }),
    skippedVersions: new Gauge({
      name: 'apk_indexer_index_skipped_versions',
      help: 'Records (and provided versions) of the last good read of each index skipped: not a valid APK version',
      labelNames: indexLabels,
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'apk_indexer_index_last_success_timestamp_seconds',
      help: 'Time of the last successful refresh (changed or not modified)',
      labelNames: indexLabels,
      registers,
    }),
    refreshDuration: new Histogram({
      name: 'apk_indexer_refresh_duration_seconds',
      help: 'Time to refresh one index, failures included',
      labelNames: indexLabels,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    refreshes: new Counter({
      name: 'apk_indexer_refreshes_total',
      help: 'Successful refreshes by outcome (changed, not-modified)',
      labelNames: [...indexLabels, 'outcome'],
      registers,
    }),
    failures: new Counter({
      name: 'apk_indexer_refresh_failures_total',
      help: 'Failed refreshes by reason (network, http-status, redirect, gzip, tar, format, signature, limit, key, internal)',
      labelNames: [...indexLabels, 'reason'],
      registers,
    }),
    regressions: new Counter({
      name: 'apk_indexer_index_regressions_total',
      help: 'Validly signed indexes older than the one they replaced (kind: build-time, records); served, and warned about',
      labelNames: [...indexLabels, 'kind'],
      registers,
    }),
    holdsReadiness: new Gauge({
      name: 'apk_indexer_index_holds_readiness',
      help: '1 while an index has not loaded and is worth waiting for (it keeps /readyz at 503), else 0',
      labelNames: indexLabels,
      registers,
    }),
    downloadHeld: new Gauge({
      name: 'apk_indexer_download_held_bytes',
      help: 'Compressed bytes index downloads in flight hold until verified (bounded in total by limits.downloadBudget)',
      registers,
    }),
    generation: new Gauge({
      name: 'apk_indexer_generation',
      help: 'Version map generation; increases whenever an index changes',
      registers,
    }),
    /** Each listener's guard (connections.ts) says what it holds; read on scrape. */
    connectionStates,
    connections: new Gauge({
      name: 'apk_indexer_connections',
      help: 'Connections held now, by listener (client: the listen port; management: the management port) and state: busy (a request in progress), idle (none), stalled (its answer stopped moving)',
      labelNames: ['listener', 'state'],
      registers,
      collect() {
        for (const [listener, states] of connectionStates)
          for (const [state, count] of Object.entries(states()) as Array<[string, number]>)
            this.set({ listener, state }, count);
      },
    }),
    droppedConnections: new Counter({
      name: 'apk_indexer_dropped_connections_total',
      help: 'Connections closed by the service, by listener and why: refused (at maxConnections, none to shed), stalled (answer not read for clientTimeout), shed-stalled and shed-idle (closed, oldest first, to make room for a new one)',
      labelNames: ['listener', 'why'],
      registers,
    }),
    secdb: {
      ids: new Gauge({
        name: 'apk_indexer_secdb_ids',
        help: 'Fix IDs in the last good read of each security database',
        labelNames: ['repository'],
        registers,
      }),
      lastSuccess: new Gauge({
        name: 'apk_indexer_secdb_last_success_timestamp_seconds',
        help: 'Time of the last successful security database refresh',
        labelNames: ['repository'],
        registers,
      }),
      refreshes: new Counter({
        name: 'apk_indexer_secdb_refreshes_total',
        help: 'Successful security database refreshes by outcome (changed, not-modified)',
        labelNames: ['repository', 'outcome'],
        registers,
      }),
      failures: new Counter({
        name: 'apk_indexer_secdb_refresh_failures_total',
        help: 'Failed security database refreshes by reason',
        labelNames: ['repository', 'reason'],
        registers,
      }),
    },
    // Requests by route, method and status with latency: counted in plain arrays, exported on scrape.
    requests: new RequestMetrics(registry),
  };
}

export type ServiceMetrics = ReturnType<typeof createMetrics>;
