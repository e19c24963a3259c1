import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServiceSettings } from '../config/settings.js';
import { REASON_HEADER } from '../datasource/reasons.js';
import { TEXT } from './answers.js';
import { answerClientError } from './client-errors.js';
import { guardConnections } from './connections.js';
import type { ServiceMetrics } from './metrics.js';

/**
 * The management listener (`managementPort`): a port of its own for the orchestrator and the monitoring, so that
 * client connections, however many and however slow, never stand between the kubelet and `/livez`. It answers the
 * read-only operator routes, through the app's own router (same handlers, hooks and metrics as on the listen
 * port); `POST /-/refresh` stays on the listen port, with its token. A blocked event loop blocks every port alike:
 * this protects the probes from connections, not from CPU.
 */
export const MANAGEMENT_ROUTES: readonly string[] = ['/livez', '/readyz', '/metrics', '/-/status'];

/** Kubelet probes and a scraper or two: a few connections; more are shed (idle first) or refused. */
const MANAGEMENT_MAX_CONNECTIONS = 64;

export function managementServer(app: FastifyInstance, settings: ServiceSettings, metrics: ServiceMetrics): Server {
  const server = createServer(
    {
      requestTimeout: settings.clientTimeoutMs,
      headersTimeout: settings.clientTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(settings.clientTimeoutMs / 2))),
    },
    (request, response) => {
      const url = request.url ?? '';
      const query = url.indexOf('?');
      const path = query === -1 ? url : url.slice(0, query);
      if ((request.method === 'GET' || request.method === 'HEAD') && MANAGEMENT_ROUTES.includes(path))
        return app.routing(request, response);
      response
        .writeHead(404, { 'content-type': TEXT, [REASON_HEADER]: 'no-route' })
        .end(`the management port answers GET ${MANAGEMENT_ROUTES.join(', ')} only\n`);
    },
  );
  // A request Node cannot read, or that does not arrive in time: one line with its reason code, as on the listen port.
  server.on('clientError', answerClientError);
  const listener = 'management';
  const held = guardConnections(server, {
    maxConnections: MANAGEMENT_MAX_CONNECTIONS,
    stallTimeoutMs: settings.clientTimeoutMs,
    onDrop: (why) => metrics.droppedConnections.inc({ listener, why }),
  });
  metrics.connectionStates.set(listener, held);
  // Closed with the app, after the listen port has drained: the probes answer during the drain.
  app.addHook('onClose', async () => {
    if (!server.listening) return;
    const closed = once(server, 'close');
    server.close();
    await closed;
  });
  return server;
}

/** Listens on `host:port`; resolves to the address (port 0: the one the system chose). */
export async function listenManagement(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
