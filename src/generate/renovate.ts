import { escape } from 'minimatch';
import type { RenovateConfig, RenovatePackageRule, RenovateRegexManager } from '../../schemas/renovate-config.js';
import { sortApkArches } from '../apko/arch.js';
import { UsageError } from '../errors.js';

/** One datasource for every apko file: a datasource per include target would stop tracking the files that include it. */
export const DATASOURCE_NAME = 'apk-indexer';

/**
 * A `- name=version` item of a YAML list, plain or quoted. No anchors or lookarounds: Renovate runs matchStrings
 * with RE2 where it can, and each match starts at the newline before its item, so consecutive items all match.
 */
export const PIN_MATCH_STRING = `\\n[ \\t]*-[ \\t]+["']?(?<depName>[A-Za-z0-9][A-Za-z0-9._+-]*)=(?<currentValue>[^\\s"'#]+)`;

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

/** What each apko file needs from the datasource: the arches and repositories every image built with it uses. */
export interface FileConstraint {
  /** APK arches of every image whose `include:` chain holds the file. */
  arches: readonly string[];
  /** Names of the service's repositories the file builds from; empty: any (no `?repository=`). */
  repositories: readonly string[];
}

export interface RenovateOptions {
  /** The apk-indexer Renovate reaches, e.g. `http://apk-indexer:3000` (a GitLab service alias). */
  server: string;
  /** Every apko file of the tree (paths relative to the repository root, `/`-separated) with its constraint. */
  files: ReadonlyMap<string, FileConstraint>;
  /** The Renovate major the config is for (default 44); below 42 the older form is written. */
  renovateMajor?: number;
}

/** The datasource URL for one constraint: `{{packageName}}` is templated by Renovate, the filters are literal. */
export function registryUrlFor(server: string, constraint: FileConstraint): string {
  const query = [
    ...(constraint.arches.length > 0 ? [`arch=${sortApkArches(constraint.arches).join(',')}`] : []),
    ...(constraint.repositories.length > 0
      ? [`repository=${[...constraint.repositories].sort().map(encodeURIComponent).join(',')}`]
      : []),
  ];
  return `${trimServer(server)}/{{packageName}}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

function trimServer(server: string): string {
  return server.replace(/\/+$/, '');
}

/** A path as a regex matching only itself, in Renovate's `/regex/` form or (older form) bare. */
function exactPathPattern(path: string): string {
  return `^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`;
}

/**
 * renovate.json for this tree: one regex manager reading exactly the tree's apko files, and per constraint (files
 * built for the same arches from the same repositories) a packageRule pointing those files at a datasource URL
 * that filters by it. The datasource's default URL carries no filter: the service then answers only versions on
 * every arch holding the package, which is safe for a file added later before the config is regenerated.
 */
export function renovateConfig(options: RenovateOptions): RenovateConfig {
  if (options.files.size === 0) throw new UsageError('renovate.json needs at least one apko file to track');
  const server = trimServer(options.server);
  const current = (options.renovateMajor ?? DEFAULT_RENOVATE_MAJOR) >= CURRENT_FORM_SINCE_MAJOR;
  const datasource = `custom.${DATASOURCE_NAME}`;
  const paths = [...options.files.keys()].sort();
  const manager: RenovateRegexManager = {
    customType: 'regex',
    description: 'name=version pins in the package lists of apko image files',
    ...(current
      ? { managerFilePatterns: paths.map((p) => `/${exactPathPattern(p)}/`) }
      : { fileMatch: paths.map(exactPathPattern) }),
    matchStrings: [PIN_MATCH_STRING],
    datasourceTemplate: datasource,
    versioningTemplate: RENOVATE_VERSIONING,
  };
  const groups = new Map<string, { url: string; files: string[]; constraint: FileConstraint }>();
  for (const path of paths) {
    const constraint = options.files.get(path)!;
    const url = registryUrlFor(server, constraint);
    const group = groups.get(url);
    if (group) group.files.push(path);
    else groups.set(url, { url, files: [path], constraint });
  }
  const rules: RenovatePackageRule[] = [];
  if (current) {
    rules.push({
      description:
        'Date versions (20241121-r0) jump the major by thousands; Renovate drops jumps over 500 unless lifted',
      matchDatasources: [datasource],
      maxMajorIncrement: 0,
    });
  }
  for (const group of [...groups.values()].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))) {
    const { arches, repositories } = group.constraint;
    rules.push({
      description: `Files built for ${arches.length > 0 ? sortApkArches(arches).join(', ') : 'no known arch'}${repositories.length > 0 ? ` from ${[...repositories].sort().join(', ')}` : ''}: versions present there`,
      matchDatasources: [datasource],
      matchFileNames: group.files.map((f) => escape(f)),
      registryUrls: [group.url],
    });
  }
  return {
    $schema: 'https://docs.renovatebot.com/renovate-schema.json',
    customDatasources: {
      [DATASOURCE_NAME]: { defaultRegistryUrlTemplate: `${server}/{{packageName}}`, format: 'json' },
    },
    customManagers: [manager],
    packageRules: rules,
  };
}

export function renderRenovateJson(config: RenovateConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
