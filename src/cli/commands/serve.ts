import { ConfigError } from '../../config/errors.js';
import { loadSettings } from '../../config/load.js';
import { buildService } from '../../serve/app.js';
import type { CliIO } from '../io.js';

const HELP = `usage: apk-indexer serve [--config FILE] [--index URL...] [--arch a,b] [--key KEY...] [options]

Serves Renovate custom-datasource answers (GET /<package>) from APK indexes kept fresh in memory.
Without configuration: Wolfi (https://packages.wolfi.dev/os, x86_64 + aarch64, verified with Wolfi's key).

  --config FILE             YAML configuration (env APK_INDEXER_CONFIG); see docs/configuration.md
  --index URL               repository base URL or APKINDEX.tar.gz URL/path, repeatable (APK_INDEXER_INDEX_URL)
  --arch a,b                arches of base URLs (APK_INDEXER_ARCHES, default x86_64)
  --key KEY                 trusted key path or URL, repeatable (APK_INDEXER_KEYS)
  --from-apko FILE          take repositories, keyring and archs from apko image files (follows include:)
  --host H --port P         listen address (APK_INDEXER_HOST, APK_INDEXER_PORT; default 0.0.0.0:3000)
  --update-interval D       refresh interval: 4h, 15m, or a number of hours (APK_INDEXER_UPDATE_INTERVAL)
  --first-load-timeout D    how long a query waits for the first load before 503 (default 30s)
  --log-level L             fatal|error|warn|info|debug|trace|silent (APK_INDEXER_LOG_LEVEL)
  --log-output text|json    log format (APK_INDEXER_LOG_OUTPUT)

hown3d/renovate-apk-indexer's flags work unchanged: -apk-index-url, -update-interval, -log-level, -log-output.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  let settings;
  try {
    settings = loadSettings(args);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`apk-indexer serve: ${err.message}\n`);
    return 2;
  }
  if (settings.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const { app, store } = buildService(settings);
  store.start();
  await app.listen({ host: settings.host, port: settings.port });
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      app.close().then(
        () => resolve(0),
        (err) => {
          app.log.error(err, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
