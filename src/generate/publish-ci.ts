import type { ReleaseImage } from '../release/images.js';

/**
 * What the publish jobs of `gen ci` (GitLab and GitHub) share: how apko publishes one image, and the command line
 * that asks apk-indexer which images to publish, so CI and a laptop get one answer from `apk-indexer images`.
 */
export interface PublishOptions {
  /** An image with the apk-indexer CLI (and, for GitLab's --changed-since, git) for the job that picks the images. */
  apkIndexerImage: string;
  /** Where images are pushed: `PREFIX/NAME:TAG`. undefined: the platform's own registry. */
  imagePrefix: string | undefined;
  /** The tree options to repeat when CI asks apk-indexer (`-C`, `--arch`, `-r`, `-b`, `--tag`, FILE...). */
  imagesArgs: readonly string[];
  /** apko's `-r`, `-b` and `-k` for every image (local packages built in the pipeline: ./packages, melange.rsa.pub). */
  repositoryAppend: readonly string[];
  buildRepositoryAppend: readonly string[];
  keyringAppend: readonly string[];
  /** Commands that build the local packages (./packages, melange.rsa.pub) for every arch, before any publish job. */
  packagesCommands: readonly string[];
}

/** Public images the jobs run. */
export const PUBLISH_IMAGES = {
  apko: 'cgr.dev/chainguard/apko:latest-dev',
  melange: 'cgr.dev/chainguard/melange:latest-dev',
} as const;

/** CI variables the jobs read; each has a default the project may override (GitLab: Settings > CI/CD > Variables). */
export const PUBLISH_VARIABLES = {
  /** Comma-separated repositories every image also builds from (apko -b): private ones, never written in a file. */
  buildRepositories: 'APKO_BUILD_REPOSITORIES',
  /** Comma-separated keys those are signed with (apko -k). */
  keyring: 'APKO_KEYRING_APPEND',
  /** apko's own credentials for a private APK repository: `basic:HOST:USER:PASSWORD`. */
  httpAuth: 'HTTP_AUTH',
  prefix: 'IMAGE_PREFIX',
  registry: 'APKO_REGISTRY',
  user: 'APKO_REGISTRY_USER',
  password: 'APKO_REGISTRY_PASSWORD',
} as const;

/** A word for a POSIX shell: as it is when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `apko publish` line for one image, with `$IMAGE_PREFIX` and the appended repositories and keys left to the
 * shell: the tags as given, `--arch` the image's arches, `--lockfile` when it has a lock.
 */
export function apkoPublish(image: ReleaseImage, o: AppendedSources): string {
  const v = PUBLISH_VARIABLES;
  return [
    'apko publish',
    shellWord(image.file),
    ...image.tags.map((tag) => `"$${v.prefix}/${image.name}:${tag}"`),
    ...(image.arches.length > 0 ? [`--arch ${image.arches.join(',')}`] : []),
    ...(image.lock ? [`--lockfile ${shellWord(image.lock)}`] : []),
    ...appendedSources(o),
    `\${${v.buildRepositories}:+--build-repository-append "$${v.buildRepositories}"}`,
    `\${${v.keyring}:+--keyring-append "$${v.keyring}"}`,
  ].join(' ');
}

type AppendedSources = Pick<PublishOptions, 'repositoryAppend' | 'buildRepositoryAppend' | 'keyringAppend'>;

/** apko's flags for the repositories and keys given to `gen ci`, as apko takes them. */
export function appendedSources(o: AppendedSources): string[] {
  return [
    ...o.buildRepositoryAppend.map((r) => `--build-repository-append ${shellWord(r)}`),
    ...o.repositoryAppend.map((r) => `--repository-append ${shellWord(r)}`),
    ...o.keyringAppend.map((k) => `--keyring-append ${shellWord(k)}`),
  ];
}

/** `apko login` from the variables, the password on stdin. */
export const APKO_LOGIN = `echo "$${PUBLISH_VARIABLES.password}" | apko login "$${PUBLISH_VARIABLES.registry}" --username "$${PUBLISH_VARIABLES.user}" --password-stdin`;
