import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.js';

const dir = fileURLToPath(new URL('../../config/', import.meta.url));

describe('the example configurations in config/', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s is valid', (name) => {
    const s = loadSettings(['--config', `${dir}${name}`], {});
    expect(s.repositories.length).toBeGreaterThan(0);
    for (const r of s.repositories) expect(r.keys.length, `${name}: ${r.name} has keys`).toBeGreaterThan(0);
  });
});
