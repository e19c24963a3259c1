import { nearest } from '../core/nearest.js';
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';

/**
 * The keys apko's ImageConfiguration accepts (pkg/build/types/types.go), as yaml.v3 names them: the yaml tag, else
 * the Go field name in lower case. apko decodes with `KnownFields(true)`, so any other key is an error.
 * `map` is a free mapping (environment, annotations, entrypoint services); `list` an item shape for lists.
 */
type Shape = { keys: Record<string, Shape> } | { list: Shape } | 'map' | 'scalar' | 'scalars';

const obj = (keys: Record<string, Shape>): Shape => ({ keys });
const listOf = (item: Shape): Shape => ({ list: item });

const IMAGE: Shape = obj({
  contents: obj({
    build_repositories: 'scalars',
    runtime_repositories: 'scalars',
    repositories: 'scalars',
    keyring: 'scalars',
    runtime_keyring: listOf(obj({ name: 'scalar', content: 'scalar' })),
    packages: 'scalars',
    baseimage: obj({ image: 'scalar', apkindex: 'scalar' }),
  }),
  entrypoint: obj({ type: 'scalar', command: 'scalar', 'shell-fragment': 'scalar', services: 'map' }),
  cmd: 'scalar',
  'stop-signal': 'scalar',
  'work-dir': 'scalar',
  accounts: obj({
    'run-as': 'scalar',
    users: listOf(obj({ username: 'scalar', uid: 'scalar', gid: 'scalar', shell: 'scalar', homedir: 'scalar' })),
    groups: listOf(obj({ groupname: 'scalar', gid: 'scalar', members: 'scalars' })),
  }),
  archs: 'scalars',
  environment: 'map',
  paths: listOf(
    obj({
      path: 'scalar',
      type: 'scalar',
      uid: 'scalar',
      gid: 'scalar',
      permissions: 'scalar',
      source: 'scalar',
      recursive: 'scalar',
    }),
  ),
  'vcs-url': 'scalar',
  annotations: 'map',
  include: 'scalar',
  volumes: 'scalars',
  layering: obj({ strategy: 'scalar', budget: 'scalar' }),
  format: 'scalar',
  certificates: obj({ additional: listOf(obj({ name: 'scalar', content: 'scalar' })), providers: 'scalars' }),
});

/** apko's top-level keys, for telling an apko file from other YAML. */
export const TOP_LEVEL_KEYS: readonly string[] = Object.keys((IMAGE as { keys: Record<string, Shape> }).keys);

export interface UnknownKey {
  /** Dotted path to the key, e.g. `contents.package`. */
  path: string;
  key: string;
  /** Offset of the key in the text. */
  offset: number;
  /** The known key it most likely means, when one is close. */
  suggestion: string | undefined;
}

/** Every key apko would refuse, in document order. */
export function unknownKeys(doc: Document.Parsed): UnknownKey[] {
  const found: UnknownKey[] = [];
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const walk = (node: unknown, shape: Shape, path: string): void => {
    node = deref(node);
    if (node === null || node === undefined || typeof shape === 'string') return;
    if ('list' in shape) {
      if (isSeq(node)) node.items.forEach((item, i) => walk(item, shape.list, `${path}[${i}]`));
      return;
    }
    if (!isMap(node)) return;
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
      const child = shape.keys[key];
      const where = path ? `${path}.${key}` : key;
      if (child === undefined || !Object.hasOwn(shape.keys, key)) {
        found.push({
          path: where,
          key,
          offset: keyNode.range?.[0] ?? 0,
          suggestion: nearestKey(key, Object.keys(shape.keys)),
        });
        continue;
      }
      walk(pair.value, child, where);
    }
  };
  walk(doc.contents, IMAGE, '');
  return found;
}

/** The known key within two edits (`arch` -> `archs`, `package` -> `packages`), if any. */
function nearestKey(key: string, known: readonly string[]): string | undefined {
  return nearest(key.toLowerCase(), known, 2);
}
