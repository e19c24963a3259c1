import type { Registry } from 'prom-client';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5];

interface Series {
  route: string;
  method: string;
  status: number;
  count: number;
  buckets: Float64Array;
  sum: number;
}

/**
 * Requests by route and status and their latency, counted in plain arrays on the hot path and turned into
 * Prometheus series only when /metrics is scraped. prom-client's own counters hash their labels on every call,
 * which cost a fifth of the query throughput.
 */
export class RequestMetrics {
  private readonly series = new Map<string, Series>();

  constructor(registry: Registry) {
    registry.registerMetric({
      name: 'apk_indexer_http_requests_total',
      help: 'HTTP requests by route, method and status',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name: 'apk_indexer_http_requests_total',
        help: 'HTTP requests by route, method and status',
        type: 'counter',
        aggregator: 'sum',
        values: [...this.series.values()].map((s) => ({
          labels: { route: s.route, method: s.method, status: String(s.status) },
          value: s.count,
        })),
      }),
    } as never);
    registry.registerMetric({
      name: 'apk_indexer_http_request_duration_seconds',
      help: 'HTTP request latency by route, method and status',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: 'apk_indexer_http_request_duration_seconds',
        help: 'HTTP request latency by route, method and status',
        type: 'histogram',
        aggregator: 'sum',
        values: [...this.series.values()].flatMap((s) => {
          const labels = { route: s.route, method: s.method, status: String(s.status) };
          const metricName = 'apk_indexer_http_request_duration_seconds';
          return [
            ...BUCKETS.map((le, i) => ({
              labels: { ...labels, le },
              value: s.buckets[i]!,
              metricName: `${metricName}_bucket`,
            })),
            { labels: { ...labels, le: '+Inf' }, value: s.count, metricName: `${metricName}_bucket` },
            { labels, value: s.sum, metricName: `${metricName}_sum` },
            { labels, value: s.count, metricName: `${metricName}_count` },
          ];
        }),
      }),
    } as never);
  }

  record(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let s = this.series.get(key);
    if (!s)
      this.series.set(
        key,
        (s = { route, method, status, count: 0, buckets: new Float64Array(BUCKETS.length), sum: 0 }),
      );
    s.count++;
    s.sum += seconds;
    for (let i = BUCKETS.length - 1; i >= 0 && seconds <= BUCKETS[i]!; i--) s.buckets[i]!++;
  }
}
