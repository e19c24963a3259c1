import { readFile } from 'node:fs/promises';

/** What a regex custom manager in renovate.json would extract from a file. */
interface RegexManager {
  files: RegExp[];
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
  const files = [
    ...strings(m.managerFilePatterns, `${where}.managerFilePatterns`).map(filePattern),
    ...strings(m.fileMatch, `${where}.fileMatch`).map((p) => new RegExp(p)),
  ];
  const matchStrings = strings(m.matchStrings, `${where}.matchStrings`).map((p) => compileMatchString(p, where));
  const depNameTemplate = typeof m.depNameTemplate === 'string' && !m.depNameTemplate.includes('{{') ? m.depNameTemplate : undefined;
  const hasDatasource = typeof m.datasourceTemplate === 'string' || matchStrings.some((r) => r.source.includes('(?<datasource>'));
  return { files, matchStrings, depNameTemplate, hasDatasource };
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

/** `/regex/flags` as a regex; anything else as a glob (`**` any depth, `*` and `?` within a path segment). */
export function filePattern(pattern: string): RegExp {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  if (regex) return new RegExp(regex[1]!, regex[2]);
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${where}: expected a list of strings`);
  return value as string[];
}
