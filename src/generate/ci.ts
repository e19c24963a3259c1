import { readChanges } from '../release/changes.js';
import { selectImages } from '../release/select.js';
import { githubPublish } from './github-publish.js';
import { gitlabChildPipeline, gitlabPublish } from './gitlab-publish.js';
import { UsageError } from '../errors.js';
import type { PublishOptions } from './publish-ci.js';
import { renderYaml } from './yaml-doc.js';

/** An apk-indexer image for CI's own jobs; it must have git for GitLab's `--changed-since`. */
export const DEFAULT_INDEXER_IMAGE = 'ghcr.io/apk-indexer/apk-indexer:0.1.0';

export interface CiOptions {
  platform: 'gitlab' | 'github';
  /** GitLab: write the child pipeline (the publish jobs themselves) instead of the committed jobs. */
  child: boolean;
  changedSince: string | undefined;
  changedFiles: string | undefined;
  /** The tree: CI runs apko from the repository root, so the tree is the working directory. */
  root: string;
  fallbackArches: readonly string[];
  /** As given on the command line, to repeat in CI: `--arch`. */
  archArgs: readonly string[];
  tagTemplates: readonly string[];
  apkIndexerImage: string | undefined;
  imagePrefix: string | undefined;
  repositoryAppend: readonly string[];
  buildRepositoryAppend: readonly string[];
  keyringAppend: readonly string[];
  packagesCommands: readonly string[];
  stage: string | undefined;
  branch: string | undefined;
}

/** `gen ci`: the publish pipeline for the images of the tree, for GitLab (committed jobs, or the child) or GitHub. */
export async function generateCi(o: CiOptions, stdin: NodeJS.ReadableStream): Promise<string> {
  if (o.platform === 'github') {
    if (o.child) throw new UsageError("--child is GitLab's (a GitHub workflow asks for its matrix at run time)");
    if (o.packagesCommands.length > 0)
      throw new UsageError('--packages-command is for GitLab: build the packages in a workflow of their own');
    if (o.stage !== undefined) throw new UsageError('--stage is for GitLab');
  } else if (o.branch !== undefined) throw new UsageError('--branch is for --github');
  if (!o.child && (o.changedSince !== undefined || o.changedFiles !== undefined))
    throw new UsageError('--changed-since and --changed-files are for --child: CI asks at run time');
  const changed = await readChanges(o.changedSince, o.changedFiles, o.root, stdin);
  // The tree is read now, so a file apko refuses or an image with no tag is said here rather than in CI.
  const selection = selectImages({
    root: o.root,
    files: [],
    fallbackArches: o.fallbackArches,
    tagTemplates: o.tagTemplates,
    repositoryAppend: o.repositoryAppend,
    buildRepositoryAppend: o.buildRepositoryAppend,
    changed,
  });
  if (selection.failures.length > 0) throw selection.failures[0]!;
  const publish: PublishOptions = {
    apkIndexerImage: o.apkIndexerImage ?? DEFAULT_INDEXER_IMAGE,
    imagePrefix: o.imagePrefix,
    imagesArgs: [
      ...o.archArgs.flatMap((a) => ['--arch', a]),
      ...o.repositoryAppend.flatMap((r) => ['-r', r]),
      ...o.buildRepositoryAppend.flatMap((r) => ['-b', r]),
      ...o.tagTemplates.flatMap((t) => ['--tag', t]),
    ],
    repositoryAppend: o.repositoryAppend,
    buildRepositoryAppend: o.buildRepositoryAppend,
    keyringAppend: o.keyringAppend,
    packagesCommands: o.packagesCommands,
  };
  if (o.platform === 'github') return renderYaml(githubPublish({ ...publish, branch: o.branch ?? 'main' }));
  if (!o.child) return renderYaml(gitlabPublish({ ...publish, stage: o.stage ?? 'deploy' }));
  const why =
    changed === undefined
      ? 'every image'
      : `the images a change since ${o.changedSince ?? `the files in ${o.changedFiles}`} rebuilds`;
  return renderYaml(
    gitlabChildPipeline(
      selection.selected.map((s) => s.image),
      publish,
      selection.selected.length === 0 ? `no image is rebuilt by ${changed?.length ?? 0} changed files` : why,
    ),
  );
}
