import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/**
 * The layers of src/, lowest first: a module imports only from its own layer or a lower one, so the data flows
 * one way (read -> decode -> parse -> index -> answer) and the generators sit beside the service, under the CLI.
 * A new folder must be placed here.
 */
const LAYERS: Record<string, number> = {
  core: 0, // the tool's version, errors: what every layer shares
  parse: 1,
  decode: 2,
  source: 3,
  index: 4,
  resolve: 5, // the apk solver (apko's), over dependency data
  lock: 6, // apko lock files: .apk heads, keyring, the lock's JSON
  apko: 1, // the apko model and arch names, read by config, generators and the service
  dockerfile: 1, // Dockerfiles as Renovate's Dockerfile manager reads them: stages, RUN apk add packages
  release: 5, // the release loop: which images a change rebuilds and their tags, read from the apko model
  datasource: 5,
  secdb: 5,
  config: 6,
  changes: 7,
  generate: 7,
  serve: 8,
  cli: 9,
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The layer of a file under src/: its first folder; files directly in src/ (errors.ts) belong to core. */
const layerOf = (file: string) => {
  const parts = relative(SRC, file).split('/');
  return parts.length === 1 ? 'core' : parts[0]!;
};

describe('layers import downward only', () => {
  it('every import in src/ goes to the same layer or a lower one', () => {
    const wrong: string[] = [];
    for (const file of files(SRC)) {
      const from = layerOf(file);
      expect(LAYERS[from], `${relative(SRC, file)}: folder ${from} has no place in LAYERS`).toBeDefined();
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
        const target = resolve(dirname(file), m[1]!);
        if (relative(SRC, target).startsWith('..')) continue; // schemas/, package.json: outside the layers
        const to = layerOf(target);
        if (to !== from && !(LAYERS[to]! < LAYERS[from]!))
          wrong.push(`${relative(SRC, file)} (${from}) imports ${m[1]} (${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
