import { parseRepository } from '../apko/repository.js';
import { entryScope, notJudged, type EntryScope } from './image-scope.js';
import type { ApkIndexerSource } from './apk-indexer-source.js';
import type { ApkoArch } from '../apko/arch.js';
import type { ApkoImage } from '../apko/config-model.js';
import type { MelangeRecipe } from '../../schemas/melange-recipe.js';
import { baseImage, image, WOLFI_KEY, WOLFI_REPOSITORY } from './apko-image.js';
import { sortApkArches, toApkArch } from '../apko/arch.js';
import { bootcBase, bootcFlavour, BOOTC_FLAVOURS, flavourFileName } from './bootc.js';
import { BUILT_SERVICE_IMAGE, CI_IMAGES, gitlabCi } from './gitlab-ci.js';
import { JUST, justfile } from './justfile.js';
import { withLockJobs } from './lock-ci.js';
import { apkIndexerPackage } from './melange-apk-indexer.js';
import { configPackage, ROUTER_VENDOR_FILES } from './melange-config.js';
import { userPackage } from './melange-user.js';
import { formatPin, parsePackageSpec } from '../apko/package-spec.js';
import { renderRenovateJson, renovateConfig, DEFAULT_RENOVATE_MAJOR } from './renovate.js';
import { choosePin, type VersionSource } from './version-source.js';
import { renderYaml, type CommentedValue } from './yaml-doc.js';

export interface ScaffoldOptions {
  repositories: readonly string[];
  keyring: readonly string[];
  archs: readonly ApkoArch[];
  user: string;
  passwordHash: string | undefined;
  license: string;
  /** Where Renovate and the CI jobs reach apk-indexer. */
  server: string;
  /** An existing apk-indexer image for CI; undefined: the pipeline builds apko/apk-indexer.yaml and pushes it. */
  serviceImage: string | undefined;
  renovateMajor: number;
  /** Where melange/apk-indexer.yaml checks apk-indexer's source out from (no default: see apk-indexer-source.ts). */
  apkIndexerSource: ApkIndexerSource;
}

export const SCAFFOLD_DEFAULTS: Omit<ScaffoldOptions, 'apkIndexerSource'> = {
  repositories: [WOLFI_REPOSITORY],
  keyring: [WOLFI_KEY],
  archs: ['amd64', 'arm64'],
  user: 'admin',
  passwordHash: undefined,
  license: 'Apache-2.0',
  server: 'http://apk-indexer:3000',
  serviceImage: undefined,
  renovateMajor: DEFAULT_RENOVATE_MAJOR,
};

export const USER_PACKAGE = 'default-user';
export const ROUTER_CONFIG_PACKAGE = 'router-config';
export const APK_INDEXER_PACKAGE = 'apk-indexer';
/** Include paths are relative to the repository root, where apko runs. */
export const BASE_INCLUDE = 'apko/wolfi-base.yaml';
export const BOOTC_INCLUDE = 'apko/bootc.yaml';
export const DEFAULT_KERNEL = 'linux-lts';

export interface ScaffoldFile {
  path: string;
  content: string;
}

/** What happened to the first package of each image when an index was given. */
export interface ScaffoldPin {
  file: string;
  name: string;
  version: string | undefined;
  message: string;
}

/**
 * The repository `init` writes: apko images (a base, the bootable base, its flavours, this service's image),
 * melange recipes for the packages built here, renovate.json, .gitlab-ci.yml and a Justfile. With a version
 * source, the first package of each image is pinned to the newest version present on all of its archs.
 */
export async function scaffold(
  o: ScaffoldOptions,
  source?: VersionSource,
): Promise<{ files: ScaffoldFile[]; pins: ScaffoldPin[] }> {
  const env = { repositories: o.repositories, keyring: o.keyring };
  const images: [string, CommentedValue<ApkoImage>][] = [
    [
      'wolfi-base',
      baseImage({
        name: 'wolfi-base',
        ...env,
        archs: o.archs,
        packages: [
          { entry: 'wolfi-baselayout', why: 'The filesystem layout, /etc/os-release and the base accounts.' },
          { entry: 'ca-certificates-bundle' },
          { entry: 'tzdata' },
        ],
        user: { name: 'nonroot', id: 65532 },
      }),
    ],
    ['bootc', bootcBase({ include: BASE_INCLUDE, kernel: DEFAULT_KERNEL, dracut: false })],
    ...BOOTC_FLAVOURS.map((flavour): [string, CommentedValue<ApkoImage>] => [
      flavourFileName(flavour),
      bootcFlavour(flavour, {
        include: BOOTC_INCLUDE,
        userPackage: USER_PACKAGE,
        configPackage: ROUTER_CONFIG_PACKAGE,
        extraPackages: [],
      }),
    ]),
    [
      'apk-indexer',
      image({
        name: 'apk-indexer',
        purpose: "this service's own image, the Renovate datasource the CI jobs run beside them.",
        include: BASE_INCLUDE,
        packages: [
          {
            entry: APK_INDEXER_PACKAGE,
            why: 'Built from melange/apk-indexer.yaml (its source at a tag); it pulls in Node.js.',
          },
          {
            entry: 'git',
            why: 'The publish pipeline runs `apk-indexer images --changed-since` in this image, which asks git.',
          },
        ],
        entrypoint: '/usr/bin/apk-indexer',
        cmd: 'serve',
      }),
    ],
  ];
  const apkArches = sortApkArches(o.archs.map((a) => toApkArch(a)!));
  const local = new Set([USER_PACKAGE, ROUTER_CONFIG_PACKAGE, APK_INDEXER_PACKAGE]);
  // Pins come from the images' own repositories, by the rule `pin` and `check` judge them by (entryScope): an
  // index that stands for none of them (given without --alias) pins nothing, as check then checks nothing.
  const pins = source
    ? await Promise.all(
        images.map(([name, img]) => {
          const file = `apko/${name}.yaml`;
          const repositories = o.repositories.flatMap(
            (r) => parseRepository(r, process.cwd(), 'repositories', file) ?? [],
          );
          const scope = entryScope(source, { image: file, arches: apkArches, repositories }, undefined);
          return pinFirstPackage(file, img.value, scope, source, local);
        }),
      )
    : [];

  const recipes: [string, CommentedValue<MelangeRecipe>][] = [
    [APK_INDEXER_PACKAGE, apkIndexerPackage({ ...env, source: o.apkIndexerSource })],
    [
      USER_PACKAGE,
      userPackage({
        ...env,
        packageName: USER_PACKAGE,
        version: '1.0.0',
        license: o.license,
        user: o.user,
        uid: 1000,
        gecos: 'Administrator',
        shell: '/bin/sh',
        passwordHash: o.passwordHash,
      }),
    ],
    [
      ROUTER_CONFIG_PACKAGE,
      configPackage({
        ...env,
        packageName: ROUTER_CONFIG_PACKAGE,
        version: '1.0.0',
        license: o.license,
        description: "the router's network, DHCP/DNS and forwarding configuration",
        replaces: ['dnsmasq'],
      }),
    ],
  ];

  const files: ScaffoldFile[] = [
    ...images.map(([name, img]) => ({ path: `apko/${name}.yaml`, content: renderYaml(img) })),
    ...recipes.map(([name, recipe]) => ({ path: `melange/${name}.yaml`, content: renderYaml(recipe) })),
    ...Object.entries(ROUTER_VENDOR_FILES).map(([path, content]) => ({
      path: `melange/${ROUTER_CONFIG_PACKAGE}/vendor/${path}`,
      content,
    })),
    {
      path: 'renovate.json',
      // Every image includes the base, so each file is built for the base's arches, from any repository.
      content: renderRenovateJson(
        renovateConfig({
          server: o.server,
          files: new Map(images.map(([name]) => [`apko/${name}.yaml`, { arches: apkArches, repositories: [] }])),
          renovateMajor: o.renovateMajor,
        }),
      ),
    },
    {
      path: '.gitlab-ci.yml',
      content: renderYaml(
        withLockJobs(
          gitlabCi({
            serviceImage: o.serviceImage,
            renovateMajor: o.renovateMajor,
            server: o.server,
            repositories: o.repositories,
            keys: o.keyring,
            arches: apkArches,
            localPackages: {
              repository: './packages',
              key: 'melange.rsa.pub',
              build: ['apk add --no-cache just', `just ${JUST.packages}`],
            },
          }),
          {
            image: o.serviceImage ?? BUILT_SERVICE_IMAGE,
            renovateImage: CI_IMAGES.renovate(o.renovateMajor),
            needs: o.serviceImage === undefined ? ['apk-indexer-image'] : [],
          },
        ),
      ),
    },
    {
      path: 'Justfile',
      content: justfile({
        packages: [
          { name: APK_INDEXER_PACKAGE },
          { name: USER_PACKAGE },
          { name: ROUTER_CONFIG_PACKAGE, sourceDir: `melange/${ROUTER_CONFIG_PACKAGE}` },
        ],
        images: images.map(([name]) => name),
        defaultDisk: flavourFileName('host'),
        arches: apkArches,
        server: 'http://localhost:3000',
      }),
    },
    {
      path: '.gitignore',
      content:
        '# Built here, never committed: the signing key, packages, image tarballs and disk images.\nmelange.rsa\npackages/\n*.tar\n*.img\n',
    },
  ];
  return { files, pins };
}

async function pinFirstPackage(
  file: string,
  value: ApkoImage,
  scope: EntryScope,
  source: VersionSource,
  local: ReadonlySet<string>,
): Promise<ScaffoldPin> {
  const packages = value.contents?.packages;
  const spec = packages?.[0] === undefined ? undefined : parsePackageSpec(packages[0]);
  if (!packages || !spec) return { file, name: '-', version: undefined, message: 'no package to pin' };
  if (local.has(spec.name))
    return {
      file,
      name: spec.name,
      version: undefined,
      message: `left unpinned: built here (melange/${spec.name}.yaml)`,
    };
  const notJudgedWhy = notJudged(scope);
  if (notJudgedWhy)
    return {
      file,
      name: spec.name,
      version: undefined,
      message: `left unpinned: ${notJudgedWhy.replace(/^not checked: /, '')}`,
    };
  const versions = await source.versions(spec.name, scope.arches, scope.held);
  const version = versions === undefined ? undefined : choosePin(versions);
  if (version === undefined) {
    const why = versions === undefined ? 'not in the indexes' : `no version on all of ${scope.arches.join(', ')}`;
    return { file, name: spec.name, version, message: `left unpinned: ${why}` };
  }
  packages[0] = formatPin(spec.name, version);
  return { file, name: spec.name, version, message: `pinned to ${version}` };
}
