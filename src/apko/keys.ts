import { nearest } from '../core/nearest.js';
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { IMAGE_CONFIGURATION, type Field } from './config-model.js';

/** apko's top-level keys, for telling an apko file from other YAML. */
export const TOP_LEVEL_KEYS: readonly string[] = Object.keys(IMAGE_CONFIGURATION.fields);

export interface UnknownKey {
  /** Dotted path to the key, e.g. `contents.package`. */
  path: string;
  key: string;
  /** Offset of the key in the text. */
  offset: number;
  /** The known key it most likely means, when one is close. */
  suggestion: string | undefined;
}

/**
 * Every key apko would refuse, in document order: apko decodes with yaml.v3 and `KnownFields(true)`, so a key its
 * model (config-model.ts) does not have is an error; maps (environment, annotations, entrypoint.services) are free.
 */
export function unknownKeys(doc: Document.Parsed): UnknownKey[] {
  const found: UnknownKey[] = [];
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const walk = (node: unknown, shape: Field, path: string): void => {
    node = deref(node);
    if (node === null || node === undefined) return;
    if (shape.kind === 'list') {
      if (isSeq(node)) node.items.forEach((item, i) => walk(item, shape.of, `${path}[${i}]`));
      return;
    }
    if (shape.kind !== 'object' || !isMap(node)) return;
    const fields: Readonly<Record<string, Field>> = shape.fields;
    for (const pair of node.items) {
      const keyNode = deref(pair.key) as Node | null;
      if (!isScalar(keyNode)) continue;
      // `<<` merges are resolved by yaml.v3 into the mapping; their keys are checked where they are written.
      const key = String(keyNode.value);
      if (key === '<<') {
        const merged = deref(pair.value);
        const sources = isSeq(merged) ? merged.items : [merged];
        for (const source of sources) walk(source, shape, path);
        continue;
      }
      const child = fields[key];
      const where = path ? `${path}.${key}` : key;
      if (child === undefined || !Object.hasOwn(fields, key)) {
        found.push({
          path: where,
          key,
          offset: keyNode.range?.[0] ?? 0,
          suggestion: nearestKey(key, Object.keys(fields)),
        });
        continue;
      }
      walk(pair.value, child, where);
    }
  };
  walk(doc.contents, IMAGE_CONFIGURATION, '');
  return found;
}

/** The known key within two edits (`arch` -> `archs`, `package` -> `packages`), if any. */
function nearestKey(key: string, known: readonly string[]): string | undefined {
  return nearest(key.toLowerCase(), known, 2);
}
