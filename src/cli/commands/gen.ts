import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ApkoArch } from '../../apko/arch.js';
import { image } from '../../generate/apko-image.js';
import { toApkArch } from '../../apko/arch.js';
import {
  apkArchesOf,
  APKO_TREE_FLAGS,
  apkoArchesOf,
  KEYRING_APPEND_FLAG,
  PASSWORD_HASH_FLAG,
  renovateMajorOf,
  serverUrlOf,
} from '../../generate/command-options.js';
import { generateCi } from '../../generate/ci.js';
import { bootcBase, bootcFlavour, BOOTC_FLAVOURS } from '../../generate/bootc.js';
import { configPackage } from '../../generate/melange-config.js';
import { userPackage } from '../../generate/melange-user.js';
import { renovateOutput } from '../../generate/renovate-file.js';
import { treeRenovateConfig } from '../../generate/renovate-tree.js';
import {
  BASE_INCLUDE,
  BOOTC_INCLUDE,
  DEFAULT_KERNEL,
  SCAFFOLD_DEFAULTS,
  USER_PACKAGE,
} from '../../generate/scaffold.js';
import { renderYaml } from '../../generate/yaml-doc.js';
import { writeFileAtomically } from '../../core/files.js';
import { flag, type FlagValues } from '../../core/flags.js';
import { splitList } from '../../core/list.js';
import { EXIT, UsageError } from '../../errors.js';
import { defineCommand } from '../command.js';
import type { CliIO } from '../io.js';

const FLAGS = {
  output: flag.one({ names: ['--output', '-o'], value: 'FILE', doc: 'write to FILE instead of standard output.' }),
  package: flag.list({ names: ['--package'], value: 'P', doc: 'packages to install (repeat or a,b).' }),
  include: flag.one({
    names: ['--include'],
    value: 'FILE',
    doc: 'the apko file it includes (an image without one names the Wolfi repository, key and archs itself).',
    defaultText: 'gen image: none; gen bootc: apko/wolfi-base.yaml, a flavour apko/bootc.yaml',
  }),
  repository: flag.each({
    names: ['--repository'],
    value: 'URL',
    doc: 'an apk repository (repeat). For gen renovate: a repository (a name of --config, or a URL) that `RUN apk add` reads in a Dockerfile built on no image of the tree (repeat, or a,b).',
    defaultText: 'Wolfi; for gen renovate, none',
  }),
  keyring: flag.each({
    names: ['--keyring'],
    value: 'URL',
    doc: 'a key those repositories are signed with (repeat).',
    defaultText: "Wolfi's",
  }),
  arch: flag.list({
    names: ['--arch'],
    value: 'a,b',
    doc: 'archs to build for (renovate: for images that name none, and Dockerfiles built on no image of the tree).',
    defaultText: 'amd64,arm64',
  }),
  entrypoint: flag.one({ names: ['--entrypoint'], value: 'CMD', doc: "the image's entrypoint command." }),
  cmd: flag.one({ names: ['--cmd'], value: 'ARGS', doc: "the image's default arguments." }),
  runAs: flag.one({ names: ['--run-as'], value: 'USER', doc: 'the user the image runs as.' }),
  workDir: flag.one({ names: ['--work-dir'], value: 'DIR', doc: "the image's working directory." }),
  env: flag.each({ names: ['--env'], value: 'KEY=VALUE', doc: 'an environment variable of the image (repeat).' }),
  kernel: flag.one({ names: ['--kernel'], value: 'NAME', doc: 'the kernel package.', defaultText: DEFAULT_KERNEL }),
  dracut: flag.switch({ names: ['--dracut'], doc: 'add dracut, for derived images that regenerate the initramfs.' }),
  userPackage: flag.one({
    names: ['--user-package'],
    value: 'NAME',
    doc: "the package holding the host's first account.",
    defaultText: USER_PACKAGE,
  }),
  configPackage: flag.one({
    names: ['--config-package'],
    value: 'NAME',
    doc: "the package holding the flavour's configuration.",
    defaultText: 'FLAVOUR-config',
  }),
  name: flag.one({ names: ['--name'], value: 'PACKAGE', doc: "the recipe's package name.", defaultText: USER_PACKAGE }),
  user: flag.one({ names: ['--user'], value: 'NAME', doc: 'the account name.', defaultText: SCAFFOLD_DEFAULTS.user }),
  uid: flag.one({ names: ['--uid'], value: 'N', doc: 'its uid, a whole number in 1000-60000.', defaultText: '1000' }),
  fullName: flag.one({ names: ['--full-name'], value: 'TEXT', doc: 'its full name.', defaultText: 'Administrator' }),
  shell: flag.one({ names: ['--shell'], value: 'PATH', doc: 'its login shell.', defaultText: '/bin/sh' }),
  passwordHash: PASSWORD_HASH_FLAG,
  version: flag.one({ names: ['--version'], value: 'V', doc: "the package's version.", defaultText: '1.0.0' }),
  license: flag.one({
    names: ['--license'],
    value: 'SPDX',
    doc: "the package's license.",
    defaultText: SCAFFOLD_DEFAULTS.license,
  }),
  description: flag.one({ names: ['--description'], value: 'TEXT', doc: "the package's description." }),
  replaces: flag.list({ names: ['--replaces'], value: 'PACKAGE', doc: 'packages whose files it may overwrite.' }),
  renovateServer: flag.one({
    names: ['--renovate-server'],
    value: 'URL',
    doc: 'where Renovate reaches apk-indexer.',
    defaultText: SCAFFOLD_DEFAULTS.server,
  }),
  renovateVersion: flag.one({
    names: ['--renovate-version'],
    value: 'N',
    doc: 'the Renovate major renovate.json is for (below 42 the older form that Renovate 39 reads).',
    defaultText: String(SCAFFOLD_DEFAULTS.renovateMajor),
  }),
  root: flag.one({
    names: ['--root'],
    value: 'DIR',
    doc: 'the tree whose apko files (and, for gen renovate, Dockerfiles) it reads.',
    defaultText: 'the working directory',
  }),
  config: flag.one({
    names: ['--config'],
    value: 'FILE',
    doc: "the service's configuration: each file's URL names its repositories (?repository=, the service's names).",
  }),
  force: flag.switch({
    names: ['--force'],
    doc: "write -o FILE even when the repository already has another of Renovate's config files (Renovate reads only one).",
  }),
  includePath: APKO_TREE_FLAGS.includePath,
  repositoryAppend: APKO_TREE_FLAGS.repositoryAppend,
  buildRepositoryAppend: APKO_TREE_FLAGS.buildRepositoryAppend,
  github: flag.switch({ names: ['--github'], doc: 'a GitHub Actions workflow publishing the images as a job matrix.' }),
  branch: flag.one({ names: ['--branch'], value: 'NAME', doc: 'the branch whose pushes publish (--github).' }),
  stage: flag.one({
    names: ['--stage'],
    value: 'NAME',
    doc: 'the GitLab stage of the two jobs.',
    defaultText: 'publish',
  }),
  apkIndexerImage: flag.one({
    names: ['--apk-indexer-image'],
    value: 'IMAGE',
    doc: 'the apk-indexer image the job asking `images --changed-since` runs in.',
  }),
  imagePrefix: flag.one({
    names: ['--image-prefix'],
    value: 'PREFIX',
    doc: 'the registry path the images are published under (each image is PREFIX/NAME).',
  }),
  tag: flag.each({
    names: ['--tag'],
    value: 'TEMPLATE',
    doc: 'a tag to publish under instead of the ladder (repeat); see `apk-indexer images --help`.',
  }),
  keyringAppend: KEYRING_APPEND_FLAG,
  packagesCommand: flag.each({
    names: ['--packages-command'],
    value: 'CMD',
    doc: 'a command building ./packages for every arch before publishing (repeat; GitLab).',
  }),
  child: flag.switch({
    names: ['--child'],
    doc: 'the child pipeline itself, as the committed job writes it (no change given: every image).',
  }),
  changedSince: flag.one({
    names: ['--changed-since'],
    value: 'REV',
    doc: 'with --child: only the images a change since REV rebuilds (as `images --changed-since`).',
  }),
  changedFiles: flag.one({
    names: ['--changed-files'],
    value: 'FILE',
    doc: 'with --child: the same from a list of changed paths, one per line (- reads stdin).',
  }),
};

type Values = FlagValues<typeof FLAGS>;
type Key = keyof typeof FLAGS;

/** Each kind: its usage, what it writes, the flags it takes, and its builder. */
interface Kind {
  usage: string;
  about: string;
  flags: readonly Key[];
  /** The file's text; or, for a kind that writes its own output (gen renovate), the exit status. */
  build: (
    arg: string | undefined,
    v: Values,
    file: string | undefined,
    io: CliIO,
  ) => string | Promise<string | { exit: number }>;
}

const KINDS: Record<string, Kind> = {
  image: {
    usage: 'image NAME --package P...',
    about: 'an apko image from a package list',
    flags: ['package', 'include', 'repository', 'keyring', 'arch', 'entrypoint', 'cmd', 'runAs', 'workDir', 'env'],
    build: (name, v, file) => {
      if (!name) throw new UsageError('gen image needs a NAME');
      const packages = v.package;
      if (packages.length === 0) throw new UsageError('gen image needs --package');
      const standalone = v.include === undefined;
      return renderYaml(
        image({
          name,
          purpose: `an image of ${packages.join(', ')}.`,
          include: v.include,
          repositories: listOr(v.repository, standalone ? SCAFFOLD_DEFAULTS.repositories : undefined),
          keyring: listOr(v.keyring, standalone ? SCAFFOLD_DEFAULTS.keyring : undefined),
          archs: archs(v.arch, standalone ? [...SCAFFOLD_DEFAULTS.archs] : []),
          packages: packages.map((entry) => ({ entry })),
          entrypoint: v.entrypoint,
          cmd: v.cmd,
          runAs: v.runAs,
          workDir: v.workDir,
          environment: environment(v.env),
          file,
        }),
      );
    },
  },
  bootc: {
    usage: 'bootc [base|host|desktop|router]',
    about: 'the bootable base (default) or a flavour including it',
    flags: ['include', 'kernel', 'dracut', 'package', 'userPackage', 'configPackage'],
    build: (flavour = 'base', v, file) => {
      if (flavour === 'base') {
        return renderYaml(
          bootcBase({
            include: v.include ?? BASE_INCLUDE,
            kernel: v.kernel ?? DEFAULT_KERNEL,
            dracut: v.dracut,
            file,
          }),
        );
      }
      const known = BOOTC_FLAVOURS.find((f) => f === flavour);
      if (!known) throw new UsageError(`no bootc flavour ${flavour} (base, ${BOOTC_FLAVOURS.join(', ')})`);
      return renderYaml(
        bootcFlavour(known, {
          include: v.include ?? BOOTC_INCLUDE,
          userPackage: v.userPackage ?? USER_PACKAGE,
          configPackage: v.configPackage ?? `${flavour}-config`,
          extraPackages: v.package,
          file,
        }),
      );
    },
  },
  user: {
    usage: 'user',
    about: 'a melange recipe: the first account of a host, as static files',
    flags: ['name', 'user', 'uid', 'fullName', 'shell', 'passwordHash', 'version', 'license', 'repository', 'keyring'],
    build: (_arg, v) =>
      renderYaml(
        userPackage({
          packageName: v.name ?? USER_PACKAGE,
          version: v.version ?? '1.0.0',
          license: v.license ?? SCAFFOLD_DEFAULTS.license,
          user: v.user ?? SCAFFOLD_DEFAULTS.user,
          uid: v.uid === undefined ? 1000 : wholeNumber('--uid', v.uid),
          gecos: v.fullName ?? 'Administrator',
          shell: v.shell ?? '/bin/sh',
          passwordHash: v.passwordHash,
          repositories: listOr(v.repository, SCAFFOLD_DEFAULTS.repositories),
          keyring: listOr(v.keyring, SCAFFOLD_DEFAULTS.keyring),
        }),
      ),
  },
  config: {
    usage: 'config NAME',
    about: 'a melange recipe packaging the vendor/ tree beside it',
    flags: ['description', 'replaces', 'version', 'license', 'repository', 'keyring'],
    build: (name, v) => {
      if (!name) throw new UsageError('gen config needs a package NAME');
      return renderYaml(
        configPackage({
          packageName: name,
          version: v.version ?? '1.0.0',
          license: v.license ?? SCAFFOLD_DEFAULTS.license,
          description: v.description ?? `the configuration of ${name.replace(/-config$/, '')}`,
          replaces: v.replaces,
          repositories: listOr(v.repository, SCAFFOLD_DEFAULTS.repositories),
          keyring: listOr(v.keyring, SCAFFOLD_DEFAULTS.keyring),
        }),
      );
    },
  },
  renovate: {
    usage: 'renovate',
    about:
      "renovate.json for the apko files and Dockerfiles of the tree at the working directory (or --root DIR): a regex manager reading every apko file, one reading the RUN apk add pins of every Dockerfile and Containerfile, and per file the datasource URL with its arches (of every image built with it, or that the Dockerfile builds on) and, with --config, its repositories (?repository=). With -o FILE, the repository's own Renovate config (renovate.json5, .github/renovate.json, package.json...) is updated in place, keeping its other settings and comments; another of Renovate's config file names while one exists is refused (exit 1), since Renovate reads only one (--force writes it anyway)",
    flags: [
      'renovateServer',
      'arch',
      'renovateVersion',
      'root',
      'config',
      'includePath',
      'repositoryAppend',
      'buildRepositoryAppend',
      'repository',
      'force',
    ],
    build: async (arg, v, output, io) => {
      if (arg !== undefined) throw new UsageError(`unexpected ${arg}`);
      const fallback = archs(v.arch, [...SCAFFOLD_DEFAULTS.archs]).map((a) => toApkArch(a)!);
      const root = resolve(v.root ?? '.');
      const generated = await treeRenovateConfig(
        {
          root,
          includePaths: v.includePath,
          repositoryAppend: v.repositoryAppend,
          buildRepositoryAppend: v.buildRepositoryAppend,
          fallbackArches: fallback,
          config: v.config,
          dockerRepositories: splitList(v.repository),
          dockerArches: archs(v.arch, []).map((a) => toApkArch(a)!),
          server: serverUrlOf(v.renovateServer, SCAFFOLD_DEFAULTS.server),
          renovateMajor: renovateMajorOf(v.renovateVersion, SCAFFOLD_DEFAULTS.renovateMajor),
        },
        (note) => io.stderr.write(`note: ${note}\n`),
      );
      // One Renovate config per repository: the user's file is updated in place, never shadowed by a second one.
      const plan = await renovateOutput({ root, output, generated, force: v.force });
      if (plan.kind === 'refuse') {
        io.stderr.write(`apk-indexer gen: ${plan.message}\n`);
        return { exit: EXIT.found };
      }
      if (plan.kind === 'stdout') {
        if (plan.note) io.stderr.write(`note: ${plan.note}\n`);
        return plan.text;
      }
      await writeFileAtomically(plan.path, plan.text, `-o ${output}`);
      if (plan.updated) io.stderr.write(`${output}: updated in place (its other settings and comments kept)\n`);
      return { exit: EXIT.ok };
    },
  },
  ci: {
    usage: 'ci',
    about:
      'the CI that publishes each image of the tree at the working directory (or --root DIR, where CI runs apko) when a file it is built from changes (its chain, its lock, a melange recipe of what it installs), under its tags (`apk-indexer images --help`): for GitLab, two jobs to commit (or include) whose first writes a child pipeline with one publish job per image the push rebuilds; with --github, a workflow publishing them as a job matrix',
    flags: [
      'github',
      'child',
      'changedSince',
      'changedFiles',
      'apkIndexerImage',
      'imagePrefix',
      'tag',
      'arch',
      'repositoryAppend',
      'buildRepositoryAppend',
      'keyringAppend',
      'packagesCommand',
      'stage',
      'branch',
      'root',
    ],
    build: (arg, v) => {
      if (arg !== undefined) throw new UsageError(`unexpected ${arg}`);
      return generateCi(
        {
          platform: v.github ? 'github' : 'gitlab',
          child: v.child,
          changedSince: v.changedSince,
          changedFiles: v.changedFiles,
          root: resolve(v.root ?? '.'),
          fallbackArches: apkArchesOf(v.arch),
          archArgs: v.arch,
          tagTemplates: v.tag,
          apkIndexerImage: v.apkIndexerImage,
          imagePrefix: v.imagePrefix,
          repositoryAppend: v.repositoryAppend,
          buildRepositoryAppend: v.buildRepositoryAppend,
          keyringAppend: v.keyringAppend,
          packagesCommands: v.packagesCommand,
          stage: v.stage,
          branch: v.branch,
        },
        process.stdin,
      );
    },
  },
};

export const command = defineCommand({
  name: 'gen',
  summary: 'write one image, bootc flavour, melange recipe or renovate.json to stdout',
  usage: Object.values(KINDS).map((k) => `${k.usage} [options] [-o FILE]`),
  about: 'Writes one file to stdout (or FILE), with the builders `init` uses.',
  flags: FLAGS,
  sections: Object.entries(KINDS).map(([name, k]) => ({ title: `gen ${name}: ${k.about}`, keys: k.flags })),
  exits: `0 written, 1 gen renovate -o a second Renovate config (nothing written), 2 a usage error, a
configuration mistake, an apko file apko refuses or an -o FILE that cannot be written.`,
  run: async ({ values, positionals, given }, io) => {
    const [kind, arg, ...extra] = positionals;
    const spec = kind !== undefined && Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
    if (!spec)
      throw new UsageError(kind === undefined ? 'name what to generate' : `nothing to generate called ${kind}`);
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
    const wrong = given.filter((g) => g.key !== 'output' && !spec.flags.includes(g.key));
    if (wrong.length > 0)
      throw new UsageError(`gen ${kind} does not take ${[...new Set(wrong.map((g) => g.spelling))].join(', ')}`);
    const output = values.output;
    const built = await spec.build(arg, values, output === undefined ? undefined : headerPath(output), io);
    // A kind that writes its own output (gen renovate) says how it ended.
    if (typeof built !== 'string') return built.exit;
    if (output === undefined) io.stdout.write(built);
    else await writeFileAtomically(output, built, `-o ${output}`);
    return 0;
  },
});

/** `-o FILE` as the header names it: relative to the working directory (the repository root) when inside it. */
function headerPath(output: string): string {
  const rel = relative(process.cwd(), resolve(output));
  return (rel.startsWith('..') || isAbsolute(rel) ? resolve(output) : rel).split(sep).join('/');
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag}: expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function archs(values: readonly string[], fallback: ApkoArch[]): ApkoArch[] {
  const list = apkoArchesOf(values);
  return list.length > 0 ? list : fallback;
}

/** A repeated flag's values, or `fallback` when it was not given. */
function listOr<T>(values: readonly string[], fallback: T): string[] | T {
  return values.length > 0 ? [...values] : fallback;
}

/** `--env KEY=VALUE` pairs as own properties (a later KEY wins; `__proto__` is a key like any other). */
function environment(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new UsageError(`--env takes KEY=VALUE, not ${pair}`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}
