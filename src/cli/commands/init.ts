import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { toApkArch } from '../../apko/arch.js';
import {
  apkoArchesOf,
  PASSWORD_HASH_FLAG,
  renovateMajorOf,
  serverUrlOf,
  SOURCE_FLAGS,
  sourceOptions,
} from '../../generate/command-options.js';
import { resolveApkIndexerSource, type ApkIndexerSource } from '../../generate/apk-indexer-source.js';
import { serviceEndpoint } from '../../generate/gitlab-ci.js';
import { toolPackage } from '../../core/version.js';
import { hasSource, openVersionSource } from '../../generate/open-source.js';
import { scaffold, SCAFFOLD_DEFAULTS, type ScaffoldOptions } from '../../generate/scaffold.js';
import { makeDirectory, writeFileAtomically } from '../../core/files.js';
import { flag, type FlagValues, type ParsedArgs } from '../../core/flags.js';
import { FileError, UsageError } from '../../errors.js';
import { escapeControl } from '../../core/escape.js';
import { defineCommand } from '../command.js';
import { warner, type CliIO } from '../io.js';

const FLAGS = {
  repository: flag.each({
    names: ['--repository'],
    value: 'URL',
    doc: 'apk repository of the images and recipes (repeat).',
    defaultText: 'Wolfi',
  }),
  keyring: flag.each({
    names: ['--keyring'],
    value: 'URL',
    doc: 'key those repositories are signed with (repeat).',
    defaultText: "Wolfi's",
  }),
  arch: flag.list({ names: ['--arch'], value: 'a,b', doc: 'archs the images build for.', defaultText: 'amd64,arm64' }),
  user: flag.one({ names: ['--user'], value: 'NAME', doc: "the hosts' first account.", defaultText: 'admin' }),
  passwordHash: PASSWORD_HASH_FLAG,
  license: flag.one({
    names: ['--license'],
    value: 'SPDX',
    doc: 'license of the packages built here.',
    defaultText: 'Apache-2.0',
  }),
  renovateServer: flag.one({
    names: ['--renovate-server'],
    value: 'URL',
    doc: "where Renovate and the CI jobs reach apk-indexer, http://ALIAS:PORT: the service container's alias and port.",
    defaultText: 'http://apk-indexer:3000',
  }),
  renovateVersion: flag.one({
    names: ['--renovate-version'],
    value: 'N',
    doc: 'the Renovate major renovate.json is for (below 42 the older form that Renovate 39 reads).',
    defaultText: String(SCAFFOLD_DEFAULTS.renovateMajor),
  }),
  serviceImage: flag.one({
    names: ['--service-image'],
    value: 'IMAGE',
    doc: "an existing apk-indexer image for CI to run as its service; by default the pipeline builds apko/apk-indexer.yaml and pushes it to the project's registry first.",
  }),
  apkIndexerSource: flag.one({
    names: ['--apk-indexer-source'],
    value: 'GIT_URL',
    doc: "where melange/apk-indexer.yaml clones apk-indexer's source (https://...; credentials are dropped).",
    defaultText: "package.json's repository, else the origin remote of the git checkout this apk-indexer runs from",
  }),
  apkIndexerRef: flag.one({
    names: ['--apk-indexer-ref'],
    value: 'TAG',
    doc: 'the tag it builds (package.version is the tag without its v).',
    defaultText: 'the tag at HEAD of that checkout, else v<version> for an installed package with a repository',
  }),
  apkIndexerCommit: flag.one({
    names: ['--apk-indexer-commit'],
    value: 'SHA',
    doc: "the commit the tag must name (git-checkout's expected-commit).",
    defaultText: "the tag's commit in that checkout, else none",
  }),
  force: flag.switch({ names: ['--force'], doc: 'overwrite files that exist.' }),
  ...SOURCE_FLAGS,
};

export const command = defineCommand({
  name: 'init',
  summary: 'write a repository of apko images, bootc hosts, melange recipes and Renovate wiring',
  usage: ['DIR [options]'],
  about: `Writes a repository of image and package definitions, ready to commit and build:
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
newest version present on all of the image's archs.`,
  flags: FLAGS,
  exits: `0 written, 1 files exist (without --force), 2 a usage error (no apk-indexer source known included),
an unreadable index or a directory or file that cannot be written.`,
  run,
});

async function run({ values, positionals, given }: ParsedArgs<FlagValues<typeof FLAGS>>, io: CliIO): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('name one directory');
  const options: ScaffoldOptions = scaffoldOptions(values, warner(io));
  const dir = resolve(positionals[0]!);
  // A DIR that cannot be a directory (a file in its path) is said before any index is read.
  await directoryCanHold(dir);
  const sources = sourceOptions(values, given);
  const arches = options.archs.map((a) => toApkArch(a)!);
  const source = hasSource(sources) ? await openVersionSource(sources, () => arches, warner(io)) : undefined;
  const { files, pins } = await scaffold(options, source);
  if (!values.force) {
    const existing = (
      await Promise.all(files.map(async (f) => ((await exists(join(dir, f.path))) ? f.path : undefined)))
    ).filter(Boolean);
    if (existing.length > 0) {
      io.stderr.write(
        `apk-indexer init: ${escapeControl(`${dir} already has ${existing.join(', ')}`)}; nothing written (--force overwrites)\n`,
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
  for (const pin of pins) io.stdout.write(`${escapeControl(`${pin.file}: ${pin.name} ${pin.message}`)}\n`);
  io.stdout.write(`${escapeControl(sourceLine(options.apkIndexerSource))}\n`);
  io.stdout.write(`${escapeControl(`wrote ${files.length} files to ${dir}`)}\n`);
  io.stdout.write(`next: cd ${escapeControl(positionals[0]!)} && just\n`);
  return 0;
}

function scaffoldOptions(v: FlagValues<typeof FLAGS>, warn: (m: string) => void): ScaffoldOptions {
  const archs = apkoArchesOf(v.arch);
  return {
    repositories: v.repository.length ? v.repository : SCAFFOLD_DEFAULTS.repositories,
    keyring: v.keyring.length ? v.keyring : SCAFFOLD_DEFAULTS.keyring,
    archs: archs.length > 0 ? archs : SCAFFOLD_DEFAULTS.archs,
    user: v.user ?? SCAFFOLD_DEFAULTS.user,
    passwordHash: v.passwordHash,
    license: v.license ?? SCAFFOLD_DEFAULTS.license,
    server: serviceEndpoint(serverUrlOf(v.renovateServer, SCAFFOLD_DEFAULTS.server)).url,
    serviceImage: v.serviceImage ?? SCAFFOLD_DEFAULTS.serviceImage,
    renovateMajor: renovateMajorOf(v.renovateVersion, SCAFFOLD_DEFAULTS.renovateMajor),
    apkIndexerSource: resolveApkIndexerSource(
      { source: v.apkIndexerSource, ref: v.apkIndexerRef, commit: v.apkIndexerCommit },
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
