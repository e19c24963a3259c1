import type { ApkoArch } from '../apko/arch.js';
import type { ApkoImage } from '../apko/config-model.js';
import type { CommentedValue, YamlNote } from './yaml-doc.js';

/** Wolfi, the default repository when none is given. */
export const WOLFI_REPOSITORY = 'https://packages.wolfi.dev/os';
export const WOLFI_KEY = 'https://packages.wolfi.dev/os/wolfi-signing.rsa.pub';

/** A package entry and, when it is not obvious, why it is there. */
export interface PackageLine {
  entry: string;
  why?: string;
}

export interface BaseImageOptions {
  /** The file's name without `.yaml`, for its header. */
  name: string;
  repositories: readonly string[];
  keyring: readonly string[];
  archs: readonly ApkoArch[];
  packages: readonly PackageLine[];
  user: { name: string; id: number };
}

/** What every image in a scaffolded repository includes: where packages come from, for which archs, as whom. */
export function baseImage(o: BaseImageOptions): CommentedValue<ApkoImage> {
  const value: ApkoImage = {
    contents: { repositories: [...o.repositories], keyring: [...o.keyring], packages: o.packages.map((p) => p.entry) },
    accounts: {
      groups: [{ groupname: o.user.name, gid: o.user.id }],
      users: [{ username: o.user.name, uid: o.user.id, gid: o.user.id, homedir: `/home/${o.user.name}` }],
      'run-as': String(o.user.id),
    },
    archs: [...o.archs],
    layering: { strategy: 'origin', budget: 10 },
  };
  return {
    value,
    header: header(o.name, 'the base every image here includes (repositories, keys, archs, an unprivileged account).'),
    notes: [
      {
        path: ['contents'],
        text: 'Packages come from these repositories and must be signed by one of these keys.\nImages that include this file inherit all three lists; their own packages come after these.',
      },
      ...packageNotes(o.packages),
      {
        path: ['accounts', 'run-as'],
        text: 'By number, so the runtime needs no /etc/passwd lookup. bootc images override it with root.',
      },
      {
        path: ['archs'],
        text: 'Pins are chosen among versions present on every one of these arches (apk-indexer pin, Renovate).',
      },
      {
        path: ['layering'],
        text: 'One layer per origin package, up to 10: an update re-pulls only the layers of the packages it changed.',
      },
    ],
  };
}

export interface ImageOptions {
  name: string;
  /** One line saying what the image is for. */
  purpose: string;
  include?: string;
  repositories?: readonly string[];
  keyring?: readonly string[];
  archs?: readonly ApkoArch[];
  packages: readonly PackageLine[];
  entrypoint?: string;
  cmd?: string;
  runAs?: string;
  workDir?: string;
  environment?: Readonly<Record<string, string>>;
  /** Where the file is written (`gen -o`), for its header; default `apko/NAME.yaml`. */
  file?: string;
}

/** An image from a package list, optionally on top of an included base. */
export function image(o: ImageOptions): CommentedValue<ApkoImage> {
  const value: ApkoImage = {};
  const notes: YamlNote[] = [];
  if (o.include) {
    value.include = o.include;
    notes.push(includeNote());
  }
  value.contents = {};
  if (o.repositories?.length) value.contents.repositories = [...o.repositories];
  if (o.keyring?.length) value.contents.keyring = [...o.keyring];
  value.contents.packages = o.packages.map((p) => p.entry);
  notes.push(...packageNotes(o.packages));
  if (o.entrypoint) value.entrypoint = { command: o.entrypoint };
  if (o.cmd) value.cmd = o.cmd;
  if (o.workDir) value['work-dir'] = o.workDir;
  if (o.runAs) value.accounts = { 'run-as': o.runAs };
  if (o.environment && Object.keys(o.environment).length > 0) value.environment = { ...o.environment };
  if (o.archs?.length) value.archs = [...o.archs];
  return { value, header: header(o.name, o.purpose, o.file), notes };
}

/**
 * A generated apko file's header. `file` is where it is written (`gen -o`), relative to the repository root;
 * by default `apko/NAME.yaml`. The header names the file as it is on disk, and builds the image after it.
 */
export function header(defaultName: string, purpose: string, file?: string): string {
  const path = file ?? `apko/${defaultName}.yaml`;
  const name =
    file === undefined ? defaultName : (path.split('/').pop() ?? path).replace(/\.ya?ml$/, '') || defaultName;
  return [
    `${name}: ${purpose}`,
    `Build from the repository root: apko build ${path} ${name}:latest ${name}.tar`,
    'Pins (`- name=version`) are kept fresh by Renovate through apk-indexer; `apk-indexer pin` does the same by hand,',
    'and `apk-indexer check` lints this file against the indexes.',
  ].join('\n');
}

export function includeNote(): YamlNote {
  return {
    path: ['include'],
    text: 'Resolved by apko against the directory it runs in (the repository root), not against this file.\nPackage, keyring and repository lists are appended to the included ones; other keys set here win.',
  };
}

/** Comments on the package entries that need one. */
export function packageNotes(packages: readonly PackageLine[]): YamlNote[] {
  return packages.flatMap((p, i) => (p.why ? [{ path: ['contents', 'packages', i], text: p.why }] : []));
}
