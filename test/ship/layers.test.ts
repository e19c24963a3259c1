import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_FLOW, LAYERS } from './layers.js';

const SRC = resolve(import.meta.dirname, '../../src');

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

/** Every relative import in src/, in file order: where it is, and the layers it goes from and to. */
function imports(): Array<{ file: string; spec: string; from: string; to: string }> {
  const found: Array<{ file: string; spec: string; from: string; to: string }> = [];
  for (const file of files(SRC).sort()) {
    const from = layerOf(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      const target = resolve(dirname(file), m[1]!);
      if (relative(SRC, target).startsWith('..')) continue; // schemas/, package.json: outside the layers
      found.push({ file: relative(SRC, file), spec: m[1]!, from, to: layerOf(target) });
    }
  }
  return found;
}

describe('layers import downward only', () => {
  it('places every folder of src/', () => {
    for (const file of files(SRC))
      expect(LAYERS[layerOf(file)], `${relative(SRC, file)}: no place in LAYERS`).toBeDefined();
  });

  it('every import in src/ goes to the same layer or a lower one (the first upward import fails it)', () => {
    const upward = imports().find(({ from, to }) => to !== from && !(LAYERS[to]! < LAYERS[from]!));
    expect(upward && `${upward.file} (${upward.from}) imports ${upward.spec} (${upward.to})`).toBeUndefined();
  });

  it('ranks the stages of a refresh in the order the data flows, the loader above them', () => {
    const ranks = DATA_FLOW.map((layer) => LAYERS[layer]!);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(new Set(ranks).size).toBe(ranks.length);
    for (const layer of DATA_FLOW) expect(LAYERS.load).toBeGreaterThan(LAYERS[layer]!);
    expect(LAYERS.serve).toBeGreaterThan(LAYERS.load!);
  });

  it('keeps fetching in the load layer: only it opens sources', () => {
    const opening = imports().filter(({ spec }) => /\/source\/open\.js$|^\.\/open\.js$/.test(spec));
    expect([...new Set(opening.map(({ from }) => from))].sort()).toEqual(['load']);
  });
});
