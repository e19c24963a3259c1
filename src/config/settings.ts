import type { ReadLimits } from '../parse/limits.js';
import { DEFAULT_LIMITS } from '../parse/limits.js';

/** Credentials for a private repository, read from environment variables named here (never stored in files). */
export type RepositoryAuth = { bearerTokenEnv: string } | { usernameEnv: string; passwordEnv: string };

export interface RepositorySettings {
  /** Used by `?repository=`, `/-/status` and metrics; unique. */
  name: string;
  /** Base URL (`<url>/<arch>/APKINDEX.tar.gz`) or a bare APKINDEX.tar.gz URL or path. */
  url: string;
  /** Repository URLs this one stands for (it is a mirror or a local copy of them): how apko files name it. */
  aliases?: string[];
  /** APK arch names read under a base URL; empty for a bare index URL. */
  arches: string[];
  /** Trusted public keys, by path or URL; matched to signatures by file name. Empty: unverified. */
  keys: string[];
  auth?: RepositoryAuth;
  /** Overrides the service-wide refresh interval for this repository. */
  updateIntervalMs?: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated service configuration: defaults < file < environment < flags. */
export interface ServiceSettings {
  host: string;
  port: number;
  updateIntervalMs: number;
  /** How long a query waits for the first load of every index before answering 503. */
  firstLoadTimeoutMs: number;
  /** Upstream timeout: for response headers and for each piece of the body. */
  requestTimeoutMs: number;
  /** Deadline for a whole refresh (download and read), so an upstream trickling bytes cannot hold one forever. */
  refreshTimeoutMs: number;
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  /** When set, `POST /-/refresh` needs `Authorization: Bearer <token>`. */
  refreshToken: string | undefined;
  limits: ReadLimits;
  /** A query without `?arch=` answers versions from any arch (else only those on every arch holding the package). */
  anyArch: boolean;
  repositories: RepositorySettings[];
}

/** What `apk-indexer serve` reads without any configuration (also `npm start`). */
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
  refreshTimeoutMs: 600_000,
  logLevel: 'info',
  logFormat: 'text',
  refreshToken: undefined,
  limits: { ...DEFAULT_LIMITS },
  anyArch: false,
};
