import { installRenovate } from '../helpers/renovate.js';
import { buildIfStale } from './build.js';

/**
 * Runs once per `vitest run`, before any worker starts: builds dist/ for the tests that run the real CLI, and
 * installs real Renovate for the end-to-end tests, so two workers never do either at the same time.
 * APK_INDEXER_RENOVATE=skip leaves Renovate out (the end-to-end tests then fail, saying so).
 */
export default async function setup(): Promise<void> {
  buildIfStale();
  if (process.env.APK_INDEXER_RENOVATE !== 'skip')
    await installRenovate((line) => process.stderr.write(`global setup: ${line}\n`));
}
