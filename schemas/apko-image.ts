/**
 * The subset of apko's image configuration that apk-indexer writes. Names and types follow apko's published
 * schema (chainguard-dev/apko pkg/build/types/schema.json, `ImageConfiguration`); apko decodes with known-fields
 * on, so a key outside that schema fails the build. `apko-image.schema.json` is the same subset as JSON Schema.
 */
export interface ApkoImage {
  /** Resolved by apko against its working directory (then `--include-paths`), not against this file. */
  include?: string;
  contents?: ApkoContents;
  entrypoint?: { command: string };
  cmd?: string;
  'stop-signal'?: string;
  'work-dir'?: string;
  accounts?: ApkoAccounts;
  environment?: Record<string, string>;
  paths?: ApkoPathMutation[];
  /** OCI architecture names (amd64, arm64, ...); apko also accepts the APK spellings. */
  archs?: ApkoArch[];
  /** apko copies annotations into the image config's labels too, which is where bootc looks. */
  annotations?: Record<string, string>;
  layering?: { strategy: 'origin'; budget: number };
}

export interface ApkoContents {
  repositories?: string[];
  keyring?: string[];
  /** `name`, `name=version` (a pin), or another apk constraint. */
  packages?: string[];
}

export interface ApkoAccounts {
  'run-as'?: string;
  users?: { username: string; uid: number; gid: number; shell?: string; homedir?: string }[];
  groups?: { groupname: string; gid: number; members?: string[] }[];
}

export interface ApkoPathMutation {
  path: string;
  type: 'directory' | 'empty-file' | 'hardlink' | 'symlink' | 'permissions';
  uid?: number;
  gid?: number;
  permissions?: number;
  source?: string;
  recursive?: boolean;
}

export type ApkoArch = '386' | 'amd64' | 'arm64' | 'arm/v6' | 'arm/v7' | 'loong64' | 'ppc64le' | 'riscv64' | 's390x';
