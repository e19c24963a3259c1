import { readFileSync } from 'node:fs';
import { parse, YAMLParseError } from 'yaml';
import { nearest } from '../core/nearest.js';
import { escapeControl } from '../core/escape.js';
import { ConfigError, describeFileProblem, isSystemError } from '../errors.js';
import {
  emptyLayer,
  givens,
  LIMIT_TABLE,
  repositoryFor,
  repositoryGivens,
  REPOSITORY_TABLE,
  SERVICE_TABLE,
  type DescribedRepository,
  type Given,
  type SettingsLayer,
} from './layer.js';
import type { Option, RepositoryOption } from './options.js';

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's key tree, from the options' dotted file keys: `{listen: {host: true, port: true}, ...}`. */
interface KeyTree {
  [key: string]: KeyTree | true;
}
const TREE: KeyTree = {};
const FILE_OPTIONS: Array<Option<unknown>> = [...Object.values(SERVICE_TABLE), ...Object.values(LIMIT_TABLE)];
for (const option of FILE_OPTIONS) {
  if (!option.file) continue;
  const path = option.file.split('.');
  let node = TREE;
  for (const part of path.slice(0, -1)) {
    const child = (node[part] ??= {});
    if (child === true) throw new Error(`options: ${option.file} is under a key that is a value`);
    node = child;
  }
  node[path.at(-1)!] = true;
}
TREE.repositories = true;

/** Reads the YAML configuration file into a layer, every value checked (even one a flag will override). */
export function readConfigFile(path: string): SettingsLayer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!isSystemError(err)) throw err;
    throw new ConfigError(`config file ${path}: cannot read: ${describeFileProblem(err)}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw yamlError(path, text, err);
    throw err;
  }
  const at = (key: string) => `config file ${path}: ${key}`;
  doc ??= {};
  if (!isMapping(doc)) throw new ConfigError(`config file ${path}: expected a mapping at the top level`);
  checkKeys(doc, TREE, '', at);

  const layer = emptyLayer(`config file ${path}`);
  const read = <T>(option: Option<T>): Given<T> | undefined => {
    if (!option.file) return undefined;
    const raw = option.file.split('.').reduce<unknown>((node, part) => (isMapping(node) ? node[part] : undefined), doc);
    if (raw === undefined || raw === null) return undefined;
    return { value: option.kind.parse(raw, at(option.file)), where: at(option.file) };
  };
  layer.service = givens(SERVICE_TABLE, read);
  layer.limits = givens(LIMIT_TABLE, read);
  if (doc.repositories !== undefined && doc.repositories !== null) {
    if (!Array.isArray(doc.repositories) || doc.repositories.length === 0)
      throw new ConfigError(`${at('repositories')}: expected a non-empty list`);
    layer.repositories = doc.repositories.map((r, i) => repository(r, at(`repositories[${i}]`)));
  }
  return layer;
}

/** A file that is not YAML: the parser's reason on the line, then the line itself with a pointer under the column. */
function yamlError(path: string, text: string, err: YAMLParseError): ConfigError {
  const { line, col } = err.linePos?.[0] ?? { line: 0, col: 0 };
  const reason = err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').replace(/^./, (c) => c.toLowerCase());
  const source = text.split(/\r?\n/)[line - 1];
  // Shown safe for a terminal; the pointer counts the characters before the column as they are shown.
  const shown = (s: string) => escapeControl(s.replace(/\t/g, ' '));
  const context =
    line > 0 && source !== undefined
      ? `  ${shown(source)}\n  ${' '.repeat(shown(source.slice(0, Math.max(0, col - 1))).length)}^`
      : '';
  return new ConfigError(`config file ${path}${line > 0 ? `:${line}:${col}` : ''}: ${reason}`, {
    cause: err,
    ...(context && { context }),
  });
}

/** An unknown key: named, with the nearest known one when it is a near miss (`updateIntervall`), else the list. */
function unknownKey(where: string, key: string, known: readonly string[]): ConfigError {
  const near = nearest(key, known, Math.max(2, Math.floor(key.length / 3)));
  return new ConfigError(`${where}: unknown key (${near ? `did you mean ${near}?` : `known: ${known.join(', ')}`})`);
}

function checkKeys(map: Mapping, tree: KeyTree, prefix: string, at: (key: string) => string): void {
  const known = Object.keys(tree);
  for (const [key, value] of Object.entries(map)) {
    const node = tree[key];
    if (node === undefined) throw unknownKey(at(prefix + key), key, known);
    if (node === true || value === undefined || value === null) continue;
    if (!isMapping(value))
      throw new ConfigError(
        `${at(prefix + key)}: expected a mapping with ${Object.keys(node).join(', ')}, got ${JSON.stringify(value)}`,
      );
    checkKeys(value, node, `${prefix}${key}.`, at);
  }
}

/** One `repositories[]` entry, each key checked by its option, defaults filled in from the URL. */
function repository(raw: unknown, where: string): DescribedRepository {
  if (!isMapping(raw)) throw new ConfigError(`${where}: expected a mapping with url`);
  const known = Object.values(REPOSITORY_TABLE).map((option: RepositoryOption<unknown>) => option.file);
  for (const key of Object.keys(raw)) if (!known.includes(key)) throw unknownKey(`${where}.${key}`, key, known);
  const url = REPOSITORY_TABLE.url.kind.parse(raw.url, `${where}.url`);
  const given = repositoryGivens(<T>(option: RepositoryOption<T>): Given<T> | undefined => {
    const value = raw[option.file];
    if (value === undefined || value === null) return undefined;
    return { value: option.kind.parse(value, `${where}.${option.file}`), where: `${where}.${option.file}` };
  });
  return { settings: repositoryFor(url, given), where };
}
