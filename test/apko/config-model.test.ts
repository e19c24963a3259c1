import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { apkoJsonSchema, IMAGE_CONFIGURATION, type Field } from '../../src/apko/config-model.js';
import { TOP_LEVEL_KEYS, unknownKeys } from '../../src/apko/keys.js';
import { schemaShape, shapeDigest } from './schema-shape.js';

/**
 * The one model of apko's configuration (src/apko/config-model.ts) against apko's own schema.json.
 *
 * The schema is apko's (chainguard-dev/apko, pkg/build/types/schema.json), not a file of this project: its structure
 * (each type's properties and their types, descriptions left out) at v1.2.39 (commit 25f7e68, unchanged at d1b5d5e)
 * has the SHA-256 below, which the model's structure must have too. To compare field by field, or with a newer apko,
 * point APKO_SCHEMA_JSON at a copy of the file: `git show v1.2.39:pkg/build/types/schema.json > /tmp/apko.json`.
 */
const APKO_V1_2_39_SHAPE = 'a3c46f8e638916cf5ea6a5bf441032215e42748aab0dc1882d6f30eef97a5d23';
const upstream = process.env.APKO_SCHEMA_JSON;

describe("apko's configuration: one model", () => {
  const model = schemaShape(apkoJsonSchema() as Parameters<typeof schemaShape>[0]);

  it("has the structure of apko v1.2.39's schema.json: every type, key and value type", () => {
    expect(Object.keys(model)).toEqual([
      'AdditionalCertificateEntry',
      'BaseImageDescriptor',
      'Group',
      'ImageAccounts',
      'ImageCertificates',
      'ImageConfiguration',
      'ImageContents',
      'ImageEntrypoint',
      'Layering',
      'PathMutation',
      'RuntimeKeyringEntry',
      'User',
    ]);
    expect(shapeDigest(model)).toBe(APKO_V1_2_39_SHAPE);
  });

  it.skipIf(upstream === undefined)('agrees field by field with the schema.json at APKO_SCHEMA_JSON', () => {
    expect(model).toEqual(schemaShape(JSON.parse(readFileSync(upstream!, 'utf8'))));
  });

  it('the digest sees a change to one key or one type (the check can fail)', () => {
    const renamed = structuredClone(model);
    renamed.ImageContents!.package = renamed.ImageContents!.packages!;
    delete renamed.ImageContents!.packages;
    expect(shapeDigest(renamed)).not.toBe(APKO_V1_2_39_SHAPE);
    const retyped = structuredClone(model);
    retyped.User!.uid = 'string';
    expect(shapeDigest(retyped)).not.toBe(APKO_V1_2_39_SHAPE);
  });

  /** Every key path of the model, with a value of its type. */
  function samples(field: Field, path: string[] = []): { path: string[]; value: unknown }[] {
    switch (field.kind) {
      case 'object':
        return Object.entries(field.fields).flatMap(([k, f]) => samples(f, [...path, k]));
      case 'list':
        return samples(field.of, [...path, '0']);
      case 'string':
        return [{ path, value: field.rules?.enum?.[0] ?? 'x' }];
      case 'integer':
        return [{ path, value: 1 }];
      case 'boolean':
        return [{ path, value: true }];
      case 'map':
        return [{ path, value: { K: 'v' } }];
    }
  }
  const build = (path: string[], value: unknown): unknown => {
    if (path.length === 0) return value;
    const [head, ...rest] = path;
    return head === '0' ? [build(rest, value)] : { [head!]: build(rest, value) };
  };
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(apkoJsonSchema());

  it.each(samples(IMAGE_CONFIGURATION).map((s) => [s.path.join('.'), s.path, s.value] as const))(
    '%s: the reader and the JSON Schema take it, and both refuse it misspelt',
    (_name, path, value) => {
      const doc = build(path, value);
      expect(validate(doc), ajv.errorsText(validate.errors)).toBe(true);
      expect(unknownKeys(parseDocument(JSON.stringify(doc)))).toEqual([]);
      const last = path.findLastIndex((p) => p !== '0');
      const misspelt = path.map((p, i) => (i === last ? `${p}x` : p));
      const wrong = build(misspelt, value);
      expect(validate(wrong)).toBe(false);
      expect(unknownKeys(parseDocument(JSON.stringify(wrong))).map((k) => k.path.replace(/\[0\]/g, '.0'))).toEqual([
        misspelt.slice(0, last + 1).join('.'),
      ]);
    },
  );

  it('the top-level keys that tell an apko file from other YAML are the model’s', () => {
    expect(TOP_LEVEL_KEYS).toEqual(Object.keys(IMAGE_CONFIGURATION.fields));
    expect(TOP_LEVEL_KEYS).toHaveLength(16);
  });
});
