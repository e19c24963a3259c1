import { createHash } from 'node:crypto';

type Schema = {
  $ref?: string;
  type?: string;
  items?: Schema;
  additionalProperties?: boolean | Schema;
  properties?: Record<string, Schema>;
  $defs?: Record<string, Schema>;
};

/** A property's type in a few words: `string`, `integer`, `map<string>`, `array<ref:User>`, `ref:ImageContents`. */
function typeOf(s: Schema): string {
  if (s.$ref) return `ref:${s.$ref.replace('#/$defs/', '')}`;
  if (s.type === 'array') return `array<${typeOf(s.items ?? {})}>`;
  if (s.type === 'object' && typeof s.additionalProperties === 'object')
    return `map<${typeOf(s.additionalProperties)}>`;
  return s.type ?? '?';
}

/**
 * The structure of an apko schema.json: each `$defs` type, each property and its type, keys sorted; descriptions,
 * and anything beyond apko's schema (enums, bounds, required), left out. Facts, comparable across two schemas.
 */
export function schemaShape(schema: Schema): Record<string, Record<string, string>> {
  const defs = schema.$defs ?? {};
  return Object.fromEntries(
    Object.keys(defs)
      .sort()
      .map((name) => {
        const props = defs[name]!.properties ?? {};
        return [
          name,
          Object.fromEntries(
            Object.keys(props)
              .sort()
              .map((p) => [p, typeOf(props[p]!)]),
          ),
        ];
      }),
  );
}

export function shapeDigest(shape: unknown): string {
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex');
}
