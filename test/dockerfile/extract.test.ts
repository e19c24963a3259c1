import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isDockerfilePath, parseDockerfile } from '../../src/dockerfile/dockerfile.js';
import { CORPUS } from '../helpers/dockerfile-corpus.js';
import { renovateDist } from '../helpers/renovate.js';

interface RenovateDep {
  datasource?: string;
  depName?: string;
  currentValue?: string;
  skipReason?: string;
}

/** Renovate 44's own Dockerfile manager and apk versioning, loaded from the installed release. */
async function renovate() {
  const load = (path: string) => import(pathToFileURL(join(renovateDist, path)).href);
  const { extractPackageFile } = (await load('modules/manager/dockerfile/extract.js')) as {
    extractPackageFile: (text: string, file: string, config: object) => { deps: RenovateDep[] } | null;
  };
  const { api } = (await load('modules/versioning/apk/index.js')) as {
    api: { isValid(v: string): boolean; isSingleVersion(v: string): boolean };
  };
  const { defaultConfig } = (await load('modules/manager/dockerfile/index.js')) as {
    defaultConfig: { managerFilePatterns: string[] };
  };
  return { extractPackageFile, api, defaultConfig };
}

describe('Dockerfile apk add pins, read as Renovate 44 reads them', () => {
  it.each(Object.entries(CORPUS))('%s: the same packages, versions and skip reasons as Renovate', async (_, text) => {
    const { extractPackageFile, api } = await renovate();
    const theirs = (extractPackageFile(text, 'Dockerfile', {})?.deps ?? [])
      .filter((d) => d.datasource === 'apk')
      .map((d) => [d.depName, d.currentValue ?? d.skipReason]);
    const file = parseDockerfile(text, 'Dockerfile');
    const ours = file.packages.map((p) => {
      if (p.operator === undefined) return [p.name, 'unspecified-version'];
      if (p.version!.includes('$')) return [p.name, 'contains-variable'];
      const constraint = p.operator + p.version!;
      if (!api.isValid(constraint)) return [p.name, 'unsupported-version'];
      return [p.name, api.isSingleVersion(constraint) ? p.version : constraint];
    });
    // The one deliberate difference (src/dockerfile/shell-words.ts): an operator inside a word ends it, as in the
    // shell. Renovate reads `gcc=14.2.0-r4;echo` as one word, an unsupported version, and `done` as a package.
    const shellReads: Record<string, [string, string][]> = {
      'gcc=unsupported-version': [['gcc', '14.2.0-r4']],
      'done=unspecified-version': [],
      'z=unsupported-version': [['z', '1.0-r0']],
      'log=unspecified-version': [],
    };
    const expected = text.includes('gcc=14.2.0-r4;echo')
      ? theirs.flatMap((d) => shellReads[d.join('=')] ?? [d])
      : theirs;
    expect(ours).toEqual(expected);
    expect(ours.length).toBeGreaterThan(0);
    // Every version written in one piece is found at its place in the file.
    for (const p of file.packages)
      if (p.versionSpan) expect(text.slice(p.versionSpan[0], p.versionSpan[1])).toBe(p.version);
  });

  it('writes out what the first Dockerfile holds, line by line', () => {
    const file = parseDockerfile(CORPUS['continuations, comments, chains']!, 'Dockerfile');
    expect(
      file.packages.map((p) => `${p.line} ${p.name}${p.tag ? `@${p.tag}` : ''} ${p.operator ?? ''}${p.version ?? ''}`),
    ).toEqual([
      '3 bash =5.2.37-r0',
      '5 curl@edge =8.12.1-r1',
      '5 jq =1.7-r0',
      '5 ca-certificates ',
      '5 openssl >=3.3',
      '5 zlib ~1.3',
      '5 nodejs =${NODE}',
      '6 gcc =14.2.0-r4',
      '7 z =1.0-r0',
      '8 tini =0.19.0-r3',
      '8 musl-dev =1.2.5-r8',
      '9 not-a-package =1',
    ]);
    // The quoted word is edited inside its quotes.
    const jq = file.packages.find((p) => p.name === 'jq')!;
    expect(file.text.slice(jq.span[0], jq.span[1])).toBe('"jq=1.7-r0"');
  });

  it('reads the stages: ARG defaults, --platform, aliases', () => {
    const file = parseDockerfile(CORPUS.stages!, 'Dockerfile');
    expect(file.stages).toEqual([
      { line: 3, written: '${BASE}', image: 'ghcr.io/me/host:1.2', platform: 'linux/arm64', alias: 'build' },
      { line: 5, written: 'build', image: 'build', platform: undefined, alias: undefined },
      { line: 7, written: 'scratch', image: 'scratch', platform: undefined, alias: undefined },
    ]);
    expect(file.packages.map((p) => [p.name, p.stage])).toEqual([
      ['make', 0],
      ['bash', 1],
    ]);
  });

  it("finds the files Renovate's Dockerfile manager reads", async () => {
    const { defaultConfig } = await renovate();
    const patterns = defaultConfig.managerFilePatterns.map((p) => new RegExp(p.slice(1, -1)));
    for (const path of [
      'Dockerfile',
      'Containerfile',
      'dockerfile',
      'images/Dockerfile',
      'images/host.Dockerfile',
      'Dockerfile.dev',
      'ci/Containerfile-arm',
      'DockerfileX',
      'notaDockerfile',
      'Dockerfiles/readme.md',
      'docker/compose.yaml',
    ])
      expect(isDockerfilePath(path), path).toBe(patterns.some((re) => re.test(path)));
  });
});
