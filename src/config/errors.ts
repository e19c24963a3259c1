import { UserError } from '../errors.js';

/** A configuration mistake, naming where it was (file key, environment variable or flag) and the bad value. */
export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown; context?: string }) {
    super('config', message, options);
  }
}
