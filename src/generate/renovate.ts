import type { RenovateConfig, RenovateRegexManager } from '../../schemas/renovate-config.js';
import { sortApkArches } from '../apko/arch.js';

/** One datasource for every apko file: a datasource per include target would stop tracking the files that include it. */
export const DATASOURCE_NAME = 'apk-indexer';

/**
 * A `- name=version` item of a YAML list, plain or quoted. No anchors or lookarounds: Renovate runs matchStrings
 * with RE2 where it can, and each match starts at the newline before its item, so consecutive items all match.
 */
export const PIN_MATCH_STRING = `\\n[ \\t]*-[ \\t]+["']?(?<depName>[A-Za-z0-9][A-Za-z0-9._+-]*)=(?<currentValue>[^\\s"'#]+)`;

/** apko files: anything under an `apko/` folder, and `*.apko.yaml` anywhere. */
export const APKO_FILE_PATTERNS = ['(^|/)apko/[^/]+\\.ya?ml$', '(^|/|\\.)apko\\.ya?ml$'];

/**
 * The versioning that orders APK versions best among those measured by bench/renovate-versioning.ts
 * (docs/generators.md): it misorders only `X-r0` against `X_p1`/`X_git…`, where Renovate then offers nothing.
 */
export const RENOVATE_VERSIONING = 'loose';

/** The Renovate major the config is written and validated for by default (44.121.2). */
export const DEFAULT_RENOVATE_MAJOR = 44;

/**
 * From this major on, the current form is written: `managerFilePatterns` (Renovate 40.2+) and the
 * `maxMajorIncrement` rule (renovatebot/renovate#38854, autumn 2025; not in 39.264.1). Below it, the older form
 * (`fileMatch`, no rule), which every Renovate accepts; newer ones migrate it but then drop date-version jumps.
 */
export const CURRENT_FORM_SINCE_MAJOR = 42;

export interface RenovateOptions {
  /** The apk-indexer Renovate reaches, e.g. `http://apk-indexer:3000` (a GitLab service alias). */
  server: string;
  /** APK arches every tracked image builds for: only versions present on all of them are offered. */
  arches: readonly string[];
  /** The Renovate major the config is for (default 44); below 42 the older form is written. */
  renovateMajor?: number;
}

export function renovateConfig(options: RenovateOptions): RenovateConfig {
  if (options.arches.length === 0) throw new Error('renovate.json needs at least one arch to filter versions by');
  const server = options.server.replace(/\/+$/, '');
  const current = (options.renovateMajor ?? DEFAULT_RENOVATE_MAJOR) >= CURRENT_FORM_SINCE_MAJOR;
  const datasource = `custom.${DATASOURCE_NAME}`;
  const manager: RenovateRegexManager = {
    customType: 'regex',
    description: 'name=version pins in the package lists of apko image files',
    ...(current
      ? { managerFilePatterns: APKO_FILE_PATTERNS.map((p) => `/${p}/`) }
      : { fileMatch: [...APKO_FILE_PATTERNS] }),
    matchStrings: [PIN_MATCH_STRING],
    datasourceTemplate: datasource,
    versioningTemplate: RENOVATE_VERSIONING,
  };
  const config: RenovateConfig = {
    $schema: 'https://docs.renovatebot.com/renovate-schema.json',
    customDatasources: {
      [DATASOURCE_NAME]: {
        defaultRegistryUrlTemplate: `${server}/{{packageName}}?arch=${sortApkArches(options.arches).join(',')}`,
        format: 'json',
      },
    },
    customManagers: [manager],
  };
  if (current) {
    config.packageRules = [
      {
        description: 'Date versions (20241121-r0) jump the major by thousands; Renovate drops jumps over 500 unless lifted',
        matchDatasources: [datasource],
        maxMajorIncrement: 0,
      },
    ];
  }
  return config;
}

export function renderRenovateJson(config: RenovateConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
