import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { toApkArch } from '../../apko/arch.js';
import {
  apkoArchesOf,
  renovateMajorOf,
  serverUrlOf,
  sourceOptions,
  SOURCE_ARGS,
  SOURCE_HELP,
} from '../../generate/command-options.js';
import { resolveApkIndexerSource, type ApkIndexerSource } from '../../generate/apk-indexer-source.js';
import { serviceEndpoint } from '../../generate/gitlab-ci.js';
import { toolPackage } from '../../core/version.js';
import { hasSource, openVersionSource } from '../../generate/open-source.js';
import { scaffold, SCAFFOLD_DEFAULTS, type ScaffoldOptions } from '../../generate/scaffold.js';
import { splitList } from '../../config/layer.js';
import { makeDirectory, writeFileAtomically } from '../../core/files.js';
import { FileError } from '../../errors.js';
import { parseCommandArgs, UsageError } from '../args.js';
import type { CliIO } from '../io.js';

export const HELP = `usage: apk-indexer init DIR [options]

Writes a repository of image and package definitions, ready to commit and build:
  apko/wolfi-base.yaml        repositories, keys, archs, a non-root account, layering
  apko/bootc.yaml             the bootable base (bootc, ostree, composefs, systemd, kernel)
  apko/bootc-host.yaml        a headless container host (containerd, nerdctl, CNI, sshd)
  apko/bootc-desktop.yaml     a Wayland desktop
  apko/bootc-router.yaml      a router whose whole configuration is one package
  apko/apk-indexer.yaml       this service's own image
  melange/apk-indexer.yaml    apk-indexer itself, built from its source at a tag (apko/apk-indexer.yaml installs it)
  melange/default-user.yaml   the first account, as static files
  melange/router-config.yaml  the router's configuration package (and its vendor/ tree)
  .gitlab-ci.yml              builds the packages and apk-indexer's image, then a pins gate and Renovate beside it
  Justfile                    \`just\` builds the packages and images (CI runs the same recipes)
  renovate.json, .gitignore
With an index (--index, --config or --server), the first package of each image is pinned to the
newest version present on all of the image's archs.

  --repository URL     apk repository of the images and recipes (repeat; default Wolfi).
  --keyring URL        key those repositories are signed with (repeat; default Wolfi's).
  --arch a,b           archs the images build for (default amd64,arm64).
  --user NAME          the hosts' first account (default admin).
  --password-hash H    its first password, a crypt(3) hash (openssl passwd -6); default locked.
  --license SPDX       license of the packages built here (default Apache-2.0).
  --renovate-server URL    where Renovate and the CI jobs reach apk-indexer, http://ALIAS:PORT: the
                           service container's alias and port (default http://apk-indexer:3000).
  --renovate-version N     the Renovate major renovate.json is for (default ${SCAFFOLD_DEFAULTS.renovateMajor}; below 42 the
                           older form that Renovate 39 reads).
  --service-image IMAGE    an existing apk-indexer image for CI to run as its service; by default the pipeline
                           builds apko/apk-indexer.yaml and pushes it to the project's registry first.
  --apk-indexer-source GIT_URL   where melange/apk-indexer.yaml clones apk-indexer's source (https://...;
                           credentials are dropped). Default: package.json's repository, else the origin remote
                           of the git checkout this apk-indexer runs from.
  --apk-indexer-ref TAG    the tag it builds (package.version is the tag without its v). Default: the tag at
                           HEAD of that checkout, else v<version> for an installed package with a repository.
  --apk-indexer-commit SHA the commit the tag must name (git-checkout's expected-commit). Default: the tag's
                           commit in that checkout, else none.
  --force              overwrite files that exist.
${SOURCE_HELP}

Exit status: 0 written, 1 files exist (without --force), 2 a usage error (no apk-indexer source known included),
an unreadable index or a directory or file that cannot be written. 70 is a bug in apk-indexer; all statuses and
error codes: docs/errors.md.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, {
    ...SOURCE_ARGS,
    repository: { type: 'string', multiple: true },
    keyring: { type: 'string', multiple: true },
    arch: { type: 'string', multiple: true },
    user: { type: 'string' },
    'password-hash': { type: 'string' },
    license: { type: 'string' },
    'renovate-server': { type: 'string' },
    'renovate-version': { type: 'string' },
    'service-image': { type: 'string' },
    'apk-indexer-source': { type: 'string' },
    'apk-indexer-ref': { type: 'string' },
    'apk-indexer-commit': { type: 'string' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw new UsageError('name one directory');
  const options: ScaffoldOptions = scaffoldOptions(parsed.values, (m) => io.stderr.write(`warning: ${m}\n`));
  const dir = resolve(parsed.positionals[0]!);
  // A DIR that cannot be a directory (a file in its path) is said before any index is read.
  await directoryCanHold(dir);
  const sources = sourceOptions(parsed.values, parsed.tokens);
  const arches = options.archs.map((a) => toApkArch(a)!);
  const source = hasSource(sources)
    ? await openVersionSource(
        sources,
        () => arches,
        (m) => io.stderr.write(`warning: ${m}\n`),
      )
    : undefined;
  const { files, pins } = await scaffold(options, source);
  if (!parsed.values.force) {
    const existing = (
      await Promise.all(files.map(async (f) => ((await exists(join(dir, f.path))) ? f.path : undefined)))
    ).filter(Boolean);
    if (existing.length > 0) {
      io.stderr.write(
        `apk-indexer init: ${dir} already has ${existing.join(', ')}; nothing written (--force overwrites)\n`,
      );
      return 1;
    }
  }
  // Each file whole or not at all; the first that cannot be written stops init with one line naming it.
  for (const file of files) {
    const path = join(dir, file.path);
    await makeDirectory(dirname(path));
    await writeFileAtomically(path, file.content);
  }
  for (const pin of pins) io.stdout.write(`${pin.file}: ${pin.name} ${pin.message}\n`);
  io.stdout.write(`${sourceLine(options.apkIndexerSource)}\n`);
  io.stdout.write(`wrote ${files.length} files to ${dir}\nnext: cd ${parsed.positionals[0]} && just\n`);
  return 0;
}

function scaffoldOptions(
  v: {
    repository?: string[];
    keyring?: string[];
    arch?: string[];
    user?: string;
    'password-hash'?: string;
    license?: string;
    'renovate-server'?: string;
    'renovate-version'?: string;
    'service-image'?: string;
    'apk-indexer-source'?: string;
    'apk-indexer-ref'?: string;
    'apk-indexer-commit'?: string;
  },
  warn: (m: string) => void,
): ScaffoldOptions {
  const archs = apkoArchesOf(splitList(v.arch));
  return {
    repositories: v.repository?.length ? v.repository : SCAFFOLD_DEFAULTS.repositories,
    keyring: v.keyring?.length ? v.keyring : SCAFFOLD_DEFAULTS.keyring,
    archs: archs.length > 0 ? archs : SCAFFOLD_DEFAULTS.archs,
    user: v.user ?? SCAFFOLD_DEFAULTS.user,
    passwordHash: v['password-hash'],
    license: v.license ?? SCAFFOLD_DEFAULTS.license,
    server: serviceEndpoint(serverUrlOf(v['renovate-server'], SCAFFOLD_DEFAULTS.server)).url,
    serviceImage: v['service-image'] ?? SCAFFOLD_DEFAULTS.serviceImage,
    renovateMajor: renovateMajorOf(v['renovate-version'], SCAFFOLD_DEFAULTS.renovateMajor),
    apkIndexerSource: resolveApkIndexerSource(
      { source: v['apk-indexer-source'], ref: v['apk-indexer-ref'], commit: v['apk-indexer-commit'] },
      toolPackage,
      warn,
    ),
  };
}

function sourceLine(s: ApkIndexerSource): string {
  const commit = s.expectedCommit === undefined ? 'no expected-commit' : `commit ${s.expectedCommit}`;
  return `melange/apk-indexer.yaml: apk-indexer ${s.version} from ${s.repository} at ${s.tag}, ${commit} (from ${s.from})`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The nearest part of `dir` that exists must be a directory, else nothing could be written under it. */
async function directoryCanHold(dir: string): Promise<void> {
  for (let at = dir; ; at = dirname(at)) {
    const info = await stat(at).catch((err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT' || err.code === 'ENOTDIR' ? undefined : Promise.reject(FileError.of(at, err)),
    );
    if (info) {
      if (!info.isDirectory()) throw new FileError(dir, `${at} is not a directory`, { errno: 'ENOTDIR' });
      return;
    }
    if (dirname(at) === at) return;
  }
}
