import { escape } from 'minimatch';
import type { RenovateConfig, RenovatePackageRule, RenovateRegexManager } from '../../schemas/renovate-config.js';
import { sortApkArches } from '../apko/arch.js';
import { escapeRegex } from '../core/escape.js';
import { UsageError } from '../errors.js';

/** One datasource for every apko file: a datasource per include target would stop tracking the files that include it. */
export const DATASOURCE_NAME = 'apk-indexer';

/**
 * A `- name=version` item of a YAML list, plain or quoted. No anchors or lookarounds: Renovate runs matchStrings
 * with RE2 where it can, and each match starts at the newline before its item, so consecutive items all match.
 */
export const PIN_MATCH_STRING = `\\n[ \\t]*-[ \\t]+["']?(?<depName>[A-Za-z0-9][A-Za-z0-9._+-]*)=(?<currentValue>[^\\s"'#]+)`;

/** An escaped line end inside a Dockerfile instruction, and the comment lines after it (not part of the command). */
const DOCKER_CONTINUATION = `\\\\[ \\t]*\\r?\\n(?:[ \\t]*#[^\\n]*\\n)*`;
/** Blanks inside a Dockerfile instruction: spaces, tabs and continuations. */
const DOCKER_BLANK = `(?:[ \\t]|${DOCKER_CONTINUATION})+`;
/** apk options that take the next word as their value (Renovate's Dockerfile manager skips both). */
const APK_VALUE_OPTIONS = `(?:-X|--repository|-t|--virtual|-p|--root|--arch|--cache-dir|--cache-max-age|--keys-dir|--repositories-file|--progress-fd|--timeout|--wait)`;

/**
 * `RUN apk add ... name=version` in Dockerfiles and Containerfiles, with `matchStringsStrategy: recursive`, read as
 * Renovate's own Dockerfile manager reads them (docs/generators.md):
 * 1. each `RUN` instruction, across escaped line ends and the comment lines between them, up to a `#` that starts
 *    a word (the rest of the line is a comment);
 * 2. in it, each `apk [options] add ...` command, up to a shell operator (`;`, `&`, `|`, `(`, `)`);
 * 3. in that, each word: a whole `name=version` word (quoted or not) is a pin; anything else (`name@tag=...`, `>=`,
 *    `~`, `${VAR}`, options and their values, escaped characters) is passed over whole.
 * RE2-compatible: no lookarounds, no backreferences, no inline flags. Not read: a Dockerfile whose escape
 * character is a backtick (`# escape=\``); `check` names such pins.
 */
export const DOCKERFILE_MATCH_STRINGS = [
  `(?:^|\\n)[ \\t]*(?:[Oo][Nn][Bb][Uu][Ii][Ll][Dd][ \\t]+)?[Rr][Uu][Nn][ \\t](?:[^\\n\\\\#]|[^\\s\\\\#]#+|${DOCKER_CONTINUATION}|\\\\[^\\n])*`,
  `(?:^|[\\s;&|(){}/])apk${DOCKER_BLANK}(?:${APK_VALUE_OPTIONS}${DOCKER_BLANK}[^\\s;&|]+${DOCKER_BLANK}|-[^\\s;&|]*${DOCKER_BLANK})*add(?:[ \\t]|${DOCKER_CONTINUATION})(?:[^;&|()\\n\\\\#]|[^\\s;&|()\\\\#]#+|${DOCKER_CONTINUATION}|\\\\[^\\n])*`,
  `(?:\\s|${DOCKER_CONTINUATION})*(?:["']?(?<depName>[A-Za-z0-9][A-Za-z0-9_.+-]*)=(?<currentValue>[^\\s"'$\\\\;&|()/:=<>~@#]+)["']?(?:[\\s;&|()]|${DOCKER_CONTINUATION}|$)|(?:[^\\s\\\\]|\\\\[^\\n])+)`,
];

/**
 * The versioning that orders APK versions best among those measured by bench/renovate-versioning.ts
 * (docs/generators.md): it misorders only `X-r0` against `X_p1`/`X_git…`, where Renovate then offers nothing.
 */
export const RENOVATE_VERSIONING = 'loose';

/**
 * The descriptions of the regex managers this tool writes (apko files, Dockerfiles): how gen renovate tells its
 * own managers from the user's when it updates a config in place.
 */
export const MANAGER_DESCRIPTIONS: readonly string[] = [
  'name=version pins in the package lists of apko image files',
  'RUN apk add name=version pins in Dockerfiles and Containerfiles',
];

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
  /**
   * Every Dockerfile or Containerfile of the tree with `RUN apk add` pins, with the constraint of the images its
   * stages build on; undefined when its stages disagree or their repositories are not known: no rule then, and
   * Renovate asks the datasource's default URL (versions on every arch holding the package).
   */
  dockerfiles?: ReadonlyMap<string, FileConstraint | undefined>;
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
  return `^${escapeRegex(path)}$`;
}

/**
 * renovate.json for this tree: one regex manager reading exactly the tree's apko files, another reading exactly its
 * Dockerfiles with `RUN apk add` pins, and per constraint (files built for the same arches from the same
 * repositories) a packageRule pointing those files at a datasource URL that filters by it. The datasource's default
 * URL carries no filter: the service then answers only versions on every arch holding the package, which is safe
 * for a file added later before the config is regenerated.
 */
export function renovateConfig(options: RenovateOptions): RenovateConfig {
  const dockerfiles = options.dockerfiles ?? new Map<string, FileConstraint | undefined>();
  if (options.files.size === 0 && dockerfiles.size === 0)
    throw new UsageError('renovate.json needs at least one apko file or Dockerfile pin to track');
  const server = trimServer(options.server);
  const current = (options.renovateMajor ?? DEFAULT_RENOVATE_MAJOR) >= CURRENT_FORM_SINCE_MAJOR;
  const datasource = `custom.${DATASOURCE_NAME}`;
  const filePatterns = (paths: readonly string[]) =>
    current
      ? { managerFilePatterns: paths.map((p) => `/${exactPathPattern(p)}/`) }
      : { fileMatch: paths.map(exactPathPattern) };
  const paths = [...options.files.keys()].sort();
  const dockerPaths = [...dockerfiles.keys()].sort();
  const managers: RenovateRegexManager[] = [];
  if (paths.length > 0)
    managers.push({
      customType: 'regex',
      description: MANAGER_DESCRIPTIONS[0]!,
      ...filePatterns(paths),
      matchStrings: [PIN_MATCH_STRING],
      datasourceTemplate: datasource,
      versioningTemplate: RENOVATE_VERSIONING,
    });
  if (dockerPaths.length > 0)
    managers.push({
      customType: 'regex',
      description: MANAGER_DESCRIPTIONS[1]!,
      ...filePatterns(dockerPaths),
      matchStringsStrategy: 'recursive',
      matchStrings: [...DOCKERFILE_MATCH_STRINGS],
      datasourceTemplate: datasource,
      versioningTemplate: RENOVATE_VERSIONING,
    });
  const groups = new Map<string, { url: string; files: string[]; constraint: FileConstraint }>();
  const constrained: [string, FileConstraint][] = [
    ...paths.map((p) => [p, options.files.get(p)!] as [string, FileConstraint]),
    ...dockerPaths.flatMap((p) => {
      const c = dockerfiles.get(p);
      return c ? [[p, c] as [string, FileConstraint]] : [];
    }),
  ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [path, constraint] of constrained) {
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
    customManagers: managers,
    packageRules: rules,
  };
}

export function renderRenovateJson(config: RenovateConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
