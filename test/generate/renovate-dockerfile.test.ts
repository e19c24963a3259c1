import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/dockerfile/dockerfile.js';
import { packageKind } from '../../src/generate/dockerfile-pins.js';
import { DOCKERFILE_MATCH_STRINGS } from '../../src/generate/renovate.js';
import { RenovateManagers } from '../../src/generate/renovate-match.js';
import { CORPUS } from '../helpers/dockerfile-corpus.js';
import { renovateDist } from '../helpers/renovate.js';

interface Dep {
  depName?: string;
  currentValue?: string;
}

/** Renovate 44's own regex manager (lib/modules/manager/custom/regex), from the installed release. */
async function regexManager() {
  const { extractPackageFile } = (await import(
    pathToFileURL(join(renovateDist, 'modules/manager/custom/regex/index.js')).href
  )) as { extractPackageFile: (text: string, file: string, config: object) => { deps: Dep[] } | null };
  return extractPackageFile;
}

const manager = {
  customType: 'regex',
  matchStringsStrategy: 'recursive',
  matchStrings: DOCKERFILE_MATCH_STRINGS,
  datasourceTemplate: 'custom.apk-indexer',
};

/**
 * Where the regex manager and pin part, each for a stated reason: a Dockerfile escaped with backticks is not read
 * (`# escape=\``); a word apk refuses (`d=not_a_version`) is extracted and then dropped by Renovate as an invalid
 * version; an unterminated quote (a line the shell refuses) is read up to the line's end.
 */
const DIFFERENCES: Record<string, { extra?: string[]; missed?: string[] }> = {
  'words Renovate passes over': { extra: ['d=not_a_version', 'unterminated=1.0'] },
  'escape directive and CRLF': { missed: ['git=2.47.1-r0', 'less=668-r0'] },
};

describe("gen renovate's regex manager for Dockerfiles", () => {
  it.each(Object.entries(CORPUS))(
    '%s: Renovate extracts the plain name=version pins pin moves, at their place in the file',
    async (name, text) => {
      const extract = await regexManager();
      const theirs = (extract(text, 'Dockerfile', manager)?.deps ?? []).map((d) => `${d.depName}=${d.currentValue}`);
      const file = parseDockerfile(text, 'Dockerfile');
      // What pin moves and Renovate should track: `=` pins without a tag, written plainly (quotes allowed).
      const pins = file.packages.filter(
        (p) =>
          packageKind(p) === 'pin' &&
          p.tag === undefined &&
          /^["']?[\w.+-]+=[^"'\\$]+["']?$/.test(text.slice(...p.span)),
      );
      const { extra = [], missed = [] } = DIFFERENCES[name] ?? {};
      const expected = pins.map((p) => `${p.name}=${p.version}`).filter((p) => !missed.includes(p));
      expect(theirs.filter((d) => !extra.includes(d))).toEqual(expected);
      expect(theirs.filter((d) => extra.includes(d))).toEqual(extra);
      // The extra word apk refuses is no version to Renovate either: it is dropped before any lookup.
      const loose = await looseVersioning();
      for (const word of extra.filter((w) => !w.startsWith('unterminated')))
        expect(loose.isValid(word.split('=')[1]!), word).toBe(false);

      // check's model of Renovate finds each at the offsets of the version.
      const model = RenovateManagers.from(
        { customManagers: [{ ...manager, managerFilePatterns: ['/Dockerfile$/'] }] },
        'renovate.json',
      );
      const modelled = model
        .extract('Dockerfile', text)
        .filter((d) => !extra.includes(`${d.depName}=${d.currentValue}`));
      const found = pins.filter((p) => !missed.includes(`${p.name}=${p.version}`));
      expect(modelled.map((d) => [d.depName, text.slice(d.start, d.end)])).toEqual(
        found.map((p) => [p.name, p.version]),
      );
      expect(modelled.map((d) => d.start)).toEqual(found.map((p) => p.versionSpan![0]));
    },
  );

  it('writes out what it reads, and leaves the rest to check', async () => {
    const extract = await regexManager();
    const text = CORPUS['continuations, comments, chains']!;
    expect((extract(text, 'Dockerfile', manager)?.deps ?? []).map((d) => `${d.depName}=${d.currentValue}`)).toEqual([
      'bash=5.2.37-r0',
      'jq=1.7-r0',
      'gcc=14.2.0-r4',
      'z=1.0-r0',
      'tini=0.19.0-r3',
      'musl-dev=1.2.5-r8',
      // `echo apk add ...` runs no apk, but Renovate's own Dockerfile manager reads it as one, and so does this.
      'not-a-package=1',
    ]);
  });
});

async function looseVersioning() {
  return (
    (await import(pathToFileURL(join(renovateDist, 'modules/versioning/loose/index.js')).href)) as {
      api: { isValid(v: string): boolean };
    }
  ).api;
}
