import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import JSON5 from 'json5';
import type { RenovateConfig } from '../../schemas/renovate-config.js';
import { describeFileProblem, RenovateConfigError } from '../errors.js';
import {
  indentUnit,
  layoutOf,
  parseJsonText,
  rewriteContainer,
  JsonTextError,
  type Item,
  type JsonArray,
  type JsonNode,
  type JsonObject,
} from './json-text.js';
import { DATASOURCE_NAME, MANAGER_DESCRIPTIONS, renderRenovateJson } from './renovate.js';
import { CONFIG_FILE_NAMES, findRenovateConfigs, parseConfigText } from './renovate-match.js';

/**
 * What this tool owns in a Renovate config, and nothing else: its custom datasource (`customDatasources.apk-indexer`),
 * the regex managers it writes (its datasource, one of its descriptions), and the package rules it writes for its
 * datasource (only `matchDatasources: ["custom.apk-indexer"]`, `matchFileNames`, `registryUrls`,
 * `maxMajorIncrement` and a `description`). A rule of the user's for the same datasource (`automerge`, a schedule)
 * is the user's.
 */
const DATASOURCE = `custom.${DATASOURCE_NAME}`;
const RULE_KEYS = new Set(['description', 'matchDatasources', 'matchFileNames', 'registryUrls', 'maxMajorIncrement']);

export function isOwnedManager(m: unknown): boolean {
  const r = m as Record<string, unknown> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.datasourceTemplate === DATASOURCE &&
    MANAGER_DESCRIPTIONS.includes(r.description as string)
  );
}

export function isOwnedRule(rule: unknown): boolean {
  const r = rule as Record<string, unknown> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    isDeepStrictEqual(r.matchDatasources, [DATASOURCE]) &&
    Object.keys(r).every((k) => RULE_KEYS.has(k)) &&
    ('registryUrls' in r || 'maxMajorIncrement' in r)
  );
}

/** `list` without this tool's items, with `ours` where the first of them was (else at the end). */
function replaceOwned(list: readonly unknown[], owned: (x: unknown) => boolean, ours: readonly unknown[]): unknown[] {
  const first = list.findIndex(owned);
  const kept = list.filter((x) => !owned(x));
  const at = first === -1 ? kept.length : list.slice(0, first).filter((x) => !owned(x)).length;
  return [...kept.slice(0, at), ...ours, ...kept.slice(at)];
}

/** The user's config with this tool's parts replaced by the generated ones (what the updated file must read as). */
export function mergeRenovateConfig(user: Record<string, unknown>, generated: RenovateConfig): Record<string, unknown> {
  const datasources = (user.customDatasources ?? {}) as Record<string, unknown>;
  return {
    ...user,
    customDatasources: { ...datasources, [DATASOURCE_NAME]: generated.customDatasources[DATASOURCE_NAME] },
    customManagers: replaceOwned((user.customManagers ?? []) as unknown[], isOwnedManager, generated.customManagers),
    packageRules: replaceOwned((user.packageRules ?? []) as unknown[], isOwnedRule, generated.packageRules),
  };
}

/**
 * The text of a Renovate config file with this tool's parts replaced in place: every other setting, comment, key
 * order and quote stays as written; a JSON5 file stays JSON5 (new parts written in its style: bare keys and its
 * quote when it uses them). `package.json` gets (or keeps) its `renovate` key. The result is read back and must
 * mean exactly the user's config with the generated parts (else an Error: a bug, nothing is written).
 */
export function updateRenovateText(text: string, shown: string, generated: RenovateConfig): string {
  const packageJson = shown.split('/').pop() === 'package.json';
  let root: JsonNode;
  try {
    root = parseJsonText(text);
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    throw new RenovateConfigError(`${shown}: cannot update it in place: ${err.message} at ${where(text, err.offset)}`);
  }
  if (root.kind !== 'object') throw new RenovateConfigError(`${shown}: not a Renovate config (expected an object)`);
  const parsed = parseConfigText(text, shown) as Record<string, unknown>;
  const user = (packageJson ? (parsed.renovate ?? {}) : parsed) as Record<string, unknown>;
  if (typeof user !== 'object' || user === null || Array.isArray(user))
    throw new RenovateConfigError(`${shown}: its renovate key is not an object`);

  const style = styleOf(text, shown);
  let out = text;
  // Pass 1: replace inside what exists; pass 2: add the keys that do not exist yet.
  const config = (t: string) => {
    const r = parseJsonText(t) as JsonObject;
    if (!packageJson) return r;
    const member = r.members.find((m) => m.key === 'renovate');
    return member?.value.kind === 'object' ? member.value : undefined;
  };
  const edits: { start: number; end: number; text: string }[] = [];
  const target = config(out);
  if (target) {
    const member = (key: string) => target.members.find((m) => m.key === key)?.value;
    const datasources = member('customDatasources');
    if (datasources?.kind === 'object') {
      const ours = datasources.members.find((m) => m.key === DATASOURCE_NAME);
      const value = generated.customDatasources[DATASOURCE_NAME];
      const oneLine = !out.slice(datasources.start, datasources.end).includes('\n');
      if (ours)
        edits.push({
          start: ours.value.start,
          end: ours.value.end,
          text: oneLine ? style.compact(value) : indented(style.serialize(value), lineIndent(out, ours.keyStart)),
        });
      else
        edits.push(
          rewriteWith(out, datasources, [
            ...keepAll(datasources),
            {
              text: `${style.key(DATASOURCE_NAME)}: ${style.serialize(value)}`,
              compact: `${style.key(DATASOURCE_NAME)}: ${style.compact(value)}`,
            },
          ]),
        );
    }
    for (const [key, owned, ours] of [
      ['customManagers', isOwnedManager, generated.customManagers],
      ['packageRules', isOwnedRule, generated.packageRules],
    ] as const) {
      const list = member(key);
      if (list?.kind !== 'array') continue;
      const values = list.elements.map((e) => JSON5.parse<unknown>(out.slice(e.value.start, e.value.end)));
      const texts = ours.map((v: unknown) => ({ text: style.serialize(v), compact: style.compact(v) }));
      edits.push(rewriteWith(out, list, arrayItems(out, list, values.map(owned), texts)));
    }
  }
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);

  const again = config(out);
  const added: Item[] = [];
  for (const key of ['customDatasources', 'customManagers', 'packageRules'] as const) {
    if (again?.members.some((m) => m.key === key)) continue;
    added.push({
      text: `${style.key(key)}: ${style.serialize(generated[key])}`,
      compact: `${style.key(key)}: ${style.compact(generated[key])}`,
    });
  }
  if (added.length > 0) {
    if (again) {
      const e = rewriteWith(out, again, [...keepAll(again), ...added]);
      out = out.slice(0, e.start) + e.text + out.slice(e.end);
    } else {
      // package.json without a renovate key: one is added at its end.
      const top = parseJsonText(out) as JsonObject;
      const e = rewriteWith(out, top, [
        ...keepAll(top),
        { text: `"renovate": ${style.serialize(generated)}`, compact: `"renovate": ${style.compact(generated)}` },
      ]);
      out = out.slice(0, e.start) + e.text + out.slice(e.end);
    }
  }

  const expected = mergeRenovateConfig(user, generated);
  const read = parseConfigText(out, shown) as Record<string, unknown>;
  const result = packageJson ? read.renovate : read;
  if (
    !isDeepStrictEqual(result, expected) ||
    (packageJson && !isDeepStrictEqual({ ...read, renovate: expected }, { ...parsed, renovate: expected }))
  )
    throw new Error(`${shown}: the updated text does not read as the merged config`);
  return out;
}

/** How new parts are written into a file: its indent unit, and in a JSON5 file that uses them, bare keys and its quote. */
function styleOf(text: string, shown: string) {
  const unit = indentUnit(text);
  const json5 = shown.endsWith('.json5');
  const bare = json5 && /(^|[{,\n])\s*[A-Za-z_$][\w$]*\s*:/.test(text);
  const quote = json5 && /:\s*'/.test(text) && !/:\s*"/.test(text) ? "'" : '"';
  return {
    unit,
    serialize: (value: unknown) =>
      bare ? JSON5.stringify(value, { space: unit, quote }) : JSON.stringify(value, null, unit),
    /** On one line, for a container written on one line. */
    compact: (value: unknown) =>
      (bare ? JSON5.stringify(value, { space: unit, quote }) : JSON.stringify(value, null, unit))
        .replace(/\n\s*/g, ' ')
        .replace(/,\s*([}\]])/g, ' $1')
        .replace(/\[\s+/g, '[')
        .replace(/\s+\]/g, ']'),
    key: (key: string) => (bare && /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)),
  };
}

function keepAll(container: JsonObject): Item[] {
  return container.members.map((m) => ({ keep: m.chunk }));
}

/**
 * An array's elements with the owned ones taken out and `ours` put where the first of them was (else at the end).
 * Comments written before owned elements stay, before the new ones.
 */
function arrayItems(
  text: string,
  list: JsonArray,
  owned: readonly boolean[],
  ours: readonly { text: string; compact: string }[],
): Item[] {
  const comments = list.elements
    .filter((_, i) => owned[i])
    .map((e) => text.slice(e.chunk[0], e.value.start).trim())
    .filter(Boolean);
  const ourItems = ours.map((t, k) =>
    k === 0 && comments.length > 0
      ? {
          text: `${comments.join('\n')}\n${t.text}`,
          compact: `${comments.map((c) => (c.includes('//') ? `${c}\n` : `${c} `)).join('')}${t.compact}`,
        }
      : t,
  );
  const items: Item[] = [];
  let placed = false;
  list.elements.forEach((e, i) => {
    if (!owned[i]) return void items.push({ keep: e.chunk });
    if (!placed) items.push(...ourItems);
    placed = true;
  });
  if (!placed) items.push(...ourItems);
  return items;
}

function rewriteWith(text: string, container: JsonObject | JsonArray, items: Item[]) {
  const layout = layoutOf(text, container, indentUnit(text));
  return { start: container.start, end: container.end, text: rewriteContainer(text, container, items, layout) };
}

function indented(value: string, indent: string): string {
  return value.split('\n').join(`\n${indent}`);
}

function lineIndent(text: string, at: number): string {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function where(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `line ${before.split('\n').length}`;
}

/** What `gen renovate` does with its config: print it, write a file, update the user's file, or refuse. */
export type RenovateOutput =
  | { kind: 'stdout'; text: string; note: string | undefined }
  | { kind: 'write'; path: string; text: string; updated: string | undefined }
  | { kind: 'refuse'; message: string };

/**
 * Where the config goes, so that the repository keeps one Renovate config (Renovate reads the first of its file
 * names it finds, lib/config/app-strings.ts, and ignores the rest):
 * - no `-o`: printed; when the repository has a config already, a note names it and how to update it in place;
 * - `-o` the file Renovate reads (or package.json): updated in place, keeping every setting that is not this tool's;
 * - `-o` another of Renovate's file names while one exists: refused (exit 1) naming the existing one, since the new
 *   file would be read instead of it (dropping its settings) or be ignored; `force` writes it anyway;
 * - `-o` any other file, or `force`: the generated config, whole.
 */
export async function renovateOutput(o: {
  root: string;
  output: string | undefined;
  generated: RenovateConfig;
  force: boolean;
  cwd?: string;
}): Promise<RenovateOutput> {
  const cwd = o.cwd ?? process.cwd();
  const fresh = renderRenovateJson(o.generated);
  const existing = await findRenovateConfigs(o.root);
  const shown = (name: string) => {
    const rel = relative(cwd, resolve(o.root, name));
    return rel.startsWith('..') || isAbsolute(rel) ? resolve(o.root, name) : rel.split(sep).join('/');
  };
  const read = existing[0];
  if (o.output === undefined)
    return {
      kind: 'stdout',
      text: fresh,
      note:
        read &&
        `${shown(read)} holds this repository's Renovate config: apk-indexer gen renovate -o ${shown(read)} updates it in place, keeping its other settings`,
    };
  const path = resolve(cwd, o.output);
  const rel = relative(o.root, path).split(sep).join('/');
  const named = CONFIG_FILE_NAMES.includes(rel);
  if (!named || o.force) return { kind: 'write', path, text: fresh, updated: undefined };
  if (read !== undefined && read !== rel) {
    const instead = CONFIG_FILE_NAMES.indexOf(rel) < CONFIG_FILE_NAMES.indexOf(read);
    return {
      kind: 'refuse',
      message: `${shown(read)} holds this repository's Renovate config, and Renovate reads only one: ${o.output} would ${instead ? `be read instead, dropping every setting of ${shown(read)}` : `be ignored (Renovate reads ${shown(read)} first)`}. Update ${shown(read)} in place with -o ${shown(read)}, or pass --force to write ${o.output} anyway`,
    };
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { kind: 'write', path, text: fresh, updated: undefined };
    throw new RenovateConfigError(`${o.output}: cannot read: ${describeFileProblem(err)}`);
  }
  return { kind: 'write', path, text: updateRenovateText(text, rel, o.generated), updated: rel };
}
