import type { ImageRef } from './image-ref.js';

/**
 * Public base images whose `/etc/apk/repositories` is known from their tag alone, so a `RUN apk add` on them reads
 * those repositories:
 * - Docker's official `alpine` image, `X.Y`, `X.Y.Z` (and `-suffixed` variants) or `edge`: the branch's `main` and
 *   `community` on dl-cdn.alpinelinux.org, which its minirootfs lists. `latest` and `3` name no branch.
 * - Chainguard's `wolfi-base` (cgr.dev and Docker Hub): Wolfi's one repository.
 */
export function knownBaseRepositories(ref: ImageRef): string[] | undefined {
  if (ref.registry === 'docker.io' && ref.path === 'library/alpine') {
    const branch = ref.tag === 'edge' ? 'edge' : /^(\d+\.\d+)(?:\.\d+)?(?:-.*)?$/.exec(ref.tag ?? '')?.[1];
    if (branch === undefined) return undefined;
    const base = `https://dl-cdn.alpinelinux.org/alpine/${branch === 'edge' ? 'edge' : `v${branch}`}`;
    return [`${base}/main`, `${base}/community`];
  }
  if (
    (ref.registry === 'cgr.dev' && ref.path === 'chainguard/wolfi-base') ||
    (ref.registry === 'docker.io' && ref.path === 'chainguard/wolfi-base')
  )
    return ['https://packages.wolfi.dev/os'];
  return undefined;
}
