import { readFile } from 'node:fs/promises';

/** What a regex custom manager in renovate.json would extract from a file. */
interface RegexManager {
  files: RegExp[];
  /** File patterns that could not be read: whether they match a file is not known. */
  unreadable: string[];
  matchStrings: RegExp[];
  depNameTemplate: string | undefined;
  hasDatasource: boolean;
}

/** One dependency a manager would extract: its name, its value, and where that value is in the file. */
export interface TrackedPin {
  depName: string;
  currentValue: string;
  start: number;
  end: number;
}

/**
 * The regex custom managers of a renovate.json, reduced to what decides whether a pin is tracked: which files
 * they read (`managerFilePatterns` as `/regex/` or glob, or the older `fileMatch`) and what their matchStrings
 * extract. Other manager kinds do not read apko files.
 */
export class RenovateManagers {
  private constructor(
    readonly source: string,
    private readonly managers: RegexManager[],
  ) {}

  /** `shown` names the file in messages. */
  static async load(path: string, shown = path): Promise<RenovateManagers> {
    let config: unknown;
    try {
      config = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new Error(`${shown}: ${(err as Error).message}`);
    }
    return RenovateManagers.from(config, shown);
  }

  static from(config: unknown, source: string): RenovateManagers {
    const list = (config as { customManagers?: unknown } | null)?.customManagers ?? [];
    if (!Array.isArray(list)) throw new Error(`${source}: customManagers is not a list`);
    const managers = list
      .filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null && (m as { customType?: unknown }).customType === 'regex')
      .map((m, i) => regexManager(m, `${source}: customManagers[${i}]`));
    return new RenovateManagers(source, managers);
  }

  /** File patterns that could not be read, each as `customManagers[i]: pattern: why`. */
  get unreadablePatterns(): string[] {
    return this.managers.flatMap((m, i) => m.unreadable.map((u) => `customManagers[${i}]: ${u}`));
  }

  /**
   * Whether a manager whose file patterns could not all be read might still read `path`: then a pin the
   * readable patterns do not find may be tracked after all, and is not reported as untracked.
   */
  mightRead(path: string): boolean {
    return this.managers.some((m) => m.hasDatasource && m.unreadable.length > 0 && !m.files.some((f) => f.test(path)));
  }

  /** Every dependency the managers would extract from `text`, a file at `path` relative to the repository root. */
  extract(path: string, text: string): TrackedPin[] {
    const found: TrackedPin[] = [];
    for (const manager of this.managers) {
      if (!manager.hasDatasource || !manager.files.some((f) => f.test(path))) continue;
      for (const pattern of manager.matchStrings) {
        for (const match of text.matchAll(pattern)) {
          const value = match.indices?.groups?.currentValue;
          const depName = match.groups?.depName ?? manager.depNameTemplate;
          if (!value || depName === undefined || match.groups?.currentValue === undefined) continue;
          found.push({ depName, currentValue: match.groups.currentValue, start: value[0], end: value[1] });
        }
      }
    }
    return found;
  }
}

function regexManager(m: Record<string, unknown>, where: string): RegexManager {
  const files: RegExp[] = [];
  const unreadable: string[] = [];
  const read = (pattern: string, compile: (p: string) => RegExp) => {
    try {
      files.push(compile(pattern));
    } catch (err) {
      unreadable.push(err instanceof UnsupportedPatternError ? err.message : `${pattern}: ${(err as Error).message}`);
    }
  };
  for (const p of strings(m.managerFilePatterns, `${where}.managerFilePatterns`)) read(p, filePattern);
  for (const p of strings(m.fileMatch, `${where}.fileMatch`)) read(p, (x) => new RegExp(x));
  const matchStrings = strings(m.matchStrings, `${where}.matchStrings`).map((p) => compileMatchString(p, where));
  const depNameTemplate = typeof m.depNameTemplate === 'string' && !m.depNameTemplate.includes('{{') ? m.depNameTemplate : undefined;
  const hasDatasource = typeof m.datasourceTemplate === 'string' || matchStrings.some((r) => r.source.includes('(?<datasource>'));
  return { files, unreadable, matchStrings, depNameTemplate, hasDatasource };
}

/** Renovate runs matchStrings globally; `d` gives the offsets of each group, to tell which line a match is on. */
function compileMatchString(pattern: string, where: string): RegExp {
  for (const flags of ['gdu', 'gd']) {
    try {
      return new RegExp(pattern, flags);
    } catch {
      // Some patterns are valid only outside unicode mode; Renovate's RegExp fallback (no RE2) accepts those too.
    }
  }
  throw new Error(`${where}: matchString ${pattern} is not a valid regular expression`);
}

/** A file pattern this reader cannot translate as Renovate would; `check` warns instead of guessing. */
export class UnsupportedPatternError extends Error {}

/**
 * `/regex/flags` as a regex; anything else as a glob, as Renovate matches it with minimatch (`dot: true`):
 * braces `{a,b}` (nested) and `{1..3}`, `**` any depth, `*` and `?` within a path segment, `[...]` classes,
 * `\` escapes. Extglobs (`+(a|b)`), negation (`!x`) and regexes JavaScript cannot compile (RE2 syntax) throw
 * UnsupportedPatternError.
 */
export function filePattern(pattern: string): RegExp {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  if (regex) {
    try {
      return new RegExp(regex[1]!, regex[2]);
    } catch (err) {
      throw new UnsupportedPatternError(`${pattern}: not a JavaScript regular expression (${(err as Error).message})`);
    }
  }
  if (pattern.startsWith('!')) throw new UnsupportedPatternError(`${pattern}: negated globs are not read here`);
  if (/[?*+@!]\(/.test(pattern)) throw new UnsupportedPatternError(`${pattern}: extglobs are not read here`);
  return new RegExp(`^(?:${expandBraces(pattern).map(globToRegex).join('|')})$`);
}

/** Brace expansion as minimatch does it (`a{b,c{d,e}}` is `ab`, `acd`, `ace`; `{1..3}`); `{x}` stays literal. */
export function expandBraces(pattern: string): string[] {
  const open = findBrace(pattern);
  if (open === undefined) return [pattern];
  const { start, end, parts } = open;
  const head = pattern.slice(0, start);
  const tails = expandBraces(pattern.slice(end + 1));
  return parts.flatMap((part) => expandBraces(part).flatMap((p) => tails.map((t) => `${head}${p}${t}`)));
}

/** The first `{...}` that expands: a comma list at its top level, or a numeric or letter range. */
function findBrace(pattern: string): { start: number; end: number; parts: string[] } | undefined {
  for (let start = 0; start < pattern.length; start++) {
    if (pattern[start] === '\\') {
      start++;
      continue;
    }
    if (pattern[start] !== '{') continue;
    let depth = 0;
    const commas: number[] = [];
    for (let i = start; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '\\') i++;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        const inner = pattern.slice(start + 1, i);
        if (commas.length > 0) {
          const cuts = [start, ...commas, i];
          return { start, end: i, parts: cuts.slice(0, -1).map((cut, k) => pattern.slice(cut + 1, cuts[k + 1])) };
        }
        const range = rangeOf(inner);
        if (range) return { start, end: i, parts: range };
        break;
      } else if (c === ',' && depth === 1) commas.push(i);
    }
  }
  return undefined;
}

function rangeOf(inner: string): string[] | undefined {
  const numeric = /^(-?\d+)\.\.(-?\d+)$/.exec(inner);
  const letters = /^([a-zA-Z])\.\.([a-zA-Z])$/.exec(inner);
  if (!numeric && !letters) return undefined;
  const [from, to] = numeric ? [Number(numeric[1]), Number(numeric[2])] : [letters![1]!.charCodeAt(0), letters![2]!.charCodeAt(0)];
  if (Math.abs(to - from) > 1000) return undefined;
  const step = from <= to ? 1 : -1;
  const out: string[] = [];
  for (let n = from; step > 0 ? n <= to : n >= to; n += step) out.push(numeric ? String(n) : String.fromCharCode(n));
  return out;
}

function globToRegex(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      out += escapeRegex(pattern[++i]!);
    } else if (c === '*' && pattern[i + 1] === '*') {
      out += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      if (body.includes('[:')) throw new UnsupportedPatternError(`${pattern}: POSIX character classes are not read here`);
      out += `[${negate ? '^/' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else out += escapeRegex(c);
  }
  return out;
}

function escapeRegex(c: string): string {
  return c.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${where}: expected a list of strings`);
  return value;
}
