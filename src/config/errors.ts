/** A configuration mistake, naming where it was (file key, environment variable or flag) and the bad value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
