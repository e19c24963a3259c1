import { sortApkArches } from '../apko/arch.js';
import { UsageError } from '../errors.js';
import { gitlabPublish } from './gitlab-publish.js';
import { JUST } from './justfile.js';
import type { CommentedValue } from './yaml-doc.js';

export interface GitlabCiOptions {
  /**
   * An existing apk-indexer image for the jobs' service (and the CLI of the `pins` job); without one, the pipeline
   * builds apko/apk-indexer.yaml and pushes it to the project's registry first.
   */
  serviceImage: string | undefined;
  /** The Renovate major renovate.json is written for. */
  renovateMajor: number;
  /**
   * Where jobs (and Renovate, through renovate.json) reach the service: `http://ALIAS[:PORT]`. The host is the
   * service's alias, the port the one it listens on.
   */
  server: string;
  /**
   * The images' own repository and key for the packages built here, and the commands building them for every arch:
   * the publish jobs take them (apko -r, -k).
   */
  localPackages: { repository: string; key: string; build: readonly string[] };
  /** What the service indexes, as renovate.json filters it: the images' repositories, keys and APK arches. */
  repositories: readonly string[];
  keys: readonly string[];
  arches: readonly string[];
}

/** The public images the jobs run, each with a shell (`-dev`) for the job's script. */
export const CI_IMAGES = {
  melange: 'cgr.dev/chainguard/melange:latest-dev',
  apko: 'cgr.dev/chainguard/apko:latest-dev',
  renovate: (major: number) => `ghcr.io/renovatebot/renovate:${major}`,
} as const;

/** The image the pipeline builds from apko/apk-indexer.yaml: one tag per commit, so a job runs its own commit's. */
export const BUILT_SERVICE_IMAGE = '$CI_REGISTRY_IMAGE/apk-indexer:$CI_COMMIT_SHORT_SHA';

/** Seconds a job waits for the service's /readyz before it fails. */
export const READY_TIMEOUT_S = 300;

/**
 * GitLab waits for a service's port at most, not for its indexes: this waits for `/readyz` (200 once every index has
 * loaded), each try bounded, and fails the job with a message after READY_TIMEOUT_S. Node runs it: both the Renovate
 * image and apk-indexer's own have it.
 */
export function readyWait(server: string): string {
  const url = `${server}/readyz`;
  return [
    "node -e '",
    `  const url = ${JSON.stringify(url)};`,
    `  const deadline = Date.now() + ${READY_TIMEOUT_S}_000;`,
    '  (async () => {',
    '    for (;;) {',
    '      try { if ((await fetch(url, { signal: AbortSignal.timeout(5_000) })).ok) return; } catch {}',
    '      if (Date.now() > deadline) {',
    `        console.error(\`apk-indexer is not ready at \${url} after ${READY_TIMEOUT_S} s: its indexes did not load (set CI_DEBUG_SERVICES=true to see its log)\`);`,
    '        process.exit(1);',
    '      }',
    '      await new Promise((resolve) => setTimeout(resolve, 2000));',
    '    }',
    "  })();'",
    '',
  ].join('\n');
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
    throw new UsageError(`--renovate-server ${server}: not a URL`);
  }
  const why =
    'the CI jobs run apk-indexer as a service container, reached as http://ALIAS:PORT/ with no proxy in front';
  if (url.protocol !== 'http:')
    throw new UsageError(
      `--renovate-server ${server}: ${url.protocol.replace(':', '')} is not served there (${why}); use http://`,
    );
  if (url.pathname !== '/' || url.search || url.hash)
    throw new UsageError(
      `--renovate-server ${server}: a path is not served there (${why}); drop ${url.pathname}${url.search}${url.hash}`,
    );
  if (url.username || url.password)
    throw new UsageError(`--renovate-server ${server}: credentials in the URL are not supported`);
  return { url: `http://${url.host}`, alias: url.hostname, port: url.port || '80' };
}

/**
 * `.gitlab-ci.yml`: the repository's packages built with melange, apk-indexer's image built from them and pushed to
 * the project's registry, then a gate that fails a merge request whose pins are stale or wrong and a scheduled
 * Renovate, each with that image as a service container, waiting for its /readyz.
 */
export function gitlabCi(o: GitlabCiOptions): CommentedValue<Record<string, unknown>> {
  const endpoint = serviceEndpoint(o.server);
  const image = o.serviceImage ?? BUILT_SERVICE_IMAGE;
  const service = () => ({
    name: image,
    alias: endpoint.alias,
    // The same repositories, keys and arches as the images and renovate.json's ?arch= filter; without them the
    // service would index its defaults (Wolfi, x86_64) and answer for other packages than the images install.
    variables: {
      APK_INDEXER_INDEX_URL: o.repositories.join(','),
      APK_INDEXER_KEYS: o.keys.join(','),
      APK_INDEXER_ARCHES: sortApkArches(o.arches).join(','),
      APK_INDEXER_PORT: endpoint.port,
    },
  });
  const server = endpoint.url;
  const built = o.serviceImage === undefined;
  // Needs, not only stages: a job starts as soon as what it uses exists, and downloads only those artifacts.
  const needsImage = () => ({ needs: built ? ['apk-indexer-image'] : [] });
  const just = (recipe: string, ...args: string[]) => ['just', JUST.ownArch, recipe, ...args].join(' ');
  // The images themselves, each published when a file it is built from changes (apk-indexer gen ci), by the
  // apk-indexer the pipeline runs, from the packages built here for every arch the images build for.
  const publish = gitlabPublish({
    apkIndexerImage: image,
    imagePrefix: undefined,
    imagesArgs: ['-r', o.localPackages.repository],
    repositoryAppend: [o.localPackages.repository],
    buildRepositoryAppend: [],
    keyringAppend: [o.localPackages.key],
    packagesCommands: o.localPackages.build,
    stage: 'publish',
    needs: built ? ['apk-indexer-image'] : [],
  });
  const value: Record<string, unknown> = {
    workflow: {
      rules: [
        { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
        { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' },
        { if: '$CI_PIPELINE_SOURCE == "schedule"' },
        { if: '$CI_PIPELINE_SOURCE == "web"' },
      ],
    },
    stages: built ? ['packages', 'image', 'pins', 'publish'] : ['packages', 'pins', 'publish'],
    packages: {
      stage: 'packages',
      image: { name: CI_IMAGES.melange, entrypoint: [''] },
      before_script: ['apk add --no-cache just'],
      script: [just(JUST.packages)],
      artifacts: { paths: ['packages/', 'melange.rsa.pub'], expire_in: '1 day' },
    },
    ...(built
      ? {
          'apk-indexer-image': {
            stage: 'image',
            image: { name: CI_IMAGES.apko, entrypoint: [''] },
            needs: ['packages'],
            before_script: [
              'apk add --no-cache just',
              'echo "$CI_JOB_TOKEN" | apko login "$CI_REGISTRY" --username "$CI_REGISTRY_USER" --password-stdin',
            ],
            script: [just(JUST.publish, 'apk-indexer', `"${BUILT_SERVICE_IMAGE}"`)],
          },
        }
      : {}),
    pins: {
      stage: 'pins',
      image: { name: image, entrypoint: [''] },
      ...needsImage(),
      services: [service()],
      before_script: [readyWait(server)],
      script: [`apk-indexer check --server ${server}`, `apk-indexer pin --check --server ${server}`],
      rules: [
        { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
        { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' },
      ],
    },
    renovate: {
      stage: 'pins',
      image: CI_IMAGES.renovate(o.renovateMajor),
      ...needsImage(),
      // A copy, not the same object: the YAML stays free of anchors and aliases.
      services: [service()],
      variables: {
        RENOVATE_PLATFORM: 'gitlab',
        RENOVATE_ENDPOINT: '$CI_API_V4_URL',
        RENOVATE_REPOSITORIES: '$CI_PROJECT_PATH',
        // The service answers from a private address, which newer Renovate refuses for datasources unless allowed.
        RENOVATE_HOST_RULES: JSON.stringify([{ matchHost: endpoint.alias, allowInternal: true }]),
        LOG_LEVEL: 'info',
      },
      before_script: [readyWait(server)],
      script: ['renovate'],
      rules: [{ if: '$CI_PIPELINE_SOURCE == "schedule"' }, { if: '$CI_PIPELINE_SOURCE == "web"' }],
    },
    ...publish.value,
  };
  return {
    value,
    header: [
      'Renovate keeps the `- name=version` pins in apko/ fresh, asking apk-indexer, which runs beside each job as a',
      'service container, which versions exist on every arch the images build for (see renovate.json).',
      built
        ? "The pipeline builds that service first: the packages in melange/ (apk-indexer's from its source), then\napko/apk-indexer.yaml, pushed to this project's registry; the jobs after it run the image of their own commit."
        : `The service is ${image}, pulled as it is (apk-indexer init --service-image).`,
      'Each services: entry configures the service through its environment (APK_INDEXER_*): the repositories, keys',
      'and arches of the images, and the port renovate.json reaches it on.',
      'Pushes to the default branch publish each image in apko/ that a file it is built from changed (`apk-indexer',
      'images --changed-since` says which); schedules and runs by hand publish every image.',
    ].join('\n'),
    notes: [
      {
        path: ['workflow'],
        text: 'Pipelines for merge requests, the default branch, schedules and runs by hand (Build > Pipelines > Run).',
      },
      {
        path: ['packages'],
        text: [
          "melange builds inside a bubblewrap sandbox: the runner must let the job's container make user namespaces (a",
          "Docker executor with privileged = true, as `docker run --privileged` in the melange image's README). It builds",
          "for the runner's own arch (uname -m), where the service runs, with the same Justfile recipe as a local build;",
          'the signing key is made in the job (just keygen) and only its public half leaves it, for apko to trust.',
        ].join('\n'),
      },
      ...(built
        ? [
            {
              path: ['apk-indexer-image'],
              text: "Build apko/apk-indexer.yaml from the packages above and push it, logged in with the job's own token.",
            },
          ]
        : []),
      { path: ['pins'], text: 'The gate: lint the apko files and fail when a pin is stale (apk-indexer pin --check).' },
      {
        path: ['pins', 'image'],
        text: 'The apk-indexer image has the CLI too; the empty entrypoint lets the job run its script.',
      },
      {
        path: ['pins', 'before_script'],
        text: `GitLab waits for a service's port at most; wait until every index has loaded (${READY_TIMEOUT_S} s at most).`,
      },
      {
        path: ['renovate'],
        text: 'Runs on a pipeline schedule (Build > Pipeline schedules), or by hand. Set RENOVATE_TOKEN, a project access\ntoken with api and write_repository scopes, as a masked CI/CD variable.',
      },
      ...publish.notes,
      {
        path: ['renovate', 'image'],
        text: `renovate.json is written for this Renovate major (apk-indexer init --renovate-version ${o.renovateMajor}).`,
      },
    ],
  };
}
