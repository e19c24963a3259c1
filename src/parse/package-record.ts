/** What a user of versions needs from one APKINDEX record; dependency lists are dropped on purpose. */
export interface PackageRecord {
  name: string;
  version: string;
  arch?: string;
  /** Build time in seconds since the epoch; absent when the index says nothing or `t:0`. */
  buildTime?: number;
  origin?: string;
  commit?: string;
  url?: string;
  license?: string;
  description?: string;
  maintainer?: string;
  /** Unprefixed `name=version` provides (`cmd:`, `so:`, `pc:` … are not package names). */
  provides?: Array<readonly [name: string, version: string]>;
}
