import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

/** One repository the service reads: a base URL with arches, or a bare APKINDEX.tar.gz URL. */
export interface ConfiguredRepository {
  name: string | undefined;
  url: string;
  arches: string[] | undefined;
  keys: string[];
}

/**
 * Reads the `repositories:` section of the service's YAML configuration, the part pinning needs; every other
 * section is the service's business and is left alone.
 */
export async function readServiceRepositories(path: string): Promise<ConfiguredRepository[]> {
  let doc: unknown;
  try {
    doc = parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const list = (doc as { repositories?: unknown } | null)?.repositories;
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${path}: no repositories: list`);
  return list.map((entry: unknown, i) => repository(entry, `${path}: repositories[${i}]`));
}

function repository(entry: unknown, where: string): ConfiguredRepository {
  if (typeof entry !== 'object' || entry === null) throw new Error(`${where}: expected a mapping`);
  const e = entry as Record<string, unknown>;
  if (typeof e.url !== 'string' || e.url === '') throw new Error(`${where}.url: expected a URL`);
  if (e.name !== undefined && typeof e.name !== 'string') throw new Error(`${where}.name: expected a string`);
  return { name: e.name, url: e.url, arches: strings(e.arches, `${where}.arches`), keys: strings(e.keys, `${where}.keys`) ?? [] };
}

function strings(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw new Error(`${where}: expected a list of strings`);
  }
  return value as string[];
}
