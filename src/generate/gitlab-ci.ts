import { sortApkArches } from '../apko/arch.js';
import { GenerateInputError } from './errors.js';
import type { CommentedValue } from './yaml-doc.js';

export interface GitlabCiOptions {
  /** An apk-indexer image: the job's service, and the CLI of the `pins` job. */
  serviceImage: string;
  /** The Renovate major renovate.json is written for. */
  renovateMajor: number;
  /**
   * Where jobs (and Renovate, through renovate.json) reach the service: `http://ALIAS[:PORT]`. The host is the
   * service's alias, the port the one it listens on.
   */
  server: string;
  /** What the service indexes, as renovate.json filters it: the images' repositories, keys and APK arches. */
  repositories: readonly string[];
  keys: readonly string[];
  arches: readonly string[];
}

/**
 * The service container's side of `--renovate-server`: GitLab reaches a service at `http://ALIAS:PORT` with
 * nothing in front of it, so the URL must be plain http at the root; its port becomes the service's.
 */
export function serviceEndpoint(server: string): { url: string; alias: string; port: string } {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new GenerateInputError(`--renovate-server ${server}: not a URL`);
  }
  const why = 'the CI jobs run apk-indexer as a service container, reached as http://ALIAS:PORT/ with no proxy in front';
  if (url.protocol !== 'http:') throw new GenerateInputError(`--renovate-server ${server}: ${url.protocol.replace(':', '')} is not served there (${why}); use http://`);
  if (url.pathname !== '/' || url.search || url.hash) throw new GenerateInputError(`--renovate-server ${server}: a path is not served there (${why}); drop ${url.pathname}${url.search}${url.hash}`);
  if (url.username || url.password) throw new GenerateInputError(`--renovate-server ${server}: credentials in the URL are not supported`);
  return { url: `http://${url.host}`, alias: url.hostname, port: url.port || '80' };
}

/**
 * `.gitlab-ci.yml`: a Renovate job with apk-indexer as a service container, and a gate that fails a merge
 * request whose pins are stale or wrong.
 */
export function gitlabCi(o: GitlabCiOptions): CommentedValue<Record<string, unknown>> {
  const endpoint = serviceEndpoint(o.server);
  const service = {
    name: o.serviceImage,
    alias: endpoint.alias,
    // The same repositories, keys and arches as the images and renovate.json's ?arch= filter; without them the
    // service would index its defaults (Wolfi, x86_64) and answer for other packages than the images install.
    variables: {
      APK_INDEXER_INDEX_URL: o.repositories.join(','),
      APK_INDEXER_KEYS: o.keys.join(','),
      APK_INDEXER_ARCHES: sortApkArches(o.arches).join(','),
      APK_INDEXER_PORT: endpoint.port,
    },
  };
  const server = endpoint.url;
  return {
    value: {
      pins: {
        image: { name: o.serviceImage, entrypoint: [''] },
        services: [{ ...service, variables: { ...service.variables } }],
        script: [`apk-indexer check --server ${server}`, `apk-indexer pin --check --server ${server}`],
        rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }, { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }],
      },
      renovate: {
        image: `ghcr.io/renovatebot/renovate:${o.renovateMajor}`,
        // A copy, not the same object: the YAML stays free of anchors and aliases.
        services: [{ ...service, variables: { ...service.variables } }],
        variables: {
          RENOVATE_PLATFORM: 'gitlab',
          RENOVATE_ENDPOINT: '$CI_API_V4_URL',
          RENOVATE_REPOSITORIES: '$CI_PROJECT_PATH',
          // The service answers from a private address, which newer Renovate refuses for datasources unless allowed.
          RENOVATE_HOST_RULES: JSON.stringify([{ matchHost: endpoint.alias, allowInternal: true }]),
          LOG_LEVEL: 'info',
        },
        script: ['renovate'],
        rules: [{ if: '$CI_PIPELINE_SOURCE == "schedule"' }],
      },
    },
    header: [
      'Renovate keeps the `- name=version` pins in apko/ fresh, asking apk-indexer, which runs beside each job as a',
      'service container, which versions exist on every arch the images build for (see renovate.json).',
      'Each services: entry configures the service through its environment (APK_INDEXER_*): the repositories, keys',
      'and arches of the images, and the port renovate.json reaches it on.',
    ].join('\n'),
    notes: [
      { path: ['pins'], text: 'The gate: lint the apko files and fail when a pin is stale (apk-indexer pin --check).' },
      { path: ['pins', 'image'], text: 'The apk-indexer image has the CLI too; the empty entrypoint lets the job run its script.' },
      {
        path: ['renovate'],
        text: 'Runs on a pipeline schedule (Build > Pipeline schedules). Set RENOVATE_TOKEN, a project access token\nwith api and write_repository scopes, as a masked CI/CD variable.',
      },
      { path: ['renovate', 'image'], text: `renovate.json is written for this Renovate major (apk-indexer init --renovate-version ${o.renovateMajor}).` },
    ],
  };
}
