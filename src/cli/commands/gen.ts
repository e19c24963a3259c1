import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ApkoArch } from '../../../schemas/apko-image.js';
import { image } from '../../generate/apko-image.js';
import { toApkArch } from '../../apko/arch.js';
import { apkoArchesOf, renovateMajorOf, serverUrlOf } from '../../generate/command-options.js';
import { bootcBase, bootcFlavour, BOOTC_FLAVOURS, type BootcFlavour } from '../../generate/bootc.js';
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
import { splitList } from '../../config/layer.js';
import { writeFileAtomically } from '../../core/files.js';
import { EXIT } from '../../errors.js';
import { parseCommandArgs, UsageError } from '../args.js';
import type { CliIO } from '../io.js';

export const HELP = `usage: apk-indexer gen KIND [ARG] [options] [-o FILE]

Writes one file to stdout (or FILE), with the builders \`init\` uses:

  gen image NAME --package P...   an apko image from a package list
      [--include FILE] [--repository URL...] [--keyring URL...] [--arch a,b]
      [--entrypoint CMD] [--cmd ARGS] [--run-as USER] [--work-dir DIR] [--env KEY=VALUE...]
      Without --include, the repository, key and archs default to Wolfi's and amd64,arm64.
  gen bootc [base|host|desktop|router]   the bootable base (default) or a flavour including it
      [--include FILE] [--kernel NAME] [--dracut] [--package P...]
      [--user-package NAME] [--config-package NAME]
  gen user   a melange recipe: the first account of a host, as static files
      [--name PACKAGE] [--user NAME] [--uid N] [--full-name TEXT] [--shell PATH]
      [--password-hash HASH] [--version V] [--license SPDX] [--repository URL...] [--keyring URL...]
  gen config NAME   a melange recipe packaging the vendor/ tree beside it
      [--description TEXT] [--replaces PACKAGE...] [--version V] [--license SPDX]
      [--repository URL...] [--keyring URL...]
  gen renovate   renovate.json for the apko files and Dockerfiles of the tree at the working directory
      (or --root DIR): a regex manager reading every apko file, one reading the RUN apk add pins of every
      Dockerfile and Containerfile, and per file the datasource URL with its arches (of every image built
      with it, or that the Dockerfile builds on) and, with --config, its repositories (?repository=)
      [--renovate-server URL] [--root DIR] [--config FILE] [--include-path DIR] [--arch a,b]
      [-r|--repository-append REPO] [-b|--build-repository-append REPO] [--repository NAME]
      [--renovate-version N]   --arch: arches for images that name none (default amd64,arm64)
      --repository: the configured repositories apk add reads in Dockerfiles built on no image of the tree
      -o FILE: the repository's own Renovate config (renovate.json5, .github/renovate.json, package.json...)
      is updated in place, keeping its other settings and comments; another of Renovate's config file names
      while one exists is refused (exit 1), since Renovate reads only one [--force writes it anyway]

Exit status: 0 written, 1 gen renovate -o a second Renovate config (nothing written), 2 a usage error, a
configuration mistake, an apko file apko refuses or an -o FILE that cannot be written. 70 is a bug in
apk-indexer; all statuses and error codes: docs/errors.md.
`;

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  package: { type: 'string', multiple: true },
  include: { type: 'string' },
  repository: { type: 'string', multiple: true },
  keyring: { type: 'string', multiple: true },
  arch: { type: 'string', multiple: true },
  entrypoint: { type: 'string' },
  cmd: { type: 'string' },
  'run-as': { type: 'string' },
  'work-dir': { type: 'string' },
  env: { type: 'string', multiple: true },
  kernel: { type: 'string' },
  dracut: { type: 'boolean' },
  'user-package': { type: 'string' },
  'config-package': { type: 'string' },
  name: { type: 'string' },
  user: { type: 'string' },
  uid: { type: 'string' },
  'full-name': { type: 'string' },
  shell: { type: 'string' },
  'password-hash': { type: 'string' },
  version: { type: 'string' },
  license: { type: 'string' },
  description: { type: 'string' },
  replaces: { type: 'string', multiple: true },
  'renovate-server': { type: 'string' },
  'renovate-version': { type: 'string' },
  root: { type: 'string' },
  config: { type: 'string' },
  'include-path': { type: 'string', multiple: true },
  'repository-append': { type: 'string', multiple: true, short: 'r' },
  'build-repository-append': { type: 'string', multiple: true, short: 'b' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** Each kind: the options it takes, and its builder. */
const KINDS: Record<
  string,
  {
    options: (keyof typeof OPTIONS)[];
    /** The file's text; or, for a kind that writes its own output, the exit status. */
    build: (
      arg: string | undefined,
      v: Values,
      file: string | undefined,
      io: CliIO,
    ) => string | Promise<string | { exit: number }>;
  }
> = {
  image: {
    options: ['package', 'include', 'repository', 'keyring', 'arch', 'entrypoint', 'cmd', 'run-as', 'work-dir', 'env'],
    build: (name, v, file) => {
      if (!name) throw new UsageError('gen image needs a NAME');
      const packages = splitList(v.package);
      if (packages.length === 0) throw new UsageError('gen image needs --package');
      const standalone = v.include === undefined;
      return renderYaml(
        image({
          name,
          purpose: `an image of ${packages.join(', ')}.`,
          include: v.include,
          repositories: v.repository ?? (standalone ? SCAFFOLD_DEFAULTS.repositories : undefined),
          keyring: v.keyring ?? (standalone ? SCAFFOLD_DEFAULTS.keyring : undefined),
          archs: archs(v.arch, standalone ? [...SCAFFOLD_DEFAULTS.archs] : []),
          packages: packages.map((entry) => ({ entry })),
          entrypoint: v.entrypoint,
          cmd: v.cmd,
          runAs: v['run-as'],
          workDir: v['work-dir'],
          environment: environment(v.env ?? []),
          file,
        }),
      );
    },
  },
  bootc: {
    options: ['include', 'kernel', 'dracut', 'package', 'user-package', 'config-package'],
    build: (flavour = 'base', v, file) => {
      if (flavour === 'base') {
        return renderYaml(
          bootcBase({
            include: v.include ?? BASE_INCLUDE,
            kernel: v.kernel ?? DEFAULT_KERNEL,
            dracut: v.dracut ?? false,
            file,
          }),
        );
      }
      if (!(BOOTC_FLAVOURS as readonly string[]).includes(flavour))
        throw new UsageError(`no bootc flavour ${flavour} (base, ${BOOTC_FLAVOURS.join(', ')})`);
      return renderYaml(
        bootcFlavour(flavour as BootcFlavour, {
          include: v.include ?? BOOTC_INCLUDE,
          userPackage: v['user-package'] ?? USER_PACKAGE,
          configPackage: v['config-package'] ?? `${flavour}-config`,
          extraPackages: splitList(v.package),
          file,
        }),
      );
    },
  },
  user: {
    options: [
      'name',
      'user',
      'uid',
      'full-name',
      'shell',
      'password-hash',
      'version',
      'license',
      'repository',
      'keyring',
    ],
    build: (_arg, v) =>
      renderYaml(
        userPackage({
          packageName: v.name ?? USER_PACKAGE,
          version: v.version ?? '1.0.0',
          license: v.license ?? SCAFFOLD_DEFAULTS.license,
          user: v.user ?? SCAFFOLD_DEFAULTS.user,
          uid: v.uid === undefined ? 1000 : wholeNumber('--uid', v.uid),
          gecos: v['full-name'] ?? 'Administrator',
          shell: v.shell ?? '/bin/sh',
          passwordHash: v['password-hash'],
          repositories: v.repository ?? SCAFFOLD_DEFAULTS.repositories,
          keyring: v.keyring ?? SCAFFOLD_DEFAULTS.keyring,
        }),
      ),
  },
  config: {
    options: ['description', 'replaces', 'version', 'license', 'repository', 'keyring'],
    build: (name, v) => {
      if (!name) throw new UsageError('gen config needs a package NAME');
      return renderYaml(
        configPackage({
          packageName: name,
          version: v.version ?? '1.0.0',
          license: v.license ?? SCAFFOLD_DEFAULTS.license,
          description: v.description ?? `the configuration of ${name.replace(/-config$/, '')}`,
          replaces: splitList(v.replaces),
          repositories: v.repository ?? SCAFFOLD_DEFAULTS.repositories,
          keyring: v.keyring ?? SCAFFOLD_DEFAULTS.keyring,
        }),
      );
    },
  },
  renovate: {
    options: [
      'renovate-server',
      'arch',
      'renovate-version',
      'root',
      'config',
      'include-path',
      'repository-append',
      'build-repository-append',
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
          includePaths: v['include-path'] ?? [],
          repositoryAppend: v['repository-append'] ?? [],
          buildRepositoryAppend: v['build-repository-append'] ?? [],
          fallbackArches: fallback,
          config: v.config,
          dockerRepositories: splitList(v.repository),
          dockerArches: archs(v.arch, []).map((a) => toApkArch(a)!),
          server: serverUrlOf(v['renovate-server'], SCAFFOLD_DEFAULTS.server),
          renovateMajor: renovateMajorOf(v['renovate-version'], SCAFFOLD_DEFAULTS.renovateMajor),
        },
        (note) => io.stderr.write(`note: ${note}\n`),
      );
      // One Renovate config per repository: the user's file is updated in place, never shadowed by a second one.
      const plan = await renovateOutput({ root, output, generated, force: v.force ?? false });
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
};

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, OPTIONS);
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const [kind, arg, ...extra] = parsed.positionals;
  const spec = kind === undefined ? undefined : KINDS[kind];
  if (!spec) throw new UsageError(kind === undefined ? 'name what to generate' : `nothing to generate called ${kind}`);
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
  const wrong = Object.keys(parsed.values).filter((k) => k !== 'output' && !(spec.options as string[]).includes(k));
  if (wrong.length > 0) throw new UsageError(`gen ${kind} does not take --${wrong.join(', --')}`);
  const output = parsed.values.output;
  const built = await spec.build(arg, parsed.values, output === undefined ? undefined : headerPath(output), io);
  // A kind that writes its own output (gen renovate) says how it ended.
  if (typeof built !== 'string') return built.exit;
  if (output === undefined) io.stdout.write(built);
  else await writeFileAtomically(output, built, `-o ${output}`);
  return 0;
}

/** `-o FILE` as the header names it: relative to the working directory (the repository root) when inside it. */
function headerPath(output: string): string {
  const rel = relative(process.cwd(), resolve(output));
  return (rel.startsWith('..') || isAbsolute(rel) ? resolve(output) : rel).split(sep).join('/');
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag}: expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function archs(values: string[] | undefined, fallback: ApkoArch[]): ApkoArch[] {
  const list = apkoArchesOf(splitList(values));
  return list.length > 0 ? list : fallback;
}

function environment(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--env takes KEY=VALUE, not ${pair}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}
