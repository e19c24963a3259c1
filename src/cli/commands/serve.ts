import { formatDuration } from '../../config/duration.js';
import { ConfigError, EXIT, ListenError } from '../../errors.js';
import { flagsLayer } from '../../config/flags.js';
import { settingsFromFlags } from '../../config/load.js';
import { SERVE_FLAG_TABLE } from '../../config/options.js';
import type { ServiceSettings } from '../../config/settings.js';
import { buildService } from '../../serve/app.js';
import { listenManagement } from '../../serve/management.js';
import { localSourceProblem } from '../../load/local-check.js';
import { indexLocations, redactUrl } from '../../source/locations.js';
import { defineCommand } from '../command.js';
import type { CliIO } from '../io.js';
import { count } from '../../core/plural.js';

export const command = defineCommand({
  name: 'serve',
  summary: 'run the Renovate custom datasource service (default: Wolfi on :3000)',
  usage: ['[--config FILE] [--index URL...] [--arch a,b] [--key KEY...] [options]'],
  about: `Serves Renovate custom-datasource answers (GET /<package>) from APK indexes kept fresh in memory.
Without configuration: Wolfi (https://packages.wolfi.dev/os, x86_64 + aarch64, verified with Wolfi's key)
on 0.0.0.0:3000. Precedence: flags > environment > file > defaults. Reference: docs/configuration.md`,
  flags: SERVE_FLAG_TABLE,
  more: `hown3d/renovate-apk-indexer's flags work unchanged: -apk-index-url a,b  -update-interval 4  -log-level
-log-output; every flag also takes one dash (-port 8080). The refresh token is read from the file or
APK_INDEXER_REFRESH_TOKEN only.`,
  exits: `0 after SIGTERM/SIGINT/SIGHUP (each drains: in-flight requests are answered, then exit), 1 when the
server cannot start, 2 on a configuration mistake (a bad setting or URL, a missing local key or index file, a host
and port that cannot be listened on: in use, not this host's, or not permitted).`,
  run: async (args, io) => serve(settingsFromFlags(flagsLayer(args, process.cwd())), io),
});

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** After the drain, whatever still holds the event loop (a stuck socket) must not keep a stopped service alive. */
const EXIT_GRACE_MS = 10_000;

/** Runs the service until a signal drains it. A bad setting is a ConfigError, thrown: main prints its one line, exit 2. */
async function serve(settings: ServiceSettings, _io: CliIO): Promise<number> {
  const service = buildService(settings);
  // Local keys and indexes are there at start or it is a mistake (remote ones are retried by the refreshes).
  const local = await localSourceProblem(settings.repositories);
  if (local) {
    await service.app.close();
    throw new ConfigError(local);
  }
  const { app, store } = service;
  const indexes = settings.repositories.flatMap((r) => indexLocations(r).map((l) => redactUrl(l.url)));
  // Listen first: a port in use is one line and exit 2, with no index loading started behind it.
  try {
    await app.listen({ host: settings.host, port: settings.port });
  } catch (err) {
    await app.close();
    throw listenError(`${settings.host}:${settings.port}`, err);
  }
  if (service.management && settings.managementPort !== undefined) {
    try {
      const { port } = await listenManagement(service.management, settings.host, settings.managementPort);
      app.log.info(`management port (/livez, /readyz, /metrics, /-/status) at http://${settings.host}:${port}`);
    } catch (err) {
      await app.close();
      throw listenError(`${settings.host}:${settings.managementPort}`, err);
    }
  }
  app.log.info(
    {
      repositories: settings.repositories.map((r) => r.name),
      indexes,
      updateInterval: formatDuration(settings.updateIntervalMs),
    },
    `loading ${count(indexes.length, 'index', 'indexes')}`,
  );
  store.start();
  return new Promise<number>((resolve) => {
    // SIGHUP (a closed terminal, some supervisors' stop) drains as SIGTERM does; it does not reload.
    const shutdown = (signal: NodeJS.Signals) => {
      for (const s of SIGNALS) process.off(s, shutdown);
      app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      // A second signal while draining falls back to Node's default: immediate exit.
      app.close().then(
        () => {
          app.log.info('stopped');
          setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
          resolve(0);
        },
        (err: unknown) => {
          app.log.error({ err }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    for (const s of SIGNALS) process.on(s, shutdown);
  });
}

/** Why the listener could not open, in words: exit 2 for what the user can change (the host or port), else 1. */
function listenError(where: string, err: unknown): ListenError {
  const code = (err as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    EADDRINUSE: 'the port is already in use',
    EADDRNOTAVAIL: 'no such address on this host',
    EACCES: 'permission denied',
    ENOTFOUND: 'no such host',
  };
  const reason = (code !== undefined && reasons[code]) || (err as Error).message;
  return new ListenError(`cannot listen on ${where}: ${reason}`, {
    exit: code !== undefined && code in reasons ? EXIT.user : EXIT.found,
    cause: err,
  });
}
