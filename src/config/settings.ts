import type { ReadLimits } from '../parse/limits.js';
import { DEFAULT_LIMITS } from '../parse/limits.js';

/** Credentials for a private repository, read from environment variables named here (never stored in files). */
export type RepositoryAuth = { bearerTokenEnv: string } | { usernameEnv: string; passwordEnv: string };

export interface RepositorySettings {
  name: string;
  /** Base URL (`<url>/<arch>/APKINDEX.tar.gz`) or a bare APKINDEX.tar.gz URL or path. */
  url: string;
  arches: string[];
  /** Trusted public keys, by path or URL; matched to signatures by file name. Empty: unverified. */
  keys: string[];
  auth?: RepositoryAuth;
  updateIntervalMs?: number;
}

/** The validated service configuration: file, environment and flags merged, in that order of precedence. */
export interface ServiceSettings {
  host: string;
  port: number;
  updateIntervalMs: number;
  firstLoadTimeoutMs: number;
  requestTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logFormat: 'text' | 'json';
  refreshToken: string | undefined;
  limits: ReadLimits;
  repositories: RepositorySettings[];
}

export const WOLFI: RepositorySettings = {
  name: 'wolfi',
  url: 'https://packages.wolfi.dev/os',
  arches: ['x86_64', 'aarch64'],
  keys: ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub'],
};

export const DEFAULTS: Omit<ServiceSettings, 'repositories'> = {
  host: '0.0.0.0',
  port: 3000,
  updateIntervalMs: 4 * 3_600_000,
  firstLoadTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  logLevel: 'info',
  logFormat: 'text',
  refreshToken: undefined,
  limits: { ...DEFAULT_LIMITS },
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
