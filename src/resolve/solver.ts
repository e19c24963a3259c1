import type { DependencyIndex, DependencyRecord } from '../index/dependency-index.js';
import { UnsatisfiableError } from '../errors.js';
import { compareVersions, isValidVersion as validVersion } from '../index/version.js';
import { constraintName, parseConstraint, parseUncached, satisfies, type Constraint } from './constraint.js';

/**
 * apko's package solver (go-apk's `PkgResolver`, which `apko build` and `apko lock` resolve with), one arch at a
 * time. It is not apk-tools' solver, and where they differ apko's choice is the one an image gets:
 *
 * - The world is visited sorted (apko passes a sorted set), each world entry's dependencies depth first, in the
 *   order of their fewest candidates; the install order is dependencies before their dependents, by world entry.
 * - Among candidates: a version already chosen, then an origin already pulled in at that version, then the
 *   untagged repository (or the tag asked for), the newest version of the name asked for, the newest of the
 *   package's own name, the highest `provider_priority` (`k:`), then the newest build whatever its repository
 *   (apk prefers the first repository), then the name.
 * - `install_if` is honoured only within one world entry's own dependencies (apk looks at the whole world), and
 *   what it adds is not resolved further.
 * - It does not backtrack: the first choice that fails is the error (apk searches on).
 * - `replaces` (`r:`) plays no part in choosing, in either: it only lets one package overwrite another's files.
 */
export interface SolverRepository {
  /** The repository line's `@tag`; '' for an untagged one. Only `name@tag` entries (and their dependencies) use it. */
  tag: string;
  /** The repository as apko names its packages: the URL as written, without its tag, then `/<arch>`. */
  uri: string;
  index: DependencyIndex;
}

/** A package of one repository. */
export interface Candidate {
  record: DependencyRecord;
  repository: SolverRepository;
}

/** Why a candidate may not be chosen (go-apk's disqualification reasons). */
export type Disqualified = Map<Candidate, string>;

/** The packages of one arch's repositories, indexed once and shared by every resolution over them. */
export class SolverUniverse {
  readonly nameMap = new Map<string, Candidate[]>();
  readonly installIfMap = new Map<string, Candidate[]>();
  readonly candidates: Candidate[] = [];

  constructor(readonly repositories: readonly SolverRepository[]) {
    for (const repository of repositories) {
      for (const record of repository.index.records) {
        const candidate: Candidate = { record, repository };
        this.candidates.push(candidate);
        push(this.nameMap, record.name, candidate);
        for (const token of record.installIf) push(this.installIfMap, token, candidate);
      }
    }
    for (const candidate of this.candidates)
      for (const provide of candidate.record.provides) push(this.nameMap, constraintName(provide), candidate);
  }
}

/**
 * The candidates of each arch that are missing (by name and version) on another arch: `apko build` for several
 * arches never installs them (go-apk's `disqualifyDifference`), so every arch gets the same versions.
 */
export function disqualifyDifference(universes: ReadonlyMap<string, SolverUniverse>): Disqualified {
  const dq: Disqualified = new Map();
  if (universes.size < 2) return dq;
  const present = new Map<string, Set<string>>();
  for (const [arch, universe] of universes)
    present.set(arch, new Set(universe.candidates.map((c) => `${c.record.name}\u0000${c.record.version}`)));
  for (const [arch, universe] of universes) {
    for (const [other, versions] of present) {
      if (other === arch) continue;
      for (const c of universe.candidates) {
        if (!versions.has(`${c.record.name}\u0000${c.record.version}`))
          dq.set(c, `${filename(c.record)} is not available for arch ${other}`);
      }
    }
  }
  return dq;
}

/** One resolution of a world over a universe. */
export function solve(universe: SolverUniverse, world: readonly string[], initialDq?: Disqualified): Candidate[] {
  return new Resolution(universe, new Map(initialDq)).run(world);
}

/**
 * The candidates a world entry has before anything is chosen, once the whole world has constrained them (none: the
 * entry itself cannot be installed, or another entry pins it otherwise).
 */
export function worldCandidates(
  universe: SolverUniverse,
  token: string,
  dq?: Disqualified,
  world: readonly string[] = [token],
): Candidate[] {
  try {
    return new Resolution(universe, new Map(dq)).candidates(token, world);
  } catch (err) {
    if (err instanceof UnsatisfiableError) return [];
    throw err;
  }
}

export function filename(record: DependencyRecord): string {
  return `${record.name}-${record.version}.apk`;
}

export function label(record: DependencyRecord): string {
  return `${record.name}-${record.version}`;
}

/** Who asked for a dependency, nearest first, kept as links and spelled out only for an error. */
interface Chain {
  readonly record?: DependencyRecord;
  readonly world?: string;
  readonly up: Chain | undefined;
}

function requirers(chain: Chain | undefined): string[] {
  const out: string[] = [];
  for (let at = chain; at; at = at.up) out.push(at.record ? label(at.record) : `world[${at.world}]`);
  return out;
}

class Resolution {
  /** Short-circuits providers already chosen (go-apk's `selected`). */
  private readonly selected = new Map<string, Candidate>();
  /**
   * Packages whose conflicts, and whose dependencies' constraints, were already applied: disqualifying only ever
   * adds, so applying them again changes nothing (go-apk does it again each time it meets the package).
   */
  private readonly conflictsApplied = new Set<Candidate>();
  private readonly constrained = new Set<Candidate>();

  constructor(
    private readonly u: SolverUniverse,
    private readonly dq: Disqualified,
  ) {}

  run(packages: readonly string[]): Candidate[] {
    let constraints = [...packages];
    const dependenciesMap = new Map<string, Candidate>();
    const installTracked = new Set<string>();
    const toInstall: Candidate[] = [];
    this.constrain(constraints, undefined);
    while (constraints.length > 0) {
      const next = this.nextPackage(constraints);
      const pkg = this.resolvePackage(next, undefined);
      dependenciesMap.set(pkg.record.name, pkg);
      constraints = constraints.filter((c) => c !== next);
      this.disqualifyConflicts(pkg);
    }
    for (const name of packages) {
      const { pkg, deps } = this.packageWithDependencies(name, dependenciesMap);
      for (const dep of deps) {
        if (!installTracked.has(dep.record.name)) {
          toInstall.push(dep);
          installTracked.add(dep.record.name);
        }
        if (!dependenciesMap.has(dep.record.name)) dependenciesMap.set(dep.record.name, dep);
      }
      if (!installTracked.has(pkg.record.name)) {
        toInstall.push(pkg);
        installTracked.add(pkg.record.name);
      }
      if (!dependenciesMap.has(pkg.record.name)) dependenciesMap.set(pkg.record.name, pkg);
    }
    return toInstall;
  }

  candidates(token: string, world: readonly string[]): Candidate[] {
    this.constrain(world, undefined);
    return this.candidatesFor(token, undefined);
  }

  /** The world entry with the fewest candidates first. */
  private nextPackage(packages: readonly string[]): string {
    let next = '';
    let least = 0;
    for (const name of packages) {
      const count = this.candidatesFor(name, undefined).length;
      if (next === '' || count < least) {
        next = name;
        least = count;
      }
    }
    return next;
  }

  /** The non-disqualified candidates for a world entry, best first (go-apk's `ResolvePackage`). */
  private candidatesFor(token: string, chain: Chain | undefined): Candidate[] {
    const c = parseConstraint(token);
    if (token.startsWith('!') && chain === undefined)
      throw new UnsatisfiableError(
        token,
        [],
        `apko looks for a package named ${token}: it does not take !name in contents.packages (chainguard-dev/apko#687)`,
      );
    const all = this.u.nameMap.get(c.name);
    if (!all) throw new UnsatisfiableError(token, requirers(chain), `nothing provides ${c.name}`);
    const found = this.filter(all, c, { preferPin: c.tag });
    if (found.length === 0) throw this.dqError(token, chain, all, c);
    return found;
  }

  private resolvePackage(token: string, chain: Chain | undefined): Candidate {
    const c = parseConstraint(token);
    const found = this.candidatesFor(token, chain);
    return this.best(found, c.name, undefined, undefined, c.tag);
  }

  private packageWithDependencies(
    token: string,
    existing: ReadonlyMap<string, Candidate>,
  ): { pkg: Candidate; deps: Candidate[] } {
    const local = new Map(existing);
    const origins = new Map<string, string>();
    for (const v of existing.values()) if (v.record.origin) origins.set(v.record.origin, v.record.version);
    const pkg = this.resolvePackage(token, undefined);
    const pin = parseConstraint(token).tag;
    const deps = this.dependencies(pkg, pin, new Set(), local, origins, { world: token, up: undefined });
    const added = new Map<string, Candidate>();
    const dependencies: Candidate[] = [];
    for (const dep of deps) {
      if (!added.has(dep.record.name)) {
        dependencies.push(dep);
        added.set(dep.record.name, dep);
      }
    }
    // install_if, only against this entry's own dependencies.
    for (const [name, depPkg] of [...added]) {
      const list =
        this.u.installIfMap.get(name) ?? this.u.installIfMap.get(`${name}=${depPkg.record.version}`) ?? undefined;
      if (!list) continue;
      for (const candidate of list) {
        const all = candidate.record.installIf.every((sub) => {
          if (added.has(sub)) return true;
          const c = parseConstraint(sub);
          return added.get(c.name)?.record.version === c.version;
        });
        if (all && !added.has(candidate.record.name)) {
          dependencies.push(candidate);
          added.set(candidate.record.name, candidate);
        }
      }
    }
    return { pkg, deps: dependencies };
  }

  /**
   * go-apk's `getPackageDependencies`: depth first, the dependency with the fewest candidates first, children
   * before their parent. `chain` is who asked, for errors.
   */
  private dependencies(
    pkg: Candidate,
    allowPin: string,
    parents: Set<string>,
    existing: Map<string, Candidate>,
    origins: Map<string, string>,
    chain: Chain | undefined,
  ): Candidate[] {
    if (parents.has(pkg.record.name)) return [];
    const here: Chain = { record: pkg.record, up: chain };
    const myProvides = new Set<string>(pkg.record.provides);
    for (const provide of providesOf(pkg.record)) myProvides.add(provide.name);
    let constraints = [...pkg.record.depends];
    if (!this.constrained.has(pkg)) {
      this.constrain(constraints, here);
      this.constrained.add(pkg);
    }
    const dependencies: Candidate[] = [];
    while (constraints.length > 0) {
      const options = new Map<string, Candidate[]>();
      for (const dep of constraints) {
        if (dep.startsWith('!')) continue;
        const c = parseConstraint(dep);
        if (myProvides.has(c.name) || myProvides.has(dep)) continue;
        if (pkg.record.name === c.name && isValidVersion(pkg.record.version)) {
          if (c.operator === undefined || (isValidVersion(c.version) && fits(pkg.record.version, c))) continue;
        }
        const picked = this.selected.get(c.name);
        if (picked) {
          if (c.version === '') continue;
          if (!isValidVersion(picked.record.version) || !isValidVersion(c.version))
            throw new UnsatisfiableError(dep, requirers(here), `invalid version in ${label(picked.record)} or ${dep}`);
          const byProvide = providesOf(picked.record).some(
            (pc) => pc.name === c.name && pc.version !== '' && isValidVersion(pc.version) && fits(pc.version, c),
          );
          if (byProvide || fits(picked.record.version, c)) continue;
          throw new UnsatisfiableError(
            dep,
            requirers(here),
            `${picked.record.name}=${picked.record.version} is already selected and does not satisfy it`,
          );
        }
        const all = this.u.nameMap.get(c.name);
        if (!all) throw new UnsatisfiableError(dep, requirers(here), `nothing provides ${c.name}`);
        const found = this.filter(all, c, { allowPin, installed: existing.get(c.name) });
        if (found.length === 0) throw this.dqError(dep, here, all, c);
        options.set(dep, found);
      }
      constraints = [...options.keys()];
      if (constraints.length === 0) continue;
      let lowest = '';
      for (const [k, v] of options) {
        const low = options.get(lowest);
        if (lowest === '' || v.length < low!.length || (v.length === low!.length && k < lowest)) lowest = k;
      }
      const name = parseConstraint(lowest).name;
      constraints = constraints.filter((c) => c !== lowest);
      const depPkg = this.best(options.get(lowest)!, name, existing, origins, '');
      this.disqualifyConflicts(depPkg);
      // Each child sees its parents and this package; one set, grown and shrunk around the call.
      parents.add(pkg.record.name);
      this.pick(pkg, chain);
      let sub: Candidate[];
      try {
        sub = this.dependencies(depPkg, allowPin, parents, existing, origins, here);
      } finally {
        parents.delete(pkg.record.name);
      }
      dependencies.push(...sub, depPkg);
      for (const d of sub) {
        existing.set(d.record.name, d);
        if (d.record.origin) origins.set(d.record.origin, d.record.version);
      }
    }
    return dependencies;
  }

  private pick(pkg: Candidate, chain: Chain | undefined): void {
    const conflict = this.selected.get(pkg.record.name);
    if (conflict) {
      if (conflict === pkg) return;
      throw new UnsatisfiableError(
        pkg.record.name,
        requirers(chain),
        `${filename(pkg.record)} conflicts with ${filename(conflict.record)} on ${pkg.record.name}`,
      );
    }
    this.selected.set(pkg.record.name, pkg);
    for (const c of providesOf(pkg.record)) {
      const other = this.selected.get(c.name);
      if (other)
        throw new UnsatisfiableError(
          pkg.record.name,
          requirers(chain),
          `${filename(pkg.record)} conflicts with ${filename(other.record)} on ${c.name}`,
        );
      if (c.version === '') continue;
      this.selected.set(c.name, pkg);
    }
  }

  /** Versioned dependencies disqualify what cannot satisfy them; `!name` disqualifies what provides name. */
  private constrain(constraints: readonly string[], chain: Chain | undefined): void {
    for (const token of constraints) {
      if (token.startsWith('!')) {
        this.disqualifyProviders(token.slice(1));
        continue;
      }
      const c = parseConstraint(token);
      if (c.operator === undefined) continue;
      const providers = this.u.nameMap.get(c.name);
      if (!providers) continue;
      if (!isValidVersion(c.version))
        throw new UnsatisfiableError(token, requirers(chain), `${c.version} is not a valid version`);
      for (const provider of providers) {
        const r = provider.record;
        if (r.name === c.name) {
          if (!isValidVersion(r.version)) this.dq.set(provider, `version ${r.version} is not valid`);
          else if (!fits(r.version, c)) this.dq.set(provider, `${r.version} does not satisfy ${token}`);
        } else {
          for (const [i, pc] of providesOf(r).entries()) {
            if (pc.name !== c.name || pc.version === '') continue;
            if (!isValidVersion(pc.version)) this.dq.set(provider, `version ${pc.version} is not valid`);
            else if (!fits(pc.version, c))
              this.dq.set(provider, `${filename(r)} provides ${r.provides[i]}, which does not satisfy ${token}`);
          }
        }
      }
    }
  }

  private disqualifyProviders(token: string): void {
    const c = parseConstraint(token);
    const providers = this.u.nameMap.get(c.name);
    if (!providers) return;
    for (const conflict of this.filter(providers, c, { preferPin: c.tag }))
      if (!this.dq.has(conflict)) this.dq.set(conflict, `excluded by !${token}`);
  }

  /** Once chosen, nothing else may provide what a package provides at another version. */
  private disqualifyConflicts(pkg: Candidate): void {
    if (this.conflictsApplied.has(pkg)) return;
    this.conflictsApplied.add(pkg);
    for (const c of providesOf(pkg.record)) {
      for (const conflict of this.u.nameMap.get(c.name) ?? []) {
        if (conflict === pkg || this.dq.has(conflict)) continue;
        if (!conflictingVersion(c, conflict.record)) continue;
        this.dq.set(conflict, `${filename(pkg.record)} already provides ${c.name}`);
      }
    }
  }

  /** go-apk's `filterPackages`. */
  private filter(
    candidates: readonly Candidate[],
    c: Constraint,
    o: { allowPin?: string; preferPin?: string; installed?: Candidate | undefined },
  ): Candidate[] {
    const passed: Candidate[] = [];
    const installedUrl = o.installed ? url(o.installed) : undefined;
    for (const candidate of candidates) {
      if (this.dq.has(candidate)) continue;
      const tag = candidate.repository.tag;
      if (tag !== '' && tag !== (o.allowPin ?? '') && tag !== (o.preferPin ?? '') && installedUrl !== url(candidate))
        continue;
      if (c.operator === undefined) {
        passed.push(candidate);
        continue;
      }
      if (!isValidVersion(c.version)) return [];
      const r = candidate.record;
      if (!isValidVersion(r.version)) continue;
      if (fits(r.version, c)) {
        passed.push(candidate);
        continue;
      }
      for (const provide of providesOf(r)) {
        const v = provide.version;
        if (v === '' || !isValidVersion(v)) continue;
        if (fits(v, c)) {
          passed.push(candidate);
          break;
        }
      }
    }
    return passed;
  }

  private best(
    candidates: readonly Candidate[],
    name: string,
    existing: ReadonlyMap<string, Candidate> | undefined,
    origins: ReadonlyMap<string, string> | undefined,
    pin: string,
  ): Candidate {
    let best = candidates[0]!;
    for (const c of candidates.slice(1)) if (comparePreference(c, best, name, existing, origins, pin) < 0) best = c;
    return best;
  }

  private dqError(token: string, chain: Chain | undefined, all: readonly Candidate[], c: Constraint) {
    const disqualified = all.flatMap((candidate) => {
      const why = this.dq.get(candidate);
      return why === undefined ? [] : [{ candidate, why }];
    });
    const versionsOnly = disqualified.length > 0 && disqualified.every((d) => / does not satisfy /.test(d.why));
    const reason = versionsOnly
      ? `no version satisfies ${c.operator ?? ''}${c.version} (there: ${disqualified.map((d) => label(d.candidate.record)).join(', ')})`
      : disqualified.length > 0
        ? `no candidate left: ${disqualified.map((d) => `${label(d.candidate.record)} (${d.why})`).join(', ')}`
        : c.operator !== undefined
          ? `no version satisfies ${c.operator}${c.version}`
          : c.tag !== ''
            ? `no repository tagged @${c.tag} holds it`
            : `only in a tagged repository (write ${c.name}@tag)`;
    return new UnsatisfiableError(token, requirers(chain), reason, disqualified);
  }
}

/** Versions are judged valid once each (the solver asks about the same few thousand again and again). */
const validity = new Map<string, boolean>();
function isValidVersion(v: string): boolean {
  let known = validity.get(v);
  if (known === undefined) {
    known = validVersion(v);
    validity.set(v, known);
  }
  return known;
}

/** Each record's provides, parsed once (the solver reads them in every comparison). */
const parsedProvides = new WeakMap<DependencyRecord, readonly Constraint[]>();
function providesOf(record: DependencyRecord): readonly Constraint[] {
  let found = parsedProvides.get(record);
  if (!found) {
    found = record.provides.map(parseUncached);
    parsedProvides.set(record, found);
  }
  return found;
}

/** name -> the version a record provides it at ('' unversioned), first provide winning, as go-apk looks it up. */
const providedVersions = new WeakMap<DependencyRecord, Map<string, string>>();
function providedVersion(record: DependencyRecord, name: string): string | undefined {
  let map = providedVersions.get(record);
  if (!map) {
    map = new Map();
    for (const c of providesOf(record)) if (!map.has(c.name)) map.set(c.name, c.version);
    providedVersions.set(record, map);
  }
  return map.get(name);
}

function fits(version: string, c: Constraint): boolean {
  return c.operator === undefined || satisfies(version, { operator: c.operator, version: c.version });
}

function url(c: Candidate): string {
  return `${c.repository.uri}/${filename(c.record)}`;
}

/** go-apk's `conflictingVersion`: does a provider of `c.name` clash with a package that provides it? */
function conflictingVersion(c: Constraint, conflict: DependencyRecord): boolean {
  if (c.version !== '') return true;
  if (conflict.name === c.name) return conflict.version !== c.version;
  const v = providedVersion(conflict, c.name);
  return v === undefined || v !== c.version;
}

/** The version a candidate carries for the name asked for: its own, a provide's, or '' for an unversioned provide. */
function versionFor(c: Candidate, name: string): string {
  if (name === '' || name === c.record.name) return c.record.version;
  for (const p of providesOf(c.record)) if (p.name === name) return p.version;
  return '';
}

/** Negative when `a` is preferred (go-apk's `comparePackages`, with `compare` nil as apko always calls it). */
function comparePreference(
  a: Candidate,
  b: Candidate,
  name: string,
  existing: ReadonlyMap<string, Candidate> | undefined,
  origins: ReadonlyMap<string, string> | undefined,
  pin: string,
): number {
  const ra = a.record;
  const rb = b.record;
  const ia = existing?.get(ra.name);
  const ib = existing?.get(rb.name);
  const aInstalled = ia !== undefined && ia.record.version === ra.version;
  const bInstalled = ib !== undefined && ib.record.version === rb.version;
  if (aInstalled && !bInstalled) return -1;
  if (bInstalled && !aInstalled) return 1;
  const aOrigin = ra.origin !== '' && origins?.get(ra.origin) === ra.version;
  const bOrigin = rb.origin !== '' && origins?.get(rb.origin) === rb.version;
  if (aOrigin && !bOrigin) return -1;
  if (bOrigin && !aOrigin) return 1;
  const aPin = a.repository.tag === pin;
  const bPin = b.repository.tag === pin;
  if (aPin && !bPin) return -1;
  if (bPin && !aPin) return 1;
  const va = versionFor(a, name);
  const vb = versionFor(b, name);
  if (va !== '' && vb !== '' && va !== vb) {
    const order = compareValid(va, vb);
    if (order !== 0) return order;
  }
  if (ra.name === rb.name && ra.version !== rb.version) {
    const order = compareValid(ra.version, rb.version);
    if (order !== 0) return order;
  }
  if (ra.providerPriority !== rb.providerPriority) return ra.providerPriority > rb.providerPriority ? -1 : 1;
  if (ra.version !== rb.version) {
    const order = compareValid(ra.version, rb.version);
    if (order !== 0) return order;
  }
  return ra.name < rb.name ? -1 : ra.name > rb.name ? 1 : 0;
}

/**
 * Newer first; an invalid version loses (go-apk: a parse error on `a` prefers `b`). Remembered per pair: choosing
 * among a name's builds compares the same few versions again in every resolution that needs the name.
 */
const compared = new Map<string, number>();
function compareValid(a: string, b: string): number {
  if (!isValidVersion(a)) return 1;
  if (!isValidVersion(b)) return -1;
  const key = `${a}\u0000${b}`;
  let order = compared.get(key);
  if (order === undefined) {
    order = -compareVersions(a, b);
    if (compared.size > 200_000) compared.clear();
    compared.set(key, order);
  }
  return order;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
