/**
 * The subset of Renovate's repository configuration that apk-indexer writes (option names and shapes from
 * docs.renovatebot.com/configuration-options and Renovate's renovate-schema.json). Two forms: the current one
 * (`managerFilePatterns`, `maxMajorIncrement`, checked with Renovate 44.121.2), and the older one for releases such
 * as 39.264.1, the newest that runs on Node 20, which know only `fileMatch` and have no major-increment cap. `renovate-config.schema.json` is
 * the same subset as JSON Schema; Renovate's own `renovate-config-validator` accepts both (docs/generators.md).
 */
export interface RenovateConfig {
  $schema: 'https://docs.renovatebot.com/renovate-schema.json';
  customDatasources: Record<string, RenovateCustomDatasource>;
  customManagers: RenovateRegexManager[];
  packageRules: RenovatePackageRule[];
}

export interface RenovateCustomDatasource {
  /** `{{packageName}}` is the dependency name the manager extracted. */
  defaultRegistryUrlTemplate: string;
  format: 'json';
}

export interface RenovateRegexManager {
  customType: 'regex';
  description: string;
  /** Current form: `/regex/` entries, matched against paths relative to the repository root. */
  managerFilePatterns?: string[];
  /** Older form: the same regexes without slashes. */
  fileMatch?: string[];
  /** `recursive`: each match string runs on what the one before matched (Dockerfile `RUN apk add` pins). */
  matchStringsStrategy?: 'recursive';
  /** Named groups `depName` and `currentValue` (in the last one); Renovate runs each with the `g` flag. */
  matchStrings: string[];
  datasourceTemplate: string;
  versioningTemplate: string;
}

export interface RenovatePackageRule {
  description: string;
  matchDatasources: string[];
  /** Globs (minimatch, `dot`) against the file a dependency was found in. */
  matchFileNames?: string[];
  /** Each a template: `{{packageName}}` becomes the dependency's name (Renovate's custom datasource). */
  registryUrls?: string[];
  /** 0 disables the cap (default 500) that would drop `20240101-r0` -> `20250101-r0`; current form only. */
  maxMajorIncrement?: number;
}
