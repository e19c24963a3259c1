import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { apkoJsonSchema } from '../../src/apko/config-model.js';
import { parse } from 'yaml';
import { capture, command } from '../helpers/command.js';
import { generateFixtureKey, writeFixtureRepo, type FixtureKey, type FixturePackage } from '../fixtures/apk-repo.js';

/** Runs a command module's `run()` and collects what it prints. */
export const runCommand = capture;

/**
 * `check`'s findings as scripts read them (`--json`), one row [severity, where, what, detail] each: what the report
 * for people (one line per cause) says in fewer words.
 */
export async function checkRows(args: string[]): Promise<string[][]> {
  const r = await capture(command('check'), [...args, '--json']);
  return (JSON.parse(r.out) as Array<{ severity: string; location: string; subject: string; message: string }>).map(
    (f) => [f.severity, f.location, f.subject, f.message],
  );
}

const ajv = new Ajv({ allErrors: true, strict: true });
const ajv2020 = new Ajv2020({ allErrors: true, strict: true });
const schemas = new Map<string, ValidateFunction>();

/** What every apko file the generators write has, beyond apko's own schema (which requires nothing). */
export const WRITTEN_APKO_REQUIRED = {
  ImageEntrypoint: ['command'],
  User: ['username', 'uid', 'gid'],
  Group: ['groupname', 'gid'],
  PathMutation: ['path', 'type'],
  Layering: ['strategy', 'budget'],
} as const;

/**
 * Validates a value against one of the project's schemas: apko's from the one model of its configuration
 * (src/apko/config-model.ts), melange's and Renovate's in schemas/. Returns ajv's errors as text, '' when valid.
 */
export function schemaErrors(schema: 'apko-image' | 'melange-recipe' | 'renovate-config', value: unknown): string {
  let validate = schemas.get(schema);
  const compiler = schema === 'apko-image' ? ajv2020 : ajv;
  if (!validate) {
    if (schema === 'apko-image') validate = ajv2020.compile(apkoJsonSchema(WRITTEN_APKO_REQUIRED));
    else {
      const url = new URL(`../../schemas/${schema}.schema.json`, import.meta.url);
      validate = ajv.compile(JSON.parse(readFileSync(url, 'utf8')) as object);
    }
    schemas.set(schema, validate);
  }
  return validate(value) ? '' : compiler.errorsText(validate.errors);
}

export function yamlValue(text: string): unknown {
  return parse(text) as unknown;
}

export const fixtureKey: FixtureKey = generateFixtureKey('generate-test.rsa.pub');

/** A signed two-arch fixture repository at `dir`, and the key that verifies it. */
export async function fixtureRepo(
  dir: string,
  arches: Record<string, readonly FixturePackage[]>,
): Promise<{ url: string; key: string }> {
  const repo = await writeFixtureRepo(dir, { arches, sign: [{ key: fixtureKey }] });
  return { url: repo.url, key: repo.keyPaths[0]! };
}

/** Writes files under `dir`, creating folders. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** The same package list on both arches. */
export function both(packages: readonly FixturePackage[]): Record<string, FixturePackage[]> {
  return { x86_64: [...packages], aarch64: [...packages] };
}
