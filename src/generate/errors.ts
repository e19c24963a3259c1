import { UserError, UsageError } from '../errors.js';

/** A value given on the command line that the generators cannot use: reported with the usage, exit code 2. */
export class GenerateInputError extends UsageError {
  override readonly name = 'GenerateInputError';
}

/**
 * A version source (a running apk-indexer) that could not answer: unreachable, not ready, or answering
 * something that is not the Renovate datasource body. The message names the URL; reported without a stack, exit 2.
 */
export class VersionSourceError extends UserError {
  override readonly name = 'VersionSourceError';
  constructor(
    readonly url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('server', `${url}: ${detail}`, options);
  }
}
