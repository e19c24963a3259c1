import Fastify from 'fastify';
import { DEFAULTS } from '../src/config/settings.js';
import { buildService } from '../src/serve/app.js';

/**
 * Child process of the query benchmark: the datasource over a synthetic index, and beside it a bare Fastify
 * route that returns a constant body, so both are measured against the same process setup.
 */
const [repoUrl, keyPath] = process.argv.slice(2) as [string, string];
const { app, store } = buildService(
  {
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    repositories: [{ name: 'bench', url: repoUrl, arches: ['x86_64'], keys: [keyPath] }],
  },
  { logger: false },
);
store.start();
await app.listen({ host: '127.0.0.1', port: 0 });
if (!(await store.whenReady(120_000))) throw new Error('index did not load');
const bare = Fastify({ logger: false });
const body = JSON.stringify({ releases: [{ version: '1.0.0-r0' }] });
bare.get('/*', async (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
await bare.listen({ host: '127.0.0.1', port: 0 });
const port = (a: typeof app) => (a.server.address() as { port: number }).port;
process.stdout.write(`${JSON.stringify({ service: port(app), bare: port(bare) })}\n`);
