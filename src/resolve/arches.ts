import type { ImageRepository } from '../apko/repository.js';
import { ArchDisagreementError, ArchUnsatisfiableError, UnsatisfiableError } from '../errors.js';
import type { DependencyIndex } from '../index/dependency-index.js';
import { disqualifyDifference, label, solve, SolverUniverse, type Candidate, type SolverRepository } from './solver.js';

/** apko's world: the package entries of the include chain, each once, sorted (apko passes a sorted set). */
export function worldOf(entries: readonly string[]): string[] {
  return [...new Set(entries)].sort(byteOrder);
}

/** Go's string order (bytes of UTF-8), which apko sorts its sets in. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The repositories apko resolves from on one arch, in its order (a sorted set of the repository lines): each line's
 * index on that arch, found by `indexOf`; a line without one (a local folder not built yet) is skipped, as apko
 * skips it.
 */
export function solverRepositories(
  repositories: readonly ImageRepository[],
  arch: string,
  indexOf: (repository: ImageRepository, arch: string) => DependencyIndex | undefined,
): SolverRepository[] {
  const lines = new Map<string, ImageRepository>();
  for (const r of repositories) {
    const line = r.written.trim().replace(/\/+$/, '');
    if (!lines.has(line)) lines.set(line, r);
  }
  return [...lines.keys()].sort(byteOrder).flatMap((line) => {
    const repository = lines.get(line)!;
    const index = indexOf(repository, arch);
    if (!index) return [];
    const location = repository.tag === undefined ? line : line.split(/\s+/)[1]!;
    return [{ tag: repository.tag ?? '', uri: `${location}/${arch}`, index }];
  });
}

/** Universes are built once per arch and set of repositories, and shared by every image resolved over them. */
export class UniverseCache {
  private readonly cache = new Map<string, SolverUniverse>();
  private readonly ids = new WeakMap<DependencyIndex, number>();
  private next = 0;

  get(repositories: readonly SolverRepository[]): SolverUniverse {
    const key = repositories.map((r) => `${r.tag} ${r.uri} ${this.id(r.index)}`).join('\n');
    let universe = this.cache.get(key);
    if (!universe) {
      universe = new SolverUniverse(repositories);
      this.cache.set(key, universe);
    }
    return universe;
  }

  private id(index: DependencyIndex): number {
    let id = this.ids.get(index);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(index, id);
    }
    return id;
  }
}

/** An install set per arch, in install order. */
export interface ArchInstall {
  arch: string;
  packages: Candidate[];
}

export interface Resolved {
  arches: ArchInstall[];
  /**
   * `per-arch`: each arch resolved alone, as `apko lock` does, and they agree. `common`: they did not, so only
   * versions present on every arch were candidates, as `apko build` resolves several arches.
   */
  how: 'per-arch' | 'common';
}

/**
 * Resolves a world on each arch. First each arch alone, as `apko lock` does; when those agree (every package
 * installed on several arches has one version), that is the answer, equal to apko's. When they do not (an arch is
 * ahead), again with only versions present on every arch, as `apko build` does for several arches; when even that
 * fails, the arches cannot agree: an error naming what differs (apko's lock command would write the disagreement).
 */
export function resolveArches(universes: ReadonlyMap<string, SolverUniverse>, world: readonly string[]): Resolved {
  const alone: ArchInstall[] = [];
  const failed: ArchUnsatisfiableError[] = [];
  for (const [arch, universe] of universes) {
    try {
      alone.push({ arch, packages: solveOn(arch, universe, world) });
    } catch (err) {
      if (!(err instanceof ArchUnsatisfiableError)) throw err;
      failed.push(err);
    }
  }
  // Unsatisfiable everywhere: the package list itself is wrong.
  if (failed.length > 0 && alone.length === 0) throw failed[0]!;
  if (failed.length > 0)
    throw new ArchDisagreementError(
      [],
      failed[0]!,
      alone.map((a) => a.arch),
    );
  const differences = disagreements(alone);
  if (differences.length === 0) return { arches: alone, how: 'per-arch' };
  const dq = disqualifyDifference(universes);
  try {
    const common = [...universes].map(([arch, universe]) => ({ arch, packages: solveOn(arch, universe, world, dq) }));
    return { arches: common, how: 'common' };
  } catch (err) {
    if (err instanceof ArchUnsatisfiableError) throw new ArchDisagreementError(differences, err);
    throw err;
  }
}

/**
 * As `apko build` resolves several arches: only versions present on every arch are candidates, and each arch
 * resolves (or fails) on its own.
 */
export function resolveCommon(
  universes: ReadonlyMap<string, SolverUniverse>,
  world: readonly string[],
): (ArchInstall | ArchUnsatisfiableError)[] {
  const dq = disqualifyDifference(universes);
  return [...universes].map(([arch, universe]) => {
    try {
      return { arch, packages: solveOn(arch, universe, world, dq) };
    } catch (err) {
      if (err instanceof ArchUnsatisfiableError) return err;
      throw err;
    }
  });
}

function solveOn(
  arch: string,
  universe: SolverUniverse,
  world: readonly string[],
  dq?: Parameters<typeof solve>[2],
): Candidate[] {
  try {
    return solve(universe, world, dq);
  } catch (err) {
    if (err instanceof UnsatisfiableError) throw new ArchUnsatisfiableError(arch, err);
    throw err;
  }
}

function disagreements(arches: readonly ArchInstall[]) {
  const byName = new Map<string, { arch: string; version: string }[]>();
  for (const a of arches)
    for (const p of a.packages) {
      const list = byName.get(p.record.name) ?? [];
      list.push({ arch: a.arch, version: p.record.version });
      byName.set(p.record.name, list);
    }
  return [...byName]
    .filter(([, versions]) => new Set(versions.map((v) => v.version)).size > 1)
    .map(([name, versions]) => ({ name, versions }))
    .sort((a, b) => byteOrder(a.name, b.name));
}

/** The chain of requirers that pulled `name` in, as `apk info -r` walks it, for `resolve --why`. */
export function whyInstalled(packages: readonly Candidate[], world: readonly string[], name: string): string[][] {
  const installed = new Map(packages.map((p) => [p.record.name, p]));
  if (!installed.has(name)) return [];
  const providers = (token: string): Candidate[] => {
    const wanted = token.replace(/^([^=<>~@]+).*$/, '$1');
    return packages.filter(
      (p) => p.record.name === wanted || p.record.provides.some((pr) => pr.replace(/[=<>~].*$/, '') === wanted),
    );
  };
  // Breadth first from the world: the shortest chain to the package.
  const from = new Map<string, string | undefined>();
  const queue: string[] = [];
  for (const entry of world)
    for (const p of providers(entry))
      if (!from.has(p.record.name)) {
        from.set(p.record.name, undefined);
        queue.push(p.record.name);
      }
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const dep of installed.get(current)!.record.depends) {
      if (dep.startsWith('!')) continue;
      for (const p of providers(dep))
        if (!from.has(p.record.name)) {
          from.set(p.record.name, current);
          queue.push(p.record.name);
        }
    }
  }
  if (!from.has(name)) return [[label(installed.get(name)!.record), '(install_if)']];
  const chain: string[] = [];
  for (let at: string | undefined = name; at !== undefined; at = from.get(at))
    chain.push(label(installed.get(at)!.record));
  return [chain];
}
