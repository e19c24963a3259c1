import type { ReleaseImage } from '../release/images.js';
import {
  APKO_LOGIN,
  apkoPublish,
  PUBLISH_IMAGES,
  PUBLISH_VARIABLES,
  shellWord,
  type PublishOptions,
} from './publish-ci.js';
import type { CommentedValue } from './yaml-doc.js';

/** The child pipeline's file, an artifact of the job that writes it. */
export const CHILD_PIPELINE_FILE = 'images.gitlab-ci.yml';

export interface GitlabPublishOptions extends PublishOptions {
  /** The stage of the two jobs in the committed file (it must be one of the pipeline's stages). */
  stage: string;
  /** Jobs of the same pipeline the first job needs (the one pushing its apk-indexer image). */
  needs?: readonly string[];
}

/** Pipelines that publish: pushes to the default branch (what changed), schedules and runs by hand (everything). */
const PUBLISH_RULES = [
  { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"' },
  { if: '$CI_PIPELINE_SOURCE == "schedule"' },
  { if: '$CI_PIPELINE_SOURCE == "web"' },
];

/**
 * The committed part: a job that asks apk-indexer which images the push rebuilds and writes one publish job for
 * each into a child pipeline, and the job that runs that pipeline. GitLab's CI_COMMIT_BEFORE_SHA is the branch's
 * previous tip on a push, and git's null revision on schedules and runs by hand, which rebuild every image.
 */
export function gitlabPublish(o: GitlabPublishOptions): CommentedValue<Record<string, unknown>> {
  const child = [
    'apk-indexer gen ci --child',
    '--changed-since "$CI_COMMIT_BEFORE_SHA"',
    ...(o.imagePrefix ? [`--image-prefix ${shellWord(o.imagePrefix)}`] : []),
    ...o.packagesCommands.map((c) => `--packages-command ${shellWord(c)}`),
    ...o.keyringAppend.map((k) => `--keyring-append ${shellWord(k)}`),
    ...o.imagesArgs.map(shellWord),
    `-o ${CHILD_PIPELINE_FILE}`,
  ].join(' ');
  return {
    value: {
      images: {
        stage: o.stage,
        image: { name: o.apkIndexerImage, entrypoint: [''] },
        ...(o.needs ? { needs: [...o.needs] } : {}),
        variables: {
          // The whole history, so the previous tip is there to diff against; git trusts the checkout whoever owns it.
          GIT_DEPTH: '0',
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: 'safe.directory',
          GIT_CONFIG_VALUE_0: '$CI_PROJECT_DIR',
        },
        script: [child],
        artifacts: { paths: [CHILD_PIPELINE_FILE], expire_in: '1 week' },
        rules: structuredClone(PUBLISH_RULES),
      },
      publish: {
        stage: o.stage,
        needs: ['images'],
        trigger: { include: [{ artifact: CHILD_PIPELINE_FILE, job: 'images' }], strategy: 'depend' },
        // A copy, not the same object: the YAML stays free of anchors and aliases.
        rules: structuredClone(PUBLISH_RULES),
      },
    },
    header: [
      'Publishes each apko image when anything it is built from changes: a file of its include chain, its lock',
      '(FILE.lock.json), or a melange recipe of a package it installs. `apk-indexer images --changed-since REV` gives',
      'the same list on a laptop. Written by `apk-indexer gen ci`; run it again when images or includes are added.',
    ].join('\n'),
    notes: [
      {
        path: ['images'],
        text: `Writes ${CHILD_PIPELINE_FILE}: one publish job per image the push rebuilds (every image on a schedule or a\nrun by hand). The image must have apk-indexer and git.`,
      },
      { path: ['publish'], text: 'Runs that pipeline; this job fails when a publish job fails.' },
    ],
  };
}

/**
 * The child pipeline: one job per image, each `apko publish` of its file under its tags, for its arches, from its
 * own repositories and keyring plus the appended ones, with its lock. No image to publish is one job saying so
 * (a pipeline needs a job).
 */
export function gitlabChildPipeline(
  images: readonly ReleaseImage[],
  o: PublishOptions,
  why: string,
): CommentedValue<Record<string, unknown>> {
  const v = PUBLISH_VARIABLES;
  const packages = o.packagesCommands.length > 0 && images.length > 0;
  const jobs: Record<string, unknown> = {};
  if (packages)
    jobs.packages = {
      stage: 'packages',
      image: { name: PUBLISH_IMAGES.melange, entrypoint: [''] },
      script: [...o.packagesCommands],
      artifacts: { paths: ['packages/', 'melange.rsa.pub'], expire_in: '1 day' },
    };
  for (const image of images)
    jobs[`publish:${image.name}`] = {
      stage: 'publish',
      image: { name: PUBLISH_IMAGES.apko, entrypoint: [''] },
      needs: packages ? ['packages'] : [],
      before_script: [APKO_LOGIN],
      script: [apkoPublish(image, o)],
    };
  if (images.length === 0)
    jobs['no-image'] = {
      stage: 'publish',
      image: { name: PUBLISH_IMAGES.apko, entrypoint: [''] },
      script: [`echo ${shellWord(`no image to publish: ${why}`)}`],
    };
  return {
    value: {
      stages: packages ? ['packages', 'publish'] : ['publish'],
      variables: {
        [v.prefix]: o.imagePrefix ?? '$CI_REGISTRY_IMAGE',
        [v.registry]: o.imagePrefix ? o.imagePrefix.split('/')[0]! : '$CI_REGISTRY',
        [v.user]: '$CI_REGISTRY_USER',
        [v.password]: '$CI_REGISTRY_PASSWORD',
      },
      ...jobs,
    },
    header: [
      `Written by apk-indexer gen ci --child: ${why}.`,
      `Each job publishes one image as $${v.prefix}/NAME:TAG. A project CI/CD variable overrides each default`,
      `below; ${v.buildRepositories} (comma-separated) adds private APK repositories to every build (apko -b),`,
      `${v.keyring} their keys, and ${v.httpAuth} (basic:HOST:USER:PASSWORD, masked) is apko's login to them.`,
      ...(packages
        ? [
            'The packages job builds ./packages for every arch the images build for: melange needs a runner that lets',
            'its container make user namespaces (privileged), and runs foreign arches under emulation (qemu-user',
            'binfmt registered on the runner host).',
          ]
        : []),
    ].join('\n'),
    notes: [],
  };
}
