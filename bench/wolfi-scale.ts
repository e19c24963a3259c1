import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFixtureKey, indexDataMember, signatureMember, type FixtureKey } from '../test/fixtures/apk-repo.js';

/**
 * A synthetic index shaped like Wolfi's x86_64 APKINDEX: every version ever built is kept, so a few thousand
 * origins with subpackages and long version histories make ~250k records and ~70 MB of text.
 */
export interface ScaleOptions {
  records: number;
  seed?: number;
  /** The arch every record names (`A:`); x86_64 by default. */
  arch?: string;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUFFIXES = ['', '-dev', '-doc', '-compat', '-bash-completion', '-libs', '-config'];
const WORDS = [
  'py3',
  'go',
  'lib',
  'rust',
  'node',
  'ruby',
  'perl',
  'php',
  'java',
  'tool',
  'server',
  'client',
  'kube',
  'argo',
  'cert',
  'crypt',
];

export function syntheticApkIndex(options: ScaleOptions): { text: string; names: string[] } {
  const random = rng(options.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const blocks: string[] = [];
  const names = new Set<string>();
  let origin = 0;
  while (blocks.length < options.records) {
    const base = `${pick(WORDS)}-${pick(WORDS)}${origin++}`;
    const subpackages = SUFFIXES.slice(0, 1 + Math.floor(random() * 4));
    const versions = 4 + Math.floor(random() * 40);
    let [major, minor, patch] = [Math.floor(random() * 20), Math.floor(random() * 30), 0];
    let time = 1_650_000_000 + Math.floor(random() * 1e7);
    const commitSeed = Math.floor(random() * 0xffffffff);
    const builds: Array<{ version: string; time: number; commit: string }> = [];
    for (let v = 0; v < versions; v++) {
      if (random() < 0.3) patch++;
      if (random() < 0.05) minor++;
      const epoch = Math.floor(random() * 3);
      time += Math.floor(random() * 500_000);
      builds.push({
        version: `${major}.${minor}.${patch}${random() < 0.03 ? '_rc1' : ''}-r${epoch}`,
        time,
        commit: (commitSeed + v * 2654435761).toString(16).padStart(8, '0').repeat(5).slice(0, 40),
      });
    }
    // Like melange's index writer: records grouped by package name.
    for (const suffix of subpackages) {
      const name = base + suffix;
      names.add(name);
      for (const { version, time, commit } of builds) {
        if (blocks.length >= options.records) break;
        const size = 1000 + Math.floor(random() * 5_000_000);
        const deps = Array.from(
          { length: Math.floor(random() * 3) },
          () => `so:lib${pick(WORDS)}.so.${Math.floor(random() * 4)}`,
        );
        blocks.push(
          `C:Q1${Buffer.from(`${name}${version}`).toString('base64').padEnd(27, 'A').slice(0, 27)}=\n` +
            `P:${name}\nV:${version}\nA:${options.arch ?? 'x86_64'}\nS:${size}\nI:${size * 3}\n` +
            `T:${base} ${suffix ? suffix.slice(1) : 'package'}\n` +
            `U:https://github.com/example/${base}\nL:Apache-2.0\no:${base}\nt:${time}\nc:${commit}\n` +
            (deps.length ? `D:${deps.join(' ')}\n` : '') +
            `p:cmd:${name}=${version} so:lib${name}.so.${major}=${major}.${minor}\n`,
        );
      }
    }
  }
  return { text: blocks.join('\n') + '\n', names: [...names] };
}

/** Writes `<dir>/<arch>/APKINDEX.tar.gz` for each arch (x86_64 alone by default), signed with a fresh key beside them. */
export async function writeScaleRepo(
  dir: string,
  options: ScaleOptions & { arches?: readonly string[] },
): Promise<{ indexPath: string; keyPath: string; key: FixtureKey; textBytes: number; names: string[] }> {
  const key = generateFixtureKey('bench.rsa.pub');
  let first: { indexPath: string; textBytes: number; names: string[] } | undefined;
  for (const [i, arch] of (options.arches ?? ['x86_64']).entries()) {
    const { text, names } = syntheticApkIndex({ ...options, arch, seed: (options.seed ?? 1) + i });
    const data = indexDataMember(text, 'synthetic wolfi-scale index');
    const archive = Buffer.concat([signatureMember(data, { key }), data]);
    await mkdir(join(dir, arch), { recursive: true });
    const indexPath = join(dir, arch, 'APKINDEX.tar.gz');
    await writeFile(indexPath, archive);
    first ??= { indexPath, textBytes: Buffer.byteLength(text), names };
  }
  const keyPath = join(dir, key.name);
  await writeFile(keyPath, key.publicPem);
  return { ...first!, keyPath, key };
}
