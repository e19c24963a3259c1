import type { ResolvedImage } from '../apko/image.js';
import { parsePackageSpec } from '../apko/package-spec.js';
import type { FileConstraint } from '../apko/tree.js';
import { providedName, type DependencyIndex, type DependencyRecord } from '../index/dependency-index.js';
import { compareVersions } from '../index/version.js';
import { entryScope, notJudged } from './image-scope.js';
import { satisfies } from '../resolve/constraint.js';
import type { VersionSource } from './version-source.js';

/** What `apko build` would fail on for one image, and what it would install. */
export interface InstallReport {
  problems: { subject: string; message: string }[];
  /** Every installed package name and every name they provide, on all arches; undefined when not resolved. */
  installed: string[] | undefined;
}

/** Install reports by the image's own file (shown path). */
export type InstallSets = Map<string, InstallReport>;

interface Candidate {
  record: DependencyRecord;
  /** The `@tag` of the repository it comes from; undefined for an untagged one. */
  tag: string | undefined;
}

/** One arch's repositories of an image: untagged ones, and the tagged ones by tag. */
interface ArchUniverse {
  arch: string;
  sources: { index: DependencyIndex; tag: string | undefined }[];
}

/**
 * Resolves each image's install set per arch the way apko does (go-apk's PkgResolver): the world is the image's
 * package list; a name is satisfied by a package of that name or one that provides it (`p:` with `so:`, `cmd:`,
 * `pc:` and plain names), within the version constraint; `D:` dependencies are followed; `!name` removes what
 * provides `name`; a package from an `@tag` repository is only taken for `name@tag` (and what it pulls in). With
 * several arches, a version missing on any of them is not a candidate on any (apko locks one version for all).
 * Images whose repositories have no dependency data here are left out.
 */
export function resolveInstallSets(
  images: readonly ResolvedImage[],
  constraints: ReadonlyMap<string, FileConstraint>,
  source: VersionSource,
  localPackages: ReadonlySet<string> = new Set(),
): InstallSets | undefined {
  const out: InstallSets = new Map();
  for (const image of images) {
    const constraint = constraints.get(image.file.path)?.images.find((i) => i.image === image.file.path);
    if (!constraint || constraint.arches.length === 0) continue;
    const untagged = entryScope(source, constraint, undefined);
    if (notJudged(untagged)) continue;
    const tags = [...new Set(image.repositories.flatMap((r) => (r.tag ? [r.tag] : [])))];
    const tagged = tags.map((tag) => ({ tag, scope: entryScope(source, constraint, tag) }));
    const universes: ArchUniverse[] = [];
    let missingData = false;
    for (const arch of constraint.arches) {
      const base = source.dependencies(untagged.held, arch);
      if (base === undefined) return undefined;
      const sources = base.map((index) => ({ index, tag: undefined as string | undefined }));
      for (const t of tagged) {
        if (notJudged(t.scope)) continue;
        const extra = t.scope.held.filter((h) => !untagged.held.includes(h));
        for (const index of source.dependencies(extra, arch) ?? []) sources.push({ index, tag: t.tag });
      }
      if (sources.length === 0) missingData = true;
      universes.push({ arch, sources });
    }
    if (missingData) continue;
    out.set(image.file.path, resolveImage(image, universes, localPackages));
  }
  return out;
}

function resolveImage(
  image: ResolvedImage,
  universes: readonly ArchUniverse[],
  local: ReadonlySet<string>,
): InstallReport {
  const problems = new Map<string, { subject: string; text: string; arches: string[] }>();
  const installed = new Set<string>();
  for (const universe of universes) {
    const others = universes.filter((u) => u !== universe);
    const result = resolveArch(image, universe, others, local);
    for (const p of result.problems) {
      const key = `${p.subject}\u0000${p.text}`;
      const seen = problems.get(key);
      if (seen) seen.arches.push(universe.arch);
      else problems.set(key, { ...p, arches: [universe.arch] });
    }
    for (const name of result.installed) installed.add(name);
  }
  return {
    problems: [...problems.values()].map((p) => ({
      subject: p.subject,
      message: `apko build fails on ${p.arches.join(', ')}: ${p.text}`,
    })),
    installed: [...installed].sort(),
  };
}

/**
 * One arch. A listed package that is missing, or has no version on every arch, is the package rows' to report
 * (`check` says it where it is written); here it is what its dependencies need, `!name` exclusions and versions
 * already selected that the list contradicts. Packages built here by melange (`local`) are not in the indexes
 * until published: they and what they need are taken as present.
 */
function resolveArch(
  image: ResolvedImage,
  universe: ArchUniverse,
  others: readonly ArchUniverse[],
  local: ReadonlySet<string>,
): { problems: { subject: string; text: string }[]; installed: string[] } {
  const problems: { subject: string; text: string }[] = [];
  const selected = new Map<string, DependencyRecord>();
  const providedBy = new Map<string, DependencyRecord[]>();
  const localInstalled = new Set<string>();
  const excluded = new Set(image.packages.flatMap((p) => (p.spec?.conflict ? [p.spec.name] : [])));
  const onEveryArch = (r: DependencyRecord) =>
    others.every((u) => u.sources.some((s) => s.index.has(r.name, r.version)));
  const lookup = (name: string, tag: string | undefined): Candidate[] => {
    const found: Candidate[] = [];
    for (const s of universe.sources) {
      if (s.tag !== undefined && s.tag !== tag) continue;
      for (const record of s.index.byName.get(name) ?? []) found.push({ record, tag: s.tag });
      for (const record of s.index.providers.get(name) ?? [])
        if (record.name !== name) found.push({ record, tag: s.tag });
    }
    return found;
  };
  const providedVersion = (record: DependencyRecord, name: string): string | undefined | null => {
    if (record.name === name) return record.version;
    const token = record.provides.find((p) => providedName(p) === name);
    if (token === undefined) return null;
    const eq = token.indexOf('=');
    return eq < 0 ? undefined : token.slice(eq + 1);
  };
  const fits = (record: DependencyRecord, name: string, op: string | undefined, version: string | undefined) => {
    const v = providedVersion(record, name);
    if (v === null) return false;
    if (op === undefined || version === undefined) return true;
    return v !== undefined && satisfies(v, { operator: op, version });
  };
  const isExcluded = (r: DependencyRecord) =>
    excluded.has(r.name) || r.provides.some((p) => excluded.has(providedName(p)));
  const select = (record: DependencyRecord, tag: string | undefined, subject: string) => {
    selected.set(record.name, record);
    for (const p of record.provides) {
      const n = providedName(p);
      providedBy.set(n, [...(providedBy.get(n) ?? []), record]);
    }
    for (const dep of record.depends) need(dep, tag, subject, `${record.name}-${record.version}`);
  };
  const need = (token: string, tag: string | undefined, subject: string, neededBy: string | undefined): void => {
    if (token.startsWith('!')) return;
    const spec = parsePackageSpec(token);
    const name = spec?.name ?? token;
    const op = spec?.operator;
    const version = spec?.version;
    const chosen = selected.get(name);
    if (chosen && fits(chosen, name, op, version)) return;
    if ((providedBy.get(name) ?? []).some((r) => fits(r, name, op, version))) return;
    const all = lookup(name, spec?.tag ?? tag);
    const fitting = all.filter((c) => fits(c.record, name, op, version));
    const usable = fitting.filter((c) => !isExcluded(c.record) && onEveryArch(c.record));
    const what = neededBy ? `${neededBy} depends on ${token}, but` : `${token}:`;
    if (usable.length === 0 && all.length === 0 && local.has(name)) {
      localInstalled.add(name);
      return;
    }
    if (usable.length === 0 && neededBy === undefined && !fitting.some((c) => isExcluded(c.record))) return;
    if (usable.length === 0) {
      if (all.length === 0) problems.push({ subject, text: `${what} nothing provides ${name}` });
      else if (fitting.length === 0)
        problems.push({
          subject,
          text: `${what} no version of ${name} satisfies ${op}${version} (there: ${newest(all)})`,
        });
      else if (fitting.every((c) => isExcluded(c.record)))
        problems.push({
          subject,
          text: `${what} everything providing ${name} is excluded by !${[...excluded].join(', !')}`,
        });
      else
        problems.push({
          subject,
          text: `${what} no version of ${name} is on every arch the image builds for (here: ${newest(fitting)})`,
        });
      return;
    }
    if (chosen) {
      // Two pins of one name in the list are reported as duplicate pins, where they are written.
      if (neededBy === undefined) return;
      problems.push({
        subject,
        text: `${what} ${chosen.name}-${chosen.version} is already selected and does not satisfy it`,
      });
      return;
    }
    // The package of that very name first, then the newest version.
    usable.sort(
      (a, b) =>
        Number(b.record.name === name) - Number(a.record.name === name) ||
        compareVersions(b.record.version, a.record.version),
    );
    select(usable[0]!.record, usable[0]!.tag ?? tag, subject);
  };
  for (const entry of image.packages) {
    if (!entry.spec || entry.spec.conflict) continue;
    need(entry.entry, entry.spec.tag, entry.entry, undefined);
  }
  const installed = new Set<string>(localInstalled);
  for (const r of selected.values()) {
    installed.add(r.name);
    for (const p of r.provides) installed.add(providedName(p));
  }
  return { problems, installed: [...installed] };
}

function newest(candidates: readonly Candidate[]): string {
  const sorted = [...candidates].sort((a, b) => compareVersions(b.record.version, a.record.version));
  return `${sorted[0]!.record.name}-${sorted[0]!.record.version}`;
}
