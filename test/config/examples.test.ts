import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.js';

const dir = fileURLToPath(new URL('../../config/', import.meta.url));
// The credentials the examples' auth sections name.
const env = { CHAINGUARD_TOKEN: 't', APK_USER: 'u', APK_PASSWORD: 'p' };

describe('the example configurations in config/', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('include wolfi, alpine, a private repository with bearer auth and several repositories', () => {
    expect(files).toEqual(expect.arrayContaining(['wolfi.yaml', 'alpine.yaml', 'private.yaml', 'multi.yaml']));
    expect(
      loadSettings(['--config', `${dir}private.yaml`], env).repositories.some(
        (r) => r.auth && 'bearerTokenEnv' in r.auth,
      ),
    ).toBe(true);
    expect(loadSettings(['--config', `${dir}multi.yaml`], env).repositories.length).toBeGreaterThan(1);
  });

  it.each(files)('%s is valid and verifies every repository', (name) => {
    const s = loadSettings(['--config', `${dir}${name}`], env);
    expect(s.repositories.length).toBeGreaterThan(0);
    for (const r of s.repositories) expect(r.keys.length, `${name}: ${r.name} has keys`).toBeGreaterThan(0);
  });

  it('wolfi.yaml spells out the built-in default', () => {
    expect(loadSettings(['--config', `${dir}wolfi.yaml`], {})).toEqual(loadSettings([], {}));
  });

  it('private.yaml refuses to start without its token variable', () => {
    expect(() => loadSettings(['--config', `${dir}private.yaml`], {})).toThrow(/CHAINGUARD_TOKEN is not set/);
  });
});
