import type { CommentedValue } from './yaml-doc.js';

export interface GitlabCiOptions {
  /** An apk-indexer image: the job's service, and the CLI of the `pins` job. */
  serviceImage: string;
  /** The Renovate major renovate.json is written for. */
  renovateMajor: number;
  /** Where jobs reach the service: its `alias` and port. */
  alias: string;
}

/**
 * `.gitlab-ci.yml`: a Renovate job with apk-indexer as a service container, and a gate that fails a merge
 * request whose pins are stale or wrong.
 */
export function gitlabCi(o: GitlabCiOptions): CommentedValue<Record<string, unknown>> {
  const service = { name: o.serviceImage, alias: o.alias };
  const server = `http://${o.alias}:3000`;
  return {
    value: {
      pins: {
        image: { name: o.serviceImage, entrypoint: [''] },
        services: [{ ...service }],
        script: [`apk-indexer check --server ${server}`, `apk-indexer pin --check --server ${server}`],
        rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }, { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }],
      },
      renovate: {
        image: `ghcr.io/renovatebot/renovate:${o.renovateMajor}`,
        // A copy, not the same object: the YAML stays free of anchors and aliases.
        services: [{ ...service }],
        variables: {
          RENOVATE_PLATFORM: 'gitlab',
          RENOVATE_ENDPOINT: '$CI_API_V4_URL',
          RENOVATE_REPOSITORIES: '$CI_PROJECT_PATH',
          LOG_LEVEL: 'info',
        },
        script: ['renovate'],
        rules: [{ if: '$CI_PIPELINE_SOURCE == "schedule"' }],
      },
    },
    header: [
      'Renovate keeps the `- name=version` pins in apko/ fresh, asking apk-indexer, which runs beside each job as a',
      'service container, which versions exist on every arch the images build for (see renovate.json).',
      'The service serves Wolfi unless configured otherwise through its environment variables (its README).',
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
