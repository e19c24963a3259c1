import { APKO_ARCH_NAMES, APK_ARCH_NAMES } from './arch.js';

/**
 * apko's image configuration, its one model here: every key apko's `ImageConfiguration` accepts, with its type, as
 * apko publishes them in `pkg/build/types/schema.json` (chainguard-dev/apko v1.2.39, commit 25f7e68: the same `$defs`,
 * property names and types; descriptions left out). apko decodes with yaml.v3 and `KnownFields(true)`, so any other
 * key is an error. From this one declaration come:
 * - the strict-keys check of the reader (`keys.ts`), and its test for "is this YAML an apko file" (`tree.ts`);
 * - the TypeScript type of what the generators write (`ApkoImage`);
 * - the JSON Schema the tests validate every written file against (`apkoJsonSchema`).
 * test/apko/config-model.test.ts holds it to apko's schema.json.
 *
 * `rules` are what apko checks beyond its schema when it builds (the arch names `ParseArchitecture` knows, the path
 * mutation types `mutatePaths` applies, the only layering strategy): the JSON Schema and the type take them too.
 */
export type Field =
  | { kind: 'string'; rules?: { enum?: readonly string[] } }
  | { kind: 'integer'; rules?: { minimum?: number; maximum?: number } }
  | { kind: 'boolean' }
  /** A mapping of strings to strings (environment, annotations). */
  | { kind: 'map' }
  | { kind: 'list'; of: Field }
  | { kind: 'object'; name: string; fields: Readonly<Record<string, Field>> };

const string = { kind: 'string' } as const;
const integer = { kind: 'integer' } as const;
const boolean = { kind: 'boolean' } as const;
const map = { kind: 'map' } as const;
const oneOf = <const T extends readonly string[]>(values: T) => ({ kind: 'string', rules: { enum: values } }) as const;
const list = <const F extends Field>(of: F) => ({ kind: 'list', of }) as const;
const object = <const F extends Readonly<Record<string, Field>>>(name: string, fields: F) =>
  ({ kind: 'object', name, fields }) as const;

const User = object('User', { username: string, uid: integer, gid: integer, shell: string, homedir: string });
const Group = object('Group', { groupname: string, gid: integer, members: list(string) });
const KeyEntry = (name: string) => object(name, { name: string, content: string });

export const IMAGE_CONFIGURATION = object('ImageConfiguration', {
  contents: object('ImageContents', {
    build_repositories: list(string),
    runtime_repositories: list(string),
    repositories: list(string),
    keyring: list(string),
    runtime_keyring: list(KeyEntry('RuntimeKeyringEntry')),
    packages: list(string),
    baseimage: object('BaseImageDescriptor', { image: string, apkindex: string }),
  }),
  entrypoint: object('ImageEntrypoint', { type: string, command: string, 'shell-fragment': string, services: map }),
  cmd: string,
  'stop-signal': string,
  'work-dir': string,
  accounts: object('ImageAccounts', { 'run-as': string, users: list(User), groups: list(Group) }),
  // apko takes its own names and APK's (`ParseArchitecture`).
  archs: list(oneOf([...APKO_ARCH_NAMES, ...APK_ARCH_NAMES] as const)),
  environment: map,
  paths: list(
    object('PathMutation', {
      path: string,
      type: oneOf(['directory', 'empty-file', 'hardlink', 'symlink', 'permissions']),
      uid: integer,
      gid: integer,
      permissions: { kind: 'integer', rules: { minimum: 0, maximum: 0o7777 } },
      source: string,
      recursive: boolean,
    }),
  ),
  'vcs-url': string,
  annotations: map,
  include: string,
  volumes: list(string),
  layering: object('Layering', { strategy: oneOf(['origin']), budget: integer }),
  format: string,
  certificates: object('ImageCertificates', {
    additional: list(KeyEntry('AdditionalCertificateEntry')),
    providers: list(string),
  }),
});

/** The value a field holds, as a TypeScript type; every key optional, as in apko. */
export type Infer<F> = F extends { kind: 'string'; rules: { enum: readonly (infer E)[] } }
  ? E
  : F extends { kind: 'string' }
    ? string
    : F extends { kind: 'integer' }
      ? number
      : F extends { kind: 'boolean' }
        ? boolean
        : F extends { kind: 'map' }
          ? Record<string, string>
          : F extends { kind: 'list'; of: infer I }
            ? Infer<I>[]
            : F extends { kind: 'object'; fields: infer O }
              ? { -readonly [K in keyof O]?: Infer<O[K]> }
              : never;

/** An apko image configuration, as the generators write one. */
export type ApkoImage = Infer<typeof IMAGE_CONFIGURATION>;

/** A path of keys through the model, checked by the compiler: `['entrypoint', 'command']`. */
export type ModelPath<F = typeof IMAGE_CONFIGURATION> = F extends { kind: 'object'; fields: infer O }
  ? { [K in keyof O & string]: [K] | [K, ...ModelPath<O[K]>] }[keyof O & string]
  : never;

/** The fields of an object field. */
export function fieldsOf(field: Field): Readonly<Record<string, Field>> | undefined {
  return field.kind === 'object' ? field.fields : undefined;
}

/**
 * The model as JSON Schema (draft 2020-12), shaped as apko's schema.json (`$defs` named as apko names its types),
 * every object closed, plus the `rules`. `required` adds what a caller wants present, by object name.
 */
export function apkoJsonSchema(required: Readonly<Record<string, readonly string[]>> = {}): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const toSchema = (field: Field): Record<string, unknown> => {
    switch (field.kind) {
      case 'string':
      case 'integer':
        return { type: field.kind, ...field.rules };
      case 'boolean':
        return { type: 'boolean' };
      case 'map':
        return { type: 'object', additionalProperties: { type: 'string' } };
      case 'list':
        return { type: 'array', items: toSchema(field.of) };
      case 'object': {
        if (!(field.name in defs)) {
          defs[field.name] = null;
          defs[field.name] = {
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(Object.entries(field.fields).map(([k, f]) => [k, toSchema(f)])),
            ...(required[field.name] ? { required: [...required[field.name]!] } : {}),
          };
        }
        return { $ref: `#/$defs/${field.name}` };
      }
    }
  };
  const root = toSchema(IMAGE_CONFIGURATION);
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...root, $defs: defs };
}
