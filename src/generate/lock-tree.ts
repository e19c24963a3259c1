import { existsSync, readFileSync } from 'node:fs';
import { extname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toApkArch } from '../apko/arch.js';
import type { ResolvedImage } from '../apko/image.js';
import { configChecksum, lockPathOf } from '../apko/lock.js';
import { UsageError } from '../errors.js';
import { buildLock, packageUrl } from '../lock/build.js';
import type { HeadFetcher } from '../lock/head-fetch.js';
import { lockKeyring, type KeyringOptions } from '../lock/keyring.js';
import { parseLock, renderLock, type Lock, type LockPackage } from '../lock/lock-file.js';
import { resolveArches, solverRepositories, UniverseCache, worldOf, type Resolved } from '../resolve/arches.js';
import type { SolverUniverse } from '../resolve/solver.js';
import { securityNote } from './security.js';
import { heldRepositories, heldRepositoryOn, type VersionSource } from './version-source.js';

/** apko's arch list for an image: `--arch` (sorted by apko's name, as apko sorts it), else its `archs:`, else all. */
export function lockArches(image: ResolvedImage, flag: readonly string[]): string[] {
  if (flag.length > 0) {
    const apko = [...new Set(flag.map((a) => toApkoName(a)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return apko.map((a) => toApkArch(a) ?? a);
  }
  if (image.apkArches.length > 0) return image.apkArches;
  return ['x86', 'x86_64', 'aarch64', 'armhf', 'armv7', 'loongarch64', 'ppc64le', 'riscv64', 's390x'];
}

function toApkoName(arch: string): string {
  const map: Record<string, string> = {
    x86: '386',
    x86_64: 'amd64',
    aarch64: 'arm64',
    armhf: 'arm/v6',
    armv7: 'arm/v7',
    loongarch64: 'loong64',
  };
  return map[arch] ?? arch;
}

/** What the commands that resolve images share: the indexes with dependency data, caches, and where apko runs. */
export interface ResolveContext {
  root: string;
  source: VersionSource;
  universes: UniverseCache;
  /** `--arch`, as given. */
  arches: readonly string[];
}

export interface LockContext extends ResolveContext {
  fetcher: HeadFetcher;
  keyring: Omit<KeyringOptions, 'root'>;
}

/** A local repository that does not exist: apko skips it (melange has not built it yet). */
export function isAbsentLocal(url: string): boolean {
  if (!url.startsWith('file:')) return false;
  try {
    return !existsSync(fileURLToPath(url));
  } catch {
    return false;
  }
}

/** The solver's universes of an image, one per arch; a repository no index was read for is an error naming it. */
export function imageUniverses(image: ResolvedImage, arches: readonly string[], ctx: ResolveContext) {
  const universes = new Map<string, SolverUniverse>();
  for (const arch of arches) {
    const repositories = solverRepositories(image.repositories, arch, (repo, a) => {
      if (isAbsentLocal(repo.url)) return undefined;
      const held = heldRepositoryOn(ctx.source, repo.url, a);
      const index = held ? ctx.source.dependencies([held.name], a)?.[0] : undefined;
      if (!index)
        throw new UsageError(
          `${image.file.path}: repository ${repo.written} (${repo.where}) has no index for ${a} here${held ? '' : ' (pass it with --index, or --alias)'}`,
        );
      return index;
    });
    if (repositories.length === 0) throw new UsageError(`${image.file.path}: builds from no repository on ${arch}`);
    universes.set(arch, ctx.universes.get(repositories));
  }
  return universes;
}

/** An image's install set per arch, as apko resolves it (see resolveArches). */
export function resolveImage(
  image: ResolvedImage,
  ctx: ResolveContext,
  arches: readonly string[] = lockArches(image, ctx.arches),
): Resolved {
  if (image.chain.some((f) => /^\s*baseimage\s*:/m.test(f.text)))
    throw new UsageError(
      `${image.file.path}: contents.baseimage is not supported here (the base image's packages are not in any index); use apko lock`,
    );
  const world = worldOf(image.packages.map((p) => p.entry));
  return resolveArches(imageUniverses(image, arches, ctx), world);
}

/** The lines of one repository list of the include chain, included files first, as apko merges and trims them. */
function lines(image: ResolvedImage, pick: (f: ResolvedImage['chain'][number]) => { value: string }[]): string[] {
  return [...image.chain].reverse().flatMap((f) => pick(f).map((r) => r.value.replace(/\/+$/, '')));
}

/** The lock `apko lock FILE` would write for the image, `FILE` being its path from the working directory. */
export async function lockImage(
  image: ResolvedImage,
  ctx: LockContext,
  arches?: readonly string[],
  name = image.file.path,
) {
  const resolved = resolveImage(image, ctx, arches);
  const buildRepositories = lines(image, (f) => f.buildRepositories);
  const runtimeRepositories = lines(image, (f) => f.runtimeRepositories);
  const repositories = lines(image, (f) => f.repositories);
  const keys = [...image.chain].reverse().flatMap((f) => f.keyring.map((k) => k.value));
  const keyring = await lockKeyring(
    keys,
    [...buildRepositories, ...runtimeRepositories, ...repositories],
    resolved.arches.map((a) => a.arch),
    { ...ctx.keyring, root: ctx.root },
  );
  const lock = await buildLock(
    {
      name,
      checksum: configChecksum(image),
      keyring,
      buildRepositories,
      runtimeRepositories,
      repositories,
      installs: resolved.arches,
    },
    ctx.fetcher,
    (c) => packageLocation(c, image, ctx.source),
  );
  return { lock, resolved };
}

/** Where a package's bytes are read: the repository's index location (a mirror or local copy given with --alias). */
function packageLocation(c: Parameters<typeof packageUrl>[0], image: ResolvedImage, source: VersionSource): string {
  const line = c.repository.uri.slice(0, c.repository.uri.lastIndexOf('/'));
  const arch = c.repository.uri.slice(line.length + 1);
  const repo = image.repositories.find(
    (r) => (r.tag === undefined ? r.written : r.written.split(/\s+/)[1]!).trim().replace(/\/+$/, '') === line,
  );
  const held = repo && heldRepositoryOn(source, repo.url, arch);
  const base = held?.urls[0] ?? repo?.url;
  return base ? `${base}/${arch}/${c.record.name}-${c.record.version}.apk` : packageUrl(c);
}

/** An image's lock file, if it has one: where, and what it holds. */
export function readImageLock(image: ResolvedImage): { path: string; lock: Lock; text: string } | undefined {
  const path = lockPathOf(image);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  // Named as the image is (from the working directory), beside it.
  const shown = image.file.path.slice(0, image.file.path.length - extname(image.file.path).length);
  return { path, lock: parseLock(text, `${shown}.lock.json`), text };
}

/** One package that moved on one arch, with the security IDs the move fixes. */
export interface LockMove {
  arch: string;
  name: string;
  from: string | undefined;
  to: string | undefined;
  fixes: string[];
}

/** What `lock --update` found for one image. */
export interface LockUpdate {
  image: string;
  lockFile: string;
  moves: LockMove[];
  /** The new lock's text; equal to the old one when the lock is current. */
  text: string;
  changed: boolean;
}

/** Packages per arch of a lock: name -> version. */
function versionsByArch(packages: readonly LockPackage[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const p of packages) {
    const arch = out.get(p.architecture) ?? new Map<string, string>();
    arch.set(p.name, p.version);
    out.set(p.architecture, arch);
  }
  return out;
}

/** The moves from one lock to the next, per arch, with the fixes each brings (from the source's security data). */
export async function lockMoves(before: Lock | undefined, after: Lock, source: VersionSource): Promise<LockMove[]> {
  const old = versionsByArch(before?.contents.packages ?? []);
  const next = versionsByArch(after.contents.packages);
  const moves: LockMove[] = [];
  for (const arch of new Set([...old.keys(), ...next.keys()])) {
    const a = old.get(arch) ?? new Map<string, string>();
    const b = next.get(arch) ?? new Map<string, string>();
    const names = [...new Set([...a.keys(), ...b.keys()])].sort();
    for (const name of names) {
      const from = a.get(name);
      const to = b.get(name);
      if (from === to) continue;
      const note = to && from ? await securityNote(source.fixSource, name, from, to, [arch]) : undefined;
      moves.push({ arch, name, from, to, fixes: note?.ids ?? [] });
    }
  }
  return moves;
}

/** Re-resolves an image that has a lock and says what would move; the lock is written by the caller. */
export async function updateLock(image: ResolvedImage, ctx: LockContext): Promise<LockUpdate | undefined> {
  const existing = readImageLock(image);
  if (!existing) return undefined;
  // Kept for the arches it was written for, unless --arch says otherwise.
  const c = existing.lock.contents;
  const recorded = [
    ...new Set([...c.build_repositories, ...c.runtime_repositories, ...c.repositories].map((r) => r.architecture)),
  ].filter((a): a is string => typeof a === 'string');
  // The name apko was given when the lock was written stays (apko build does not compare it).
  const { lock } = await lockImage(
    image,
    ctx,
    ctx.arches.length === 0 && recorded.length > 0 ? recorded : undefined,
    existing.lock.config.name || image.file.path,
  );
  const text = renderLock(lock);
  return {
    image: image.file.path,
    lockFile: relative(ctx.root, existing.path),
    moves: await lockMoves(existing.lock, lock, ctx.source),
    text,
    changed: text !== existing.text,
  };
}

/** What `check` says about an image's lock beyond its config checksum: packages gone or changed, arches that disagree. */
export async function verifyLock(
  image: ResolvedImage,
  lock: Lock,
  source: VersionSource,
): Promise<{ severity: 'error' | 'warning'; message: string }[]> {
  const out: { severity: 'error' | 'warning'; message: string }[] = [];
  const held = [...new Set(image.repositories.flatMap((r) => heldRepositories(source, r.url).map((h) => h.name)))];
  const byName = new Map<string, Map<string, string>>();
  for (const p of lock.contents.packages) {
    const versions = byName.get(p.name) ?? new Map<string, string>();
    versions.set(p.architecture, p.version);
    byName.set(p.name, versions);
    const data = source.dependencies(held, p.architecture);
    if (data !== undefined) {
      const records = data.flatMap((index) => index.byName.get(p.name) ?? []).filter((r) => r.version === p.version);
      if (records.length === 0)
        out.push({
          severity: 'error',
          message: `locked ${p.name}-${p.version} (${p.architecture}) is no longer in the image's repositories (withdrawn upstream?): apko build --lockfile cannot fetch it; run apk-indexer lock --update`,
        });
      else if (p.checksum && !records.some((r) => r.checksum === p.checksum))
        out.push({
          severity: 'error',
          message: `locked ${p.name}-${p.version} (${p.architecture}) has checksum ${p.checksum}, the index now says ${records[0]!.checksum} (rebuilt under the same version): apko build --lockfile refuses it; run apk-indexer lock --update`,
        });
    } else if (!(await source.versions(p.name, [p.architecture], held))?.includes(p.version)) {
      out.push({
        severity: 'error',
        message: `locked ${p.name}-${p.version} (${p.architecture}) is no longer in the image's repositories (withdrawn upstream?): apko build --lockfile cannot fetch it; run apk-indexer lock --update`,
      });
    }
  }
  const differ = [...byName].filter(([, v]) => new Set(v.values()).size > 1);
  if (differ.length > 0)
    out.push({
      severity: 'error',
      message: `the lock's arches disagree: ${differ
        .map(([name, v]) => `${name} ${[...v].map(([arch, version]) => `${version} on ${arch}`).join(', ')}`)
        .join('; ')}; run apk-indexer lock --update`,
    });
  return out;
}
