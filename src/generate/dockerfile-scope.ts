import { basename } from 'node:path';
import { toApkArch } from '../apko/arch.js';
import type { ResolvedImage } from '../apko/image.js';
import type { ImageRepository } from '../apko/repository.js';
import { imageArches, type ApkoTree, type ImageConstraint } from '../apko/tree.js';
import type { Dockerfile, DockerfileStage } from '../dockerfile/dockerfile.js';
import { imageBaseName, parseImageRef } from '../dockerfile/image-ref.js';
import { knownBaseRepositories } from '../dockerfile/known-bases.js';
import type { HeldRepository } from './version-source.js';

/**
 * Where the `apk add` of a Dockerfile stage installs from: the repositories of the image it builds on (its
 * `/etc/apk/repositories`), on the arches the image is built for. In this order:
 *
 * 1. `FROM` an image built from an apko file of the tree (the image's name, `ghcr.io/me/host:1` for `host.yaml` or
 *    `host.apko.yaml`): the runtime repositories apko writes into that image (`repositories`, `runtime_repositories`
 *    and `--repository-append`; not `build_repositories`, apko's pkg/build/apk.go) and its arches;
 * 2. `FROM` a public base whose repositories its tag says (`alpine:3.21`, `alpine:edge`, `wolfi-base`), when the
 *    repositories given hold them;
 * 3. the repositories named by `--repository` (names or URLs);
 * 4. the only repository given, when exactly one is;
 *
 * otherwise the stage's pins are not checked, with the reason. Arches other than the image's: `--arch`, else the
 * arches every chosen repository has. `FROM --platform=os/arch` narrows to that arch.
 */
export interface StageScopeOptions {
  tree: ApkoTree;
  /** `--arch` (APK names), for stages not built on an image of the tree (and for images naming none). */
  fallbackArches: readonly string[];
  /** Arches for images of the tree that name none, when not `fallbackArches` (gen renovate's default). */
  imageFallbackArches?: readonly string[];
  /** The repositories given (`--index`, `--config`, `--server`), by name, URLs and arches. */
  known: readonly HeldRepository[];
  /** `--repository` values: held names or URLs. */
  chosen: readonly string[];
}

export type StageScope =
  | { constraint: ImageConstraint; from: 'image' | 'base' | 'option' | 'only'; image?: ResolvedImage }
  | {
      notChecked: string;
      /**
       * The repositories the stage's image reads that had no data (a known base's, not given): its pins are "not
       * checked" as an apko image's are, which fails a gate unless they are named with --allow-unchecked.
       */
      lacking?: string[];
    };

/** The scope of every stage of a Dockerfile, in order (a stage `FROM` an earlier one shares its scope). */
export function stageScopes(file: Dockerfile, options: StageScopeOptions): StageScope[] {
  const scopes: StageScope[] = [];
  file.stages.forEach((stage, i) => {
    const earlier = file.stages.findIndex(
      (s, k) => k < i && s.alias !== undefined && s.alias.toLowerCase() === stage.image.toLowerCase(),
    );
    const scope = earlier !== -1 ? scopes[earlier]! : baseScope(stage, options);
    scopes.push(narrowToPlatform(scope, stage));
  });
  return scopes;
}

function baseScope(stage: DockerfileStage, o: StageScopeOptions): StageScope {
  const from = `FROM ${stage.image}`;
  if (stage.image === 'scratch') return { notChecked: `${from} has no apk` };
  if (stage.image.includes('$'))
    return { notChecked: `FROM ${stage.written} names its image by a build argument without a default` };
  const ref = parseImageRef(stage.image);
  if (!ref) return { notChecked: `${from} is not an image reference` };
  const name = imageBaseName(ref);
  const images = o.tree.images.filter((image) => imageName(image.file.path) === name);
  if (images.length > 1)
    return {
      notChecked: `${from}: several apko images of the tree are named ${name} (${images.map((i) => i.file.path).join(', ')})`,
    };
  if (images.length === 1) {
    const image = images[0]!;
    return {
      from: 'image',
      image,
      constraint: {
        image: image.file.path,
        arches: imageArches(image, o.imageFallbackArches ?? o.fallbackArches),
        repositories: runtimeRepositories(image),
      },
    };
  }
  const base = knownBaseRepositories(ref);
  if (base) {
    const held = base.flatMap((url) => o.known.filter((k) => k.urls.some((u) => sameRepository(u, url))).slice(0, 1));
    if (held.length === base.length) return chosenScope(from, 'base', held, base, o);
  }
  if (o.chosen.length > 0) {
    const held = o.chosen.map((c) => o.known.find((k) => k.name === c || k.urls.some((u) => sameRepository(u, c))));
    const unknown = o.chosen.filter((_, i) => held[i] === undefined);
    if (unknown.length > 0)
      return {
        notChecked: `--repository ${unknown.join(', ')}: no such repository given (${o.known.map((k) => k.name).join(', ') || 'none'})`,
      };
    const found = held.filter((h) => h !== undefined);
    return chosenScope(
      from,
      'option',
      found,
      found.map((h) => h.urls[0]!),
      o,
    );
  }
  if (base)
    return {
      notChecked: `${from}: its repositories ${base.join(', ')} are not all among the repositories given (by URL or alias); or pass --repository NAME`,
      lacking: base.filter((url) => !o.known.some((k) => k.urls.some((u) => sameRepository(u, url)))),
    };
  if (o.known.length === 1) return chosenScope(from, 'only', [o.known[0]!], [o.known[0]!.urls[0]!], o);
  return {
    notChecked: `${from} is no image of this tree (no apko file named ${name}), and which repositories its apk reads is not known; pass --repository NAME${o.known.length > 0 ? ` (${o.known.map((k) => k.name).join(', ')})` : ''}`,
  };
}

function chosenScope(
  from: string,
  kind: 'base' | 'option' | 'only',
  repos: readonly HeldRepository[],
  urls: readonly string[],
  o: StageScopeOptions,
): StageScope {
  const arches =
    o.fallbackArches.length > 0
      ? [...o.fallbackArches]
      : repos.reduce<string[]>((acc, h, i) => (i === 0 ? [...h.arches] : acc.filter((a) => h.arches.includes(a))), []);
  const repositories: ImageRepository[] = urls.map((url, i) => ({
    written: url,
    tag: undefined,
    url: repos[i]!.urls.find((u) => sameRepository(u, url)) ?? repos[i]!.urls[0]!,
    origin: 'base image',
    where: from,
  }));
  return {
    from: kind,
    constraint: { image: from.replace(/^FROM /, ''), arches, repositories },
  };
}

/** What apko writes into the image's /etc/apk/repositories: `repositories`, `runtime_repositories`, `-r`. */
export function runtimeRepositories(image: ResolvedImage): ImageRepository[] {
  const seen = new Set<string>();
  return [
    ...image.repositories.filter((r) => r.origin === 'repositories' || r.origin === '--repository-append'),
    ...image.runtimeRepositories,
  ].filter((r) => {
    const key = `${r.tag ?? ''} ${r.url}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The image name an apko file is published under by convention: its file name without `.apko.yaml`/`.yaml`. */
export function imageName(path: string): string {
  return basename(path).replace(/(\.apko)?\.ya?ml$/, '');
}

/** http and https of one host and path serve the same index (old Alpine images list http://dl-cdn...). */
function sameRepository(a: string, b: string): boolean {
  const bare = (u: string) => u.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return a === b || bare(a) === bare(b);
}

function narrowToPlatform(scope: StageScope, stage: DockerfileStage): StageScope {
  if ('notChecked' in scope || stage.platform === undefined || stage.platform.includes('$')) return scope;
  const [, cpu = '', variant] = stage.platform.split('/');
  const arch = toApkArch(cpu === 'arm' ? `arm/${variant ?? 'v7'}` : cpu);
  if (!arch) return { notChecked: `FROM --platform=${stage.platform}: not an arch apk knows` };
  if (scope.constraint.arches.length > 0 && !scope.constraint.arches.includes(arch))
    return {
      notChecked: `FROM --platform=${stage.platform}: ${scope.constraint.image} is built for ${scope.constraint.arches.join(', ')}, not ${arch}`,
    };
  return { ...scope, constraint: { ...scope.constraint, arches: [arch] } };
}
