import { APKO_ARCH_NAMES } from '../apko/arch.js';
import { resolveImage, type ResolvedImage } from '../apko/image.js';
import { ApkoFileError, ConfigError } from '../errors.js';
import { repositoryFor } from './layer.js';
import type { RepositorySettings } from './settings.js';

/**
 * The repositories `serve --from-apko` reads, from apko image files read by the apko model (`src/apko`): strict
 * keys, `include:` resolved from the working directory, `build_repositories` and `repositories` of each chain (an
 * `@tag` prefix dropped; local paths made absolute), as apko builds from them: never `runtime_repositories`. Each repository gets the keyring of the images that name it,
 * and their arches, never another image's: an Alpine image's key is not given to Wolfi. Mistakes are ConfigErrors
 * naming the file and line.
 */
export function readApkoRepositories(files: readonly string[], cwd = process.cwd()): RepositorySettings[] {
  const images: ResolvedImage[] = [];
  for (const file of files) {
    try {
      images.push(resolveImage(file, { root: cwd }));
    } catch (err) {
      if (err instanceof ApkoFileError) throw new ConfigError(`--from-apko ${err.message}`);
      throw err;
    }
  }
  const byUrl = new Map<string, { keys: string[]; arches: string[] }>();
  for (const image of images) {
    if (image.unknownArchs.length > 0) {
      throw new ConfigError(
        `--from-apko ${image.unknownArchLocations[0]}: archs: unknown arch ${JSON.stringify(image.unknownArchs[0])} (apko names: ${APKO_ARCH_NAMES.join(', ')}, or the APK names)`,
      );
    }
    // What apko builds from (pkg/build/apk.go): repositories and build_repositories; runtime_repositories are only
    // written into the image's /etc/apk/repositories, and `check` ignores them the same way.
    for (const repo of image.repositories) {
      // A local repository is read from its path; an http(s) one by its URL.
      const url = repo.url.startsWith('file:') ? decodeURIComponent(new URL(repo.url).pathname) : repo.url;
      let entry = byUrl.get(url);
      if (!entry) {
        entry = { keys: [], arches: [] };
        byUrl.set(url, entry);
      }
      for (const key of image.keyring) if (!entry.keys.includes(key)) entry.keys.push(key);
      for (const arch of image.apkArches) if (!entry.arches.includes(arch)) entry.arches.push(arch);
    }
  }
  if (byUrl.size === 0)
    throw new ConfigError(
      `--from-apko ${files.join(' ')}: no repositories apko builds from in these files or their includes (runtime_repositories only go into the image)`,
    );
  // The other options get their defaults, as a repository described in the file does (Wolfi's secdb, recipe links).
  return [...byUrl].map(([url, { keys, arches }]) =>
    repositoryFor(url, {
      keys: { value: keys, where: '--from-apko' },
      arches: { value: arches, where: '--from-apko' },
    }),
  );
}
