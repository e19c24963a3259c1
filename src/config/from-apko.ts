import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from './errors.js';

/** apko's arch names and the APK names repositories use. */
const APKO_ARCH: Record<string, string> = {
  amd64: 'x86_64', x86_64: 'x86_64', arm64: 'aarch64', aarch64: 'aarch64', 'arm/v7': 'armv7', armv7: 'armv7',
  'arm/v6': 'armhf', armhf: 'armhf', '386': 'x86', x86: 'x86', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loongarch64',
};

export function apkArch(apkoArch: string): string {
  const arch = APKO_ARCH[apkoArch];
  if (!arch) throw new ConfigError(`unknown apko arch "${apkoArch}"`);
  return arch;
}

export interface ApkoSources {
  repositories: string[];
  keyring: string[];
  arches: string[];
}

/**
 * Repositories, keyring and archs of apko image files, following `include:` the way apko does
 * (relative to the working directory). An `@tag ` prefix on a repository is dropped.
 */
export function readApkoSources(files: readonly string[], cwd = process.cwd()): ApkoSources {
  const out: ApkoSources = { repositories: [], keyring: [], arches: [] };
  const seen = new Set<string>();
  const visit = (file: string, depth: number) => {
    const path = resolve(cwd, file);
    if (seen.has(path)) return;
    if (depth > 16) throw new ConfigError(`${file}: include chain deeper than 16 files`);
    seen.add(path);
    let doc: unknown;
    try {
      doc = parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError(`--from-apko ${file}: ${(err as Error).message}`);
    }
    const image = (doc ?? {}) as { include?: unknown; contents?: { repositories?: unknown; keyring?: unknown }; archs?: unknown };
    if (typeof image.include === 'string') visit(image.include, depth + 1);
    for (const repo of asStrings(image.contents?.repositories, `${file}: contents.repositories`)) {
      const url = repo.replace(/^@\S+\s+/, '').trim();
      if (!out.repositories.includes(url)) out.repositories.push(url);
    }
    for (const key of asStrings(image.contents?.keyring, `${file}: contents.keyring`)) if (!out.keyring.includes(key)) out.keyring.push(key);
    for (const arch of asStrings(image.archs, `${file}: archs`)) {
      const apk = apkArch(arch);
      if (!out.arches.includes(apk)) out.arches.push(apk);
    }
  };
  for (const f of files) visit(f, 0);
  return out;
}

function asStrings(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ConfigError(`${where}: expected a list of strings`);
  return value as string[];
}
