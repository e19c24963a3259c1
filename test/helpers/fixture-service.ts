import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { RepositorySettings, ServiceSettings } from '../../src/config/settings.js';
import { DEFAULTS } from '../../src/config/settings.js';
import { generateFixtureKey, writeFixtureRepo, type FixtureKey, type FixturePackage } from '../fixtures/apk-repo.js';
import { buildService, type Service, type ServiceOptions } from '../../src/serve/app.js';
import { listenManagement } from '../../src/serve/management.js';
import { Upstream, type UpstreamOptions } from './upstream.js';

/** Packages per arch of one repository: `{ x86_64: [...], aarch64: [...] }`. */
export type RepoContent = Record<string, readonly FixturePackage[]>;

export interface FixtureServiceOptions {
  /** Repositories by name, each written with `writeFixtureRepo` under `<dir>/<name>/` and served over HTTP. */
  repositories: Record<string, RepoContent>;
  /** Settings over the test defaults (127.0.0.1:0, silent, short timeouts). */
  settings?: Partial<ServiceSettings>;
  /**
   * Extra per-repository settings (auth, updateIntervalMs, ...); a function gets the upstream's base URL
   * (`http://127.0.0.1:<port>`), for URLs with credentials in them, say.
   */
  repositorySettings?:
    | Record<string, Partial<RepositorySettings>>
    | ((upstreamUrl: string) => Record<string, Partial<RepositorySettings>>);
  service?: ServiceOptions;
  upstream?: Omit<UpstreamOptions, 'root'>;
  /** Start loading and wait until ready (default true). */
  start?: boolean;
  /** Also listen on 127.0.0.1:0 for real HTTP clients (Renovate, autocannon, curl); default false (inject). */
  listen?: boolean;
}

/**
 * A service over real fixture repositories (real gzip, tar and RSA signatures) served from 127.0.0.1.
 * For the Renovate end-to-end test and benchmarks: `startFixtureService({repositories: {os: {...}}, listen: true})`
 * then point the client at `baseUrl`; `publish()` changes a repository, `refresh()` makes the service see it.
 */
export interface FixtureService {
  service: Service;
  upstream: Upstream;
  key: FixtureKey;
  dir: string;
  /** `http://127.0.0.1:<port>` when listening. */
  baseUrl: string;
  /** The management port's `http://127.0.0.1:<port>` when listening with `settings.managementPort` set. */
  managementUrl: string;
  /** Rewrites a repository's indexes (signed with the same key), e.g. with a new version. */
  publish(name: string, content: RepoContent, description?: string): Promise<void>;
  /** POST /-/refresh through the app; resolves when every index has been refreshed. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

let sharedKey: FixtureKey | undefined;

/** One RSA key per test process: generating one takes a while and nothing depends on it being fresh. */
export function fixtureKey(): FixtureKey {
  sharedKey ??= generateFixtureKey('fixture-service.rsa.pub');
  return sharedKey;
}

export function testSettings(
  repositories: RepositorySettings[],
  overrides: Partial<ServiceSettings> = {},
): ServiceSettings {
  return {
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    firstLoadTimeoutMs: 5_000,
    requestTimeoutMs: 5_000,
    refreshMinIntervalMs: 0,
    repositories,
    ...overrides,
  };
}

export async function startFixtureService(options: FixtureServiceOptions): Promise<FixtureService> {
  const key = fixtureKey();
  const dir = await mkdtemp(join(tmpdir(), 'apk-fixture-service-'));
  const publish = async (name: string, content: RepoContent, description?: string) => {
    await writeFixtureRepo(join(dir, name), {
      arches: content,
      sign: [{ key }],
      ...(description !== undefined && { description }),
    });
  };
  for (const [name, content] of Object.entries(options.repositories)) await publish(name, content);
  const upstream = await new Upstream({ ...options.upstream, root: dir }).start();
  const extra =
    typeof options.repositorySettings === 'function'
      ? options.repositorySettings(upstream.url)
      : options.repositorySettings;
  const repositories = Object.entries(options.repositories).map(([name, content]) => ({
    name,
    url: `${upstream.url}/${name}`,
    arches: Object.keys(content),
    keys: [`${upstream.url}/${name}/${key.name}`],
    ...extra?.[name],
  }));
  const close = async () => {
    await service?.app.close();
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  };
  let service: Service | undefined;
  let baseUrl = '';
  let managementUrl = '';
  try {
    service = buildService(testSettings(repositories, options.settings), {
      ...(!options.service?.logStream && { logger: false }),
      ...options.service,
    });
    if (options.start !== false) {
      service.store.start();
      if (!(await service.store.whenReady(10_000)))
        throw new Error(`fixture service not ready: ${JSON.stringify(service.store.status())}`);
    }
    if (options.listen) {
      await service.app.listen({ host: '127.0.0.1', port: 0 });
      baseUrl = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
      if (service.management) {
        const { port } = await listenManagement(service.management, '127.0.0.1', options.settings?.managementPort ?? 0);
        managementUrl = `http://127.0.0.1:${port}`;
      }
    } else {
      await service.app.ready();
    }
  } catch (err) {
    // A failed start leaves no server, timer or directory behind.
    await close();
    throw err;
  }
  const ready = service;
  return {
    service: ready,
    upstream,
    key,
    dir,
    baseUrl,
    managementUrl,
    publish,
    refresh: async () => {
      const res = await ready.app.inject({ method: 'POST', url: '/-/refresh', headers: authHeader(options.settings) });
      if (res.statusCode !== 200) throw new Error(`POST /-/refresh: ${res.statusCode} ${res.body}`);
    },
    close,
  };
}

function authHeader(settings: Partial<ServiceSettings> | undefined): Record<string, string> {
  return settings?.refreshToken ? { authorization: `Bearer ${settings.refreshToken}` } : {};
}
