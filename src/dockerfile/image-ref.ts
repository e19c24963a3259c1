/**
 * An image reference as Docker reads it (distribution's reference grammar): `[registry/]path[:tag][@digest]`. The
 * first component is a registry when it has a `.` or `:` or is `localhost`; otherwise the image is on Docker Hub,
 * where a one-component path is an official image under `library/`.
 */
export interface ImageRef {
  /** `docker.io` for Docker Hub. */
  registry: string;
  /** The repository path, `library/alpine` for `alpine`. */
  path: string;
  tag: string | undefined;
  digest: string | undefined;
}

export function parseImageRef(ref: string): ImageRef | undefined {
  if (ref === '' || /\s|\$/.test(ref)) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost')) registry = parts.shift()!;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  if (parts.some((p) => p === '')) return undefined;
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { registry, path: parts.join('/').toLowerCase(), tag, digest };
}

/** The last component of the repository path: `bootc` for `ghcr.io/owner/bootc:1.2`, what an apko file is named after. */
export function imageBaseName(ref: ImageRef): string {
  return ref.path.split('/').pop()!;
}
