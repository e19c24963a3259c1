import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import Handlebars from 'handlebars';
import JSON5 from 'json5';
import { Minimatch } from 'minimatch';
import { describeFileProblem, RenovateConfigError } from '../errors.js';

/**
 * A model of what Renovate 44 does with a repository's regex custom managers, read from its source
 * (lib/config/app-strings.ts, lib/workers/repository/extract/file-match.ts, lib/util/string-match.ts,
 * lib/modules/manager/custom/regex/, lib/modules/datasource/custom/utils.ts, lib/modules/datasource/common.ts):
 * which config file it reads, which files each manager reads, what it extracts from them, and which URL it then
 * asks. Other manager kinds do not read apko files.
 */

/** Handlebars with the helpers Renovate registers (lib/util/template/index.ts) that a URL or name template uses. */
const handlebars = Handlebars.create();
const helpers: Record<string, Handlebars.HelperDelegate> = {
  encodeURIComponent,
  decodeURIComponent,
  lowercase: (s?: string) => s?.toLowerCase(),
  uppercase: (s?: string) => s?.toUpperCase(),
  replace: (find: string, replace: string, context?: string) => (context ?? '').replace(new RegExp(find, 'g'), replace),
  containsString: (s: string | undefined, sub: string) => s?.includes(sub),
  equals: (a: unknown, b: unknown) => a === b,
  split: (s: unknown, sep: unknown) => (typeof s === 'string' && typeof sep === 'string' ? s.split(sep) : []),
  toJSON: (x: unknown) => JSON.stringify(x),
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
  or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
};
for (const [name, fn] of Object.entries(helpers)) handlebars.registerHelper(name, fn);

/** Where Renovate looks for its config, first found wins (`getConfigFileNames()`; platform `local` keeps all). */
export const CONFIG_FILE_NAMES = [
  ...['renovate.json', '.github/renovate.json', '.gitlab/renovate.json'].flatMap((f) => [f, `${f}c`, `${f}5`]),
  '.renovaterc',
  ...['.renovaterc.json'].flatMap((f) => [f, `${f}c`, `${f}5`]),
  'package.json',
];

/** Renovate's default `ignorePaths`, and what `config:recommended` (`:ignoreModulesAndTests`) sets instead. */
const DEFAULT_IGNORE_PATHS = ['**/node_modules/**', '**/bower_components/**'];
const IGNORE_MODULES_AND_TESTS = [
  ...DEFAULT_IGNORE_PATHS,
  '**/vendor/**',
  '**/examples/**',
  '**/__tests__/**',
  '**/test/**',
  '**/tests/**',
  '**/__fixtures__/**',
];
const PRESETS_WITH_IGNORE_PATHS = new Set([
  'config:recommended',
  'config:base',
  'config:best-practices',
  ':ignoreModulesAndTests',
]);

/** The fields a regex manager fills from a template or a named group, in Renovate's order (`validMatchFields`). */
const MATCH_FIELDS = [
  'depName',
  'packageName',
  'currentValue',
  'currentDigest',
  'datasource',
  'versioning',
  'extractVersion',
  'registryUrl',
  'depType',
  'indentation',
] as const;
type MatchField = (typeof MATCH_FIELDS)[number];

/** One dependency Renovate would extract: its fields, and where its current value is in the file. */
export interface ExtractedDep {
  manager: number;
  depName?: string;
  packageName?: string;
  currentValue?: string;
  datasource?: string;
  versioning?: string;
  extractVersion?: string;
  registryUrls?: string[];
  /** Offsets of the current value in the file; undefined when the value came from a template. */
  start?: number;
  end?: number;
}

/** What Renovate does with a dependency: asks a URL, or why it does not get an answer. */
export type Lookup =
  | {
      asked: true;
      url: string;
      extractVersion: string | undefined;
      maxMajorIncrement: number;
      versioning: string | undefined;
    }
  | { asked: false; reason: string }
  /** Renovate's own `apk` datasource, with the registry URLs it reads (`/-/apk/...`); none: it skips the pin. */
  | { asked: 'native'; urls: string[] };

interface RegexManager {
  /** Its place in customManagers, for messages. */
  index: number;
  files: Array<(path: string) => boolean>;
  strategy: 'any' | 'combination' | 'recursive';
  matchStrings: RegExp[];
  templates: Partial<Record<MatchField, HandlebarsTemplateDelegate>>;
}

interface PackageRule {
  index: number;
  /** Why the rule cannot be judged here; it is then taken not to apply (and reported once). */
  unmodelled: string | undefined;
  matchFileNames?: string[];
  matchDatasources?: string[];
  matchPackageNames?: string[];
  matchDepNames?: string[];
  matchManagers?: string[];
  enabled?: boolean;
  registryUrls?: string[];
  extractVersion?: string;
  maxMajorIncrement?: number;
}

/** `shown` names the config file in messages. */
export class RenovateManagers {
  /** Things this model cannot read the way Renovate would; each one line. */
  readonly warnings: string[] = [];

  private constructor(
    readonly source: string,
    private readonly config: Record<string, unknown>,
    private readonly managers: RegexManager[],
    private readonly rules: PackageRule[],
    private readonly ignorePaths: string[],
    private readonly includePaths: string[],
  ) {}

  /** Reads one config file as Renovate parses it: JSON5 for `.json5`, else JSON with comments and trailing commas. */
  static async load(path: string, shown = path): Promise<RenovateManagers> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new RenovateConfigError(`${shown}: cannot read: ${describeFileProblem(err)}`);
    }
    let config = parseConfigText(text, shown);
    if (posix.basename(shown) === 'package.json') config = (config as { renovate?: unknown } | null)?.renovate;
    return RenovateManagers.from(config, shown);
  }

  static from(config: unknown, source: string): RenovateManagers {
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      throw new RenovateConfigError(`${source}: not a Renovate config (expected an object)`);
    const c = config as Record<string, unknown>;
    const warnings: string[] = [];
    const list = c.customManagers ?? [];
    if (!Array.isArray(list)) throw new RenovateConfigError(`${source}: customManagers is not a list`);
    const managers = list.flatMap((m, i) => {
      if (typeof m !== 'object' || m === null || (m as { customType?: unknown }).customType !== 'regex') return [];
      return [regexManager(m as Record<string, unknown>, i, `${source}: customManagers[${i}]`, warnings)];
    });
    const rules = (Array.isArray(c.packageRules) ? c.packageRules : []).map((r, i) => packageRule(r, i));
    const extendsList = strings(c.extends, `${source}: extends`);
    let ignorePaths = DEFAULT_IGNORE_PATHS;
    for (const preset of extendsList) {
      if (PRESETS_WITH_IGNORE_PATHS.has(preset)) ignorePaths = IGNORE_MODULES_AND_TESTS;
      else warnings.push(`extends ${preset}: presets are not read here; what it sets is not modelled`);
    }
    if (c.ignorePaths !== undefined) ignorePaths = strings(c.ignorePaths, `${source}: ignorePaths`);
    const model = new RenovateManagers(
      source,
      c,
      managers,
      rules,
      ignorePaths,
      strings(c.includePaths, `${source}: includePaths`),
    );
    model.warnings.push(...warnings);
    for (const rule of rules)
      if (rule.unmodelled) model.warnings.push(`packageRules[${rule.index}]: ${rule.unmodelled}; taken not to apply`);
    return model;
  }

  /** Whether some file pattern could not be read here: a file no readable pattern matches may still be read. */
  get uncertain(): boolean {
    return this.warnings.some((w) => w.includes(': file pattern '));
  }

  /** Why Renovate reads no file of this repository with a regex manager, if it does not. */
  get disabled(): string | undefined {
    if (this.config.enabled === false) return `${this.source} sets enabled: false`;
    const enabled = this.config.enabledManagers;
    if (Array.isArray(enabled) && enabled.length > 0 && !enabled.some((m) => m === 'custom.regex' || m === 'regex'))
      return `${this.source}: enabledManagers does not list custom.regex`;
    if (this.managers.length === 0) return `${this.source} has no regex custom manager`;
    return undefined;
  }

  /** Whether Renovate's file list for the managers holds `path` (includePaths, ignorePaths: file-match.ts). */
  private listed(path: string): boolean {
    if (this.includePaths.length > 0 && !this.includePaths.some((p) => path === p || glob(p, false)(path)))
      return false;
    return !this.ignorePaths.some((p) => path.includes(p) || glob(p, false)(path));
  }

  /** Every dependency the regex managers extract from `text`, a file at `path` relative to the repository root. */
  extract(path: string, text: string): ExtractedDep[] {
    if (this.disabled || !this.listed(path)) return [];
    return this.readers(path).flatMap((i) => extractWith(this.managers[i]!, path, text).filter(isValidDependency));
  }

  /** The managers whose file patterns match `path`. */
  private readers(path: string): number[] {
    return this.managers.flatMap((m, i) => (m.files.some((matches) => matches(path)) ? [i] : []));
  }

  /** Why Renovate extracts no dependency for the item at `range` of the file (a pin it will not keep fresh). */
  explainMiss(path: string, text: string, range: readonly [number, number]): string {
    const off = this.disabled;
    if (off) return off;
    if (!this.listed(path)) return `${this.source}'s ignorePaths (or includePaths) leave ${path} out`;
    const readers = this.readers(path);
    if (readers.length === 0)
      return `no regex manager in ${this.source} reads ${path} (a file added or moved since the config was written? rerun apk-indexer gen renovate)`;
    for (const manager of readers.map((r) => this.managers[r]!)) {
      const i = manager.index;
      const here = extractWith(manager, path, text).filter(
        (d) => d.start !== undefined && d.start >= range[0] && d.end! <= range[1],
      );
      for (const d of here) {
        if (!d.datasource?.trim())
          return `customManagers[${i}] finds it but gives it no datasource (no datasourceTemplate, no datasource group), so Renovate discards it`;
        if (!(d.depName ?? d.packageName)?.trim())
          return `customManagers[${i}] finds it but gives it no depName or packageName, so Renovate discards it`;
      }
      if (manager.strategy === 'combination')
        return `customManagers[${i}] uses matchStringsStrategy combination: one dependency per file, from the last match; this pin is not it`;
    }
    return `the matchStrings of customManagers[${readers.map((r) => this.managers[r]!.index).join('], [')}] (which read ${path}) do not match this item`;
  }

  /**
   * The registry URLs Renovate's own Dockerfile manager looks a `RUN apk add` pin up in, with its `apk` datasource
   * (packageRules' `registryUrls`; none: it skips the pin as `unknown-registry`); undefined when that manager does
   * not read the file at all (disabled, `enabledManagers`, `ignorePaths`, a disabling rule).
   */
  nativeApkUrls(path: string, name: string): string[] | undefined {
    if (this.config.enabled === false || !this.listed(path)) return undefined;
    const enabled = this.config.enabledManagers;
    if (Array.isArray(enabled) && enabled.length > 0 && !enabled.includes('dockerfile')) return undefined;
    if (Array.isArray(this.config.ignoreDeps) && this.config.ignoreDeps.includes(name)) return undefined;
    const dep: ExtractedDep = { manager: -1, depName: name, datasource: 'apk' };
    let urls: string[] = [];
    for (const rule of this.rules) {
      if (rule.unmodelled || !ruleMatches(rule, dep, name, path, ['dockerfile'])) continue;
      if (rule.enabled === false) return undefined;
      if (rule.registryUrls) urls = rule.registryUrls;
    }
    return urls;
  }

  /** The URL Renovate asks for a dependency extracted from `path`, or why it gets no answer from a custom datasource. */
  lookup(dep: ExtractedDep, path: string): Lookup {
    const packageName = dep.packageName ?? dep.depName!;
    if (Array.isArray(this.config.ignoreDeps) && this.config.ignoreDeps.includes(dep.depName))
      return { asked: false, reason: `ignoreDeps in ${this.source} lists ${dep.depName}` };
    let registryUrls = dep.registryUrls;
    let extractVersion = dep.extractVersion;
    let maxMajorIncrement = typeof this.config.maxMajorIncrement === 'number' ? this.config.maxMajorIncrement : 500;
    for (const rule of this.rules) {
      if (rule.unmodelled || !ruleMatches(rule, dep, packageName, path)) continue;
      if (rule.enabled === false) return { asked: false, reason: `packageRules[${rule.index}] disables it` };
      if (rule.registryUrls) registryUrls = rule.registryUrls;
      if (rule.extractVersion !== undefined) extractVersion = rule.extractVersion;
      if (rule.maxMajorIncrement !== undefined) maxMajorIncrement = rule.maxMajorIncrement;
    }
    const datasource = dep.datasource!;
    if (datasource === 'apk') return { asked: 'native', urls: registryUrls ?? [] };
    if (!datasource.startsWith('custom.'))
      return { asked: false, reason: `datasource ${datasource} is not a custom datasource; apk-indexer is not asked` };
    const name = datasource.slice('custom.'.length);
    const custom = (
      this.config.customDatasources as Record<string, { defaultRegistryUrlTemplate?: unknown }> | undefined
    )?.[name];
    if (!custom || typeof custom !== 'object')
      return {
        asked: false,
        reason: `datasource ${datasource}: ${this.source} defines no customDatasources.${name}, so the lookup fails`,
      };
    const template =
      registryUrls?.filter(Boolean).map((u) => u.replace(/\/+$/, ''))[0] ??
      (typeof custom.defaultRegistryUrlTemplate === 'string' ? custom.defaultRegistryUrlTemplate : undefined);
    if (template === undefined)
      return {
        asked: false,
        reason: `datasource ${datasource} has no registry URL (no defaultRegistryUrlTemplate, no registryUrls)`,
      };
    let url: string;
    try {
      url = handlebars.compile(template, { noEscape: true })({ packageName, currentValue: dep.currentValue });
    } catch (err) {
      return {
        asked: false,
        reason: `registry URL template ${template} does not compile (${(err as Error).message.split('\n')[0]})`,
      };
    }
    return { asked: true, url, extractVersion, maxMajorIncrement, versioning: dep.versioning };
  }
}

/** Renovate's parseFileConfig: JSON5 for `.json5`; otherwise JSON once comments and trailing commas are gone. */
export function parseConfigText(text: string, shown: string): unknown {
  if (shown.endsWith('.json5')) {
    try {
      return JSON5.parse(text);
    } catch (err) {
      throw new RenovateConfigError(`${shown}: invalid JSON5 (${(err as Error).message})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    // Renovate strips comments and trailing commas first; JSON5 reads those (and is laxer in little else).
    try {
      return JSON5.parse(text);
    } catch (err) {
      throw new RenovateConfigError(`${shown}: invalid JSON (${(err as Error).message})`);
    }
  }
}

function regexManager(m: Record<string, unknown>, index: number, where: string, warnings: string[]): RegexManager {
  // Renovate 44 migrates fileMatch to managerFilePatterns as `/regex/`.
  const patterns = [
    ...strings(m.managerFilePatterns, `${where}.managerFilePatterns`),
    ...strings(m.fileMatch, `${where}.fileMatch`).map((p) => `/${p}/`),
  ];
  const files = patterns.flatMap((p) => {
    try {
      return [regexOrGlob(p)];
    } catch (err) {
      warnings.push(`${where}: file pattern ${p}: ${(err as Error).message}; Renovate may read it with RE2`);
      return [];
    }
  });
  const matchStrings = strings(m.matchStrings, `${where}.matchStrings`).map((p) => compileMatchString(p, where));
  const templates: RegexManager['templates'] = {};
  for (const field of MATCH_FIELDS) {
    const t = m[`${field}Template`];
    if (typeof t === 'string' && t !== '') templates[field] = handlebars.compile(t, { noEscape: true });
  }
  const strategy =
    m.matchStringsStrategy === 'combination' || m.matchStringsStrategy === 'recursive' ? m.matchStringsStrategy : 'any';
  return { index, files, strategy, matchStrings, templates };
}

/** `matchRegexOrGlob`: `*` is everything, `/re/` or `/re/i` a regex (`!` negates), else minimatch with dot and nocase. */
export function regexOrGlob(pattern: string): (input: string) => boolean {
  if (pattern === '*') return () => true;
  const regex = /^(!?)\/(.*)\/(i?)$/.exec(pattern);
  if (regex) {
    const re = new RegExp(regex[2]!, regex[3]);
    return regex[1] ? (x) => !re.test(x) : (x) => re.test(x);
  }
  return glob(pattern, true);
}

function glob(pattern: string, nocase: boolean): (input: string) => boolean {
  const mm = new Minimatch(pattern, { dot: true, nocase });
  return (x) => mm.match(x);
}

/** `matchRegexOrGlobList`: some positive pattern matches (if any), and every negated one does. */
function matchesList(input: string | undefined, patterns: readonly string[]): boolean {
  if (input === undefined || patterns.length === 0) return false;
  const positive = patterns.filter((p) => !p.startsWith('!'));
  const negative = patterns.filter((p) => p.startsWith('!'));
  if (positive.length > 0 && !positive.some((p) => regexOrGlob(p)(input))) return false;
  return negative.every((p) => regexOrGlob(p)(input));
}

const MODELLED_MATCHERS = new Set([
  'matchFileNames',
  'matchDatasources',
  'matchPackageNames',
  'matchDepNames',
  'matchManagers',
]);

function packageRule(raw: unknown, index: number): PackageRule {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const other = Object.keys(r).filter(
    (k) => (k.startsWith('match') || k.startsWith('exclude')) && !MODELLED_MATCHERS.has(k),
  );
  const list = (k: string) => (Array.isArray(r[k]) && r[k].every((v) => typeof v === 'string') ? r[k] : undefined);
  const rule: PackageRule = { index, unmodelled: other.length > 0 ? `${other.join(', ')} not modelled` : undefined };
  for (const k of MODELLED_MATCHERS) {
    const v = list(k);
    if (v) (rule as unknown as Record<string, unknown>)[k] = v;
  }
  if (typeof r.enabled === 'boolean') rule.enabled = r.enabled;
  const urls = list('registryUrls');
  if (urls) rule.registryUrls = urls;
  if (typeof r.extractVersion === 'string') rule.extractVersion = r.extractVersion;
  if (typeof r.maxMajorIncrement === 'number') rule.maxMajorIncrement = r.maxMajorIncrement;
  return rule;
}

function ruleMatches(
  rule: PackageRule,
  dep: ExtractedDep,
  packageName: string,
  path: string,
  manager: readonly string[] = ['custom.regex', 'regex'],
): boolean {
  if (rule.matchFileNames && !matchesList(path, rule.matchFileNames)) return false;
  if (rule.matchDatasources && !matchesList(dep.datasource, rule.matchDatasources)) return false;
  if (rule.matchPackageNames && !matchesList(packageName, rule.matchPackageNames)) return false;
  if (rule.matchDepNames && !matchesList(dep.depName, rule.matchDepNames)) return false;
  if (rule.matchManagers && !rule.matchManagers.some((m) => manager.includes(m))) return false;
  return true;
}

/** A match with the offset of its text in the whole file (recursive matches run on a previous match's text). */
interface Found {
  groups: Record<string, string | undefined>;
  /** Offsets in the file of each group. */
  offsets: Record<string, [number, number] | undefined>;
}

function matchAll(re: RegExp, text: string, base: number): Array<Found & { text: string; at: number }> {
  const out: Array<Found & { text: string; at: number }> = [];
  re.lastIndex = 0;
  for (let i = 0; i < 10_000; i++) {
    const m = re.exec(text);
    if (!m) break;
    const offsets: Found['offsets'] = {};
    for (const [k, v] of Object.entries(m.indices?.groups ?? {}))
      offsets[k] = v ? [v[0] + base, v[1] + base] : undefined;
    out.push({ groups: { ...(m.groups ?? {}) }, offsets, text: m[0], at: m.index + base });
    if (m[0] === '') re.lastIndex++;
  }
  return out;
}

function extractWith(manager: RegexManager, path: string, text: string): ExtractedDep[] {
  const index = manager.index;
  const info = { packageFile: posix.basename(path), packageFileDir: posix.dirname(path) };
  if (manager.strategy === 'any')
    return manager.matchStrings
      .flatMap((re) => matchAll(re, text, 0))
      .flatMap((m) => dependency(manager, index, m, info));
  if (manager.strategy === 'combination') {
    const matches = manager.matchStrings.flatMap((re) => matchAll(re, text, 0));
    if (matches.length === 0) return [];
    // One dependency per file: later matches' groups override earlier ones.
    const merged: Found = { groups: {}, offsets: {} };
    for (const m of matches)
      for (const [k, v] of Object.entries(m.groups))
        if (v !== undefined) {
          merged.groups[k] = v;
          merged.offsets[k] = m.offsets[k];
        }
    return dependency(manager, index, merged, info);
  }
  const deps: ExtractedDep[] = [];
  const recurse = (content: string, base: number, level: number, acc: Found) => {
    if (level === manager.matchStrings.length) {
      deps.push(...dependency(manager, index, acc, info));
      return;
    }
    for (const m of matchAll(manager.matchStrings[level]!, content, base)) {
      const next: Found = { groups: { ...acc.groups }, offsets: { ...acc.offsets } };
      for (const [k, v] of Object.entries(m.groups)) {
        next.groups[k] = v;
        next.offsets[k] = m.offsets[k];
      }
      recurse(m.text, m.at, level + 1, next);
    }
  };
  recurse(text, 0, 0, { groups: {}, offsets: {} });
  return deps;
}

/** createDependency: each field from its template (with the groups) or from its group. A failing template drops it. */
function dependency(
  manager: RegexManager,
  index: number,
  found: Found,
  info: { packageFile: string; packageFileDir: string },
): ExtractedDep[] {
  const dep: ExtractedDep = { manager: index };
  for (const field of MATCH_FIELDS) {
    const template = manager.templates[field];
    let value: string | undefined;
    if (template) {
      try {
        value = template({ ...found.groups, ...info });
      } catch {
        return [];
      }
    } else if (found.groups[field]) {
      value = found.groups[field];
      if (field === 'currentValue' && found.offsets.currentValue) [dep.start, dep.end] = found.offsets.currentValue;
    }
    if (value === undefined) continue;
    if (field === 'registryUrl') {
      try {
        dep.registryUrls = [new URL(value).toString()];
      } catch {
        // Renovate warns "Invalid regex manager registryUrl" and keeps the dependency without one.
      }
    } else if (
      field === 'depName' ||
      field === 'packageName' ||
      field === 'currentValue' ||
      field === 'datasource' ||
      field === 'versioning' ||
      field === 'extractVersion'
    ) {
      dep[field] = value;
    }
  }
  return [dep];
}

function isValidDependency(d: ExtractedDep): boolean {
  const filled = (v: string | undefined) => v !== undefined && v.trim() !== '';
  return (filled(d.depName) || filled(d.packageName)) && filled(d.currentValue) && filled(d.datasource);
}

/** Renovate runs matchStrings with `g` (RE2 where it can); `d` gives the offsets of each group here. */
function compileMatchString(pattern: string, where: string): RegExp {
  for (const flags of ['gdu', 'gd']) {
    try {
      return new RegExp(pattern, flags);
    } catch {
      // Some patterns are valid only outside unicode mode; Renovate's RegExp fallback (no RE2) accepts those too.
    }
  }
  throw new RenovateConfigError(`${where}: matchString ${pattern} is not a valid regular expression`);
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new RenovateConfigError(`${where}: expected a list of strings`);
  return value;
}

/**
 * Applies `extractVersion` to an answer's versions as Renovate does (`applyExtractVersion`): a version its regex
 * gives no `version` group for is dropped.
 */
export function applyExtractVersion(versions: readonly string[], extractVersion: string | undefined): string[] {
  if (!extractVersion) return [...versions];
  const re = new RegExp(extractVersion);
  return versions.flatMap((v) => {
    const got = re.exec(v)?.groups?.version;
    return got ? [got] : [];
  });
}

/**
 * Every Renovate config file of the repository at `root`, in the order Renovate looks for them (CONFIG_FILE_NAMES;
 * package.json only when it has a `renovate` key), as paths relative to `root`. Renovate reads the first and
 * ignores the others.
 */
export async function findRenovateConfigs(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of CONFIG_FILE_NAMES) {
    let text: string;
    try {
      text = await readFile(join(root, name), 'utf8');
    } catch {
      continue;
    }
    if (name !== 'package.json') {
      found.push(name);
      continue;
    }
    try {
      if ((JSON.parse(text) as { renovate?: unknown } | null)?.renovate) found.push(name);
    } catch {
      // Renovate skips a package.json it cannot parse.
    }
  }
  return found;
}

/** The config file Renovate would read in the repository at `root`, relative to it; undefined when none exists. */
export async function findRenovateConfig(root: string): Promise<string | undefined> {
  return (await findRenovateConfigs(root))[0];
}

/**
 * Files that look like a Renovate config but have a name Renovate never reads (`renovate.yaml`, `.renovate.json`,
 * `.github/renovate.yml`), at the root and in `.github/` and `.gitlab/`.
 */
export async function strayRenovateFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ['', '.github/', '.gitlab/']) {
    let names: string[];
    try {
      names = (await readdir(join(root, dir), { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    } catch {
      continue;
    }
    for (const name of names.sort())
      if (/^\.?renovate(?:rc)?(?:\.[\w-]+)*$/i.test(name) && !CONFIG_FILE_NAMES.includes(`${dir}${name}`))
        out.push(`${dir}${name}`);
  }
  return out;
}
