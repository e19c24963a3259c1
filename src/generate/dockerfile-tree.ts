import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { displayPath } from '../apko/file.js';
import type { ApkoTree, ImageConstraint } from '../apko/tree.js';
import { findDockerfiles, isDockerfilePath, parseDockerfile, type Dockerfile } from '../dockerfile/dockerfile.js';
import { describeFileProblem } from '../errors.js';
import { stageScopes, type StageScope, type StageScopeOptions } from './dockerfile-scope.js';
import type { HeldRepository } from './version-source.js';

/** A Dockerfile of the tree with the scope of each of its stages. */
export interface ScopedDockerfile {
  file: Dockerfile;
  scopes: StageScope[];
}

/** The Dockerfiles a command works on, and those it could not read (`file: cannot read: ...`). */
export interface DockerfileTree {
  files: ScopedDockerfile[];
  failures: string[];
}

/** Whether a command-line FILE names a Dockerfile or Containerfile rather than an apko file. */
export function namesDockerfile(path: string): boolean {
  return isDockerfilePath(path.split('\\').join('/'));
}

/**
 * Reads the Dockerfiles of the tree at `root` (those named, else every one Renovate's file patterns find) and
 * gives each stage its scope: the image it builds on (see stageScopes).
 */
export function readDockerfileTree(
  root: string,
  named: readonly string[] | undefined,
  scope: Omit<StageScopeOptions, 'tree'> & { tree: ApkoTree },
): DockerfileTree {
  const paths = named !== undefined ? named.map((n) => resolve(root, n)) : findDockerfiles(root);
  const files: ScopedDockerfile[] = [];
  const failures: string[] = [];
  for (const absolute of paths) {
    const shown = displayPath(absolute, root);
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (err) {
      failures.push(`${shown}: cannot read: ${describeFileProblem(err)}`);
      continue;
    }
    const file = parseDockerfile(text, shown);
    files.push({ file, scopes: stageScopes(file, scope) });
  }
  return { files, failures };
}

/** The scope a package of a Dockerfile is judged in: its stage's, or why it is not checked. */
export function packageScope(d: ScopedDockerfile, stage: number): StageScope {
  return stage < 0 ? { notChecked: 'RUN before any FROM: no image to install into' } : d.scopes[stage]!;
}

/**
 * The one constraint every `apk add` of the file is judged by, for a Renovate rule per file: undefined when a stage
 * with packages is not checked, or stages with packages build on images of different arches or repositories (a
 * rule matches files, not stages).
 */
export function dockerfileConstraint(d: ScopedDockerfile): ImageConstraint | undefined {
  const stages = [...new Set(d.file.packages.map((p) => p.stage))];
  let one: ImageConstraint | undefined;
  for (const stage of stages) {
    const scope = packageScope(d, stage);
    if ('notChecked' in scope) return undefined;
    const c = scope.constraint;
    if (one === undefined) one = c;
    else if (
      one.arches.join() !== c.arches.join() ||
      one.repositories.map((r) => r.url).join() !== c.repositories.map((r) => r.url).join()
    )
      return undefined;
  }
  return one;
}

/** The service configuration's repositories as a source would hold them: name, URL and aliases, arches. */
export function configuredRepositories(
  repositories: readonly { name?: string; url: string; aliases?: readonly string[]; arches?: readonly string[] }[],
  comparable: (url: string) => string,
  defaultArches: readonly string[],
): HeldRepository[] {
  return repositories.map((r) => ({
    name: r.name ?? comparable(r.url),
    urls: [r.url, ...(r.aliases ?? [])].map(comparable),
    arches: r.arches && r.arches.length > 0 ? [...r.arches] : [...defaultArches],
  }));
}
