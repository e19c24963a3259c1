import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describeFileProblem, isSystemError } from '../errors.js';
import { ConfigError } from './errors.js';
import {
  emptyLayer,
  REPOSITORY_ENTRIES,
  SERVICE_ENTRIES,
  type DescribedRepository,
  type SettingsLayer,
} from './layer.js';
import type { RepositorySettings } from './settings.js';

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's key tree, from the options' dotted file keys: `{listen: {host: true, port: true}, ...}`. */
interface KeyTree {
  [key: string]: KeyTree | true;
}
const TREE: KeyTree = {};
for (const { option } of SERVICE_ENTRIES) {
  if (!option.file) continue;
  const path = option.file.split('.');
  let node = TREE;
  for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as KeyTree;
  node[path.at(-1)!] = true;
}
TREE.repositories = true;

/** Reads the YAML configuration file into a layer, every value checked (even one a flag will override). */
export function readConfigFile(path: string): SettingsLayer {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `config file ${path}: ${isSystemError(err) ? `cannot read: ${describeFileProblem(err)}` : (err as Error).message}`,
      { cause: err },
    );
  }
  const at = (key: string) => `config file ${path}: ${key}`;
  doc ??= {};
  if (!isMapping(doc)) throw new ConfigError(`config file ${path}: expected a mapping at the top level`);
  checkKeys(doc, TREE, '', at);

  const layer = emptyLayer(`config file ${path}`);
  for (const { key, option } of SERVICE_ENTRIES) {
    if (!option.file) continue;
    const raw = option.file.split('.').reduce<unknown>((node, part) => (isMapping(node) ? node[part] : undefined), doc);
    if (raw === undefined || raw === null) continue;
    layer.values[key] = { value: option.kind.parse(raw, at(option.file)), where: at(option.file) };
  }
  if (doc.repositories !== undefined && doc.repositories !== null) {
    if (!Array.isArray(doc.repositories) || doc.repositories.length === 0)
      throw new ConfigError(`${at('repositories')}: expected a non-empty list`);
    layer.repositories = doc.repositories.map((r, i) => repository(r, at(`repositories[${i}]`)));
  }
  return layer;
}

function checkKeys(map: Mapping, tree: KeyTree, prefix: string, at: (key: string) => string): void {
  const known = Object.keys(tree);
  for (const [key, value] of Object.entries(map)) {
    const node = tree[key];
    if (node === undefined) throw new ConfigError(`${at(prefix + key)}: unknown key (known: ${known.join(', ')})`);
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
  const known = REPOSITORY_ENTRIES.map(([, option]) => option.file);
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) throw new ConfigError(`${where}.${key}: unknown key (known: ${known.join(', ')})`);
  }
  const url = REPOSITORY_ENTRIES.find(([key]) => key === 'url')![1].kind.parse(raw.url, `${where}.url`) as string;
  const settings: Record<string, unknown> = {};
  for (const [key, option] of REPOSITORY_ENTRIES) {
    const value = raw[option.file];
    if (value !== undefined && value !== null) settings[key] = option.kind.parse(value, `${where}.${option.file}`);
    else if (option.default) settings[key] = option.default(url);
  }
  return { settings: settings as unknown as RepositorySettings, where };
}
