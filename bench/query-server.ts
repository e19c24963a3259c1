import { Session } from 'node:inspector/promises';
import Fastify from 'fastify';
import { DEFAULTS } from '../src/config/settings.js';
import { buildService } from '../src/serve/app.js';

/**
 * Child process of the query benchmarks: the datasource over a synthetic index, and beside it a bare Fastify
 * route that returns a constant body, so both are measured against the same process setup. The bare server also
 * answers `GET /__stats` (not a package route): this process's CPU time and memory, after a full GC with `?gc=1`
 * (run with --expose-gc), and the answer cache's figures; `POST /__profile/start` and `/__profile/stop` take a CPU
 * profile of this process.
 *
 * argv: repository URL, key path; env BENCH_ANSWER_CACHE_BYTES sets answerCacheBytes.
 */
const [repoUrl, keyPath] = process.argv.slice(2) as [string, string];
const cacheBytes = process.env.BENCH_ANSWER_CACHE_BYTES;
const { app, store, cache } = buildService(
  {
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    ...(cacheBytes && { answerCacheBytes: Number(cacheBytes) }),
    repositories: [{ name: 'bench', url: repoUrl, arches: ['x86_64'], keys: [keyPath] }],
  },
  { logger: false },
);
store.start();
await app.listen({ host: '127.0.0.1', port: 0 });
if (!(await store.whenReady(300_000))) throw new Error('index did not load');
const bare = Fastify({ logger: false });
const body = JSON.stringify({ releases: [{ version: '1.0.0-r0' }] });
bare.get<{ Querystring: { gc?: string } }>('/__stats', async (request) => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (request.query.gc && gc) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
    gc();
  }
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    cpuMicros: cpu.user + cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    cacheBytes: cache.bytes,
    cacheEntries: cache.size,
    cacheEvictions: cache.evictions,
  };
});
// A CPU profile of this process between two calls (bench/profile.ts reads it), so that loading is left out.
const session = new Session();
session.connect();
bare.post('/__profile/start', async () => {
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {};
});
bare.post('/__profile/stop', async () => (await session.post('Profiler.stop')).profile);
bare.get('/*', async (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
await bare.listen({ host: '127.0.0.1', port: 0 });
const port = (a: typeof app) => (a.server.address() as { port: number }).port;
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ service: port(app), bare: port(bare) })}\n`);
