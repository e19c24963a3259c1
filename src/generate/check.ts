import { relative } from 'node:path';
import type { PackageEntry, ResolvedImage } from '../apko/image.js';
import { lockState } from '../apko/lock.js';
import { isPin, type PackageSpec } from '../apko/package-spec.js';
import { imageArches, type ApkoTree, type FileConstraint } from '../apko/tree.js';
import { LockFileError } from '../errors.js';
import { compareVersions } from '../index/version.js';
import { bootcProblems, isBootcImage } from './bootc.js';
import { judgeRenovate } from './check-renovate.js';
import { describeDuplicate, duplicatePins } from './duplicate-pins.js';
import {
  entryScope,
  notJudged,
  scopeVersions,
  versionAbsence,
  withoutData,
  type EntryScope,
  type ScopeVersions,
} from './image-scope.js';
import type { InstallSets } from './install-set.js';
import { readImageLock, verifyLock } from './lock-tree.js';
import type { RenovateManagers } from './renovate-match.js';
import { satisfies } from '../resolve/constraint.js';
import { describeIds, securityNote } from './security.js';
import { choosePin, type VersionSource } from './version-source.js';

export type Severity = 'error' | 'warning' | 'ok';

export interface Finding {
  severity: Severity;
  /** `file:line` of what the finding is about. */
  location: string;
  subject: string;
  message: string;
  /** Known security IDs a newer available version fixes (a stale pin with known vulnerabilities). */
  ids?: string[];
  /** "Not checked": the image's repositories (comparable URLs) that had no data for it. */
  unchecked?: string[];
  /**
   * What findings of the same kind share, for a summary that says it once with the files it covers (`stale`, `not
   * checked: no data for URL`); undefined for a finding that stands alone.
   */
  cause?: string;
}

export interface CheckContext {
  source: VersionSource;
  constraints: ReadonlyMap<string, FileConstraint>;
  /** Packages built by melange recipes in this repository: not in the indexes until published. */
  localPackages: ReadonlySet<string>;
  /** renovate.json's managers, when there is one. */
  renovate: RenovateManagers | undefined;
  /** Each image's install set per arch as apk resolves it; undefined when no dependency data was read. */
  installSets: InstallSets | undefined;
  /** Texts of the files pins live in, by their shown path, for Renovate's matching. */
  texts: ReadonlyMap<string, string>;
}

/**
 * Lints the tree's target files (and what target images include) against the indexes, each entry once, where it is written, judged for every
 * image that builds with its file, from that image's own repositories on that image's arches: a package or pin
 * missing on an arch, a constraint nothing satisfies, duplicate pins, what `apko build` would fail on when it
 * resolves the install set (a dependency nothing provides, versions not on every arch), bootc's requirements
 * (counted in the install set), a stale lock file, and pins Renovate would not find.
 */
export async function checkTree(tree: ApkoTree, ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = tree.failures.map((f) => ({
    severity: 'error',
    location: f.line ? `${f.file}:${f.line}` : f.file,
    subject: '-',
    message: f.detail,
  }));
  const targets = new Set(tree.targets);
  for (const image of tree.images.filter((i) => targets.has(i.file.path)))
    findings.push(...(await checkImage(image, tree, ctx)));
  // A file others include, with a lock beside it, is also built alone (`apko lock FILE` was run on it): its lock too.
  for (const base of tree.configurations)
    if (targets.has(base.file.path) && !tree.images.includes(base))
      findings.push(...(await checkLock(base, tree, ctx)));
  const done = new Set<string>();
  // A named image is reported with what it includes: its build depends on every entry of its chain.
  const reported = [
    ...new Set([
      ...tree.targets,
      ...tree.images.filter((i) => targets.has(i.file.path)).flatMap((i) => i.chain.map((f) => f.path)),
    ]),
  ];
  for (const target of reported) {
    const constraint = ctx.constraints.get(target);
    const file = tree.images.flatMap((i) => i.chain).find((f) => f.path === target);
    if (!constraint || !file) continue;
    for (const entry of file.packages) {
      const key = `${entry.file}:${entry.node.range?.[0] ?? entry.line}`;
      if (done.has(key)) continue;
      done.add(key);
      findings.push(...(await checkItem(apkoItem(entry), constraint, ctx)));
    }
  }
  // Duplicates are found per image, and reported where the entries of a target file are.
  for (const image of tree.images) {
    for (const d of duplicatePins(image)) {
      const first = d.entries.find((e) => reported.includes(e.file));
      if (first)
        findings.push({
          severity: d.conflicting ? 'error' : 'warning',
          location: `${first.file}:${first.line}`,
          subject: first.entry,
          message: describeDuplicate(d),
        });
    }
  }
  return dedupeFindings(findings);
}

/** What is about the image as a whole: archs, its install set per arch, bootc, its lock file. */
async function checkImage(image: ResolvedImage, tree: ApkoTree, ctx: CheckContext): Promise<Finding[]> {
  const here = image.file.path;
  const out: Finding[] = [];
  const finding = (severity: Severity, message: string, subject = '-', location = here) =>
    out.push({ severity, location, subject, message });
  image.unknownArchs.forEach((arch, i) =>
    finding('error', `archs: apko does not know ${arch}`, '-', image.unknownArchLocations[i]),
  );
  if (image.archs.length === 0) {
    const arches = ctx.constraints.get(here)?.images.find((i) => i.image === here)?.arches ?? [];
    finding(
      arches.length > 0 ? 'warning' : 'error',
      arches.length > 0
        ? `names no archs; apko then builds for every arch it knows. Checked for ${arches.join(', ')} (--arch)`
        : 'names no archs (here or in its includes): apko builds it for every arch it knows; name them, or pass --arch to check it',
    );
  }
  if (image.repositories.length === 0)
    finding('error', 'builds from no repository: contents.repositories (or --repository-append) is empty');
  const sets = ctx.installSets?.get(here);
  for (const problem of sets?.problems ?? []) finding('error', problem.message, problem.subject);
  const installed = sets?.installed;
  const listed = image.packages.flatMap((p) => (p.spec && !p.spec.conflict ? [p.spec.name] : []));
  const facts = { ...image, packages: installed ?? listed };
  if (isBootcImage({ ...image, packages: listed }) || isBootcImage(facts)) {
    for (const problem of bootcProblems(facts)) {
      // Without install sets, a required package may still arrive through dependencies.
      const missing = installed === undefined ? /^package (\S+) is missing/.exec(problem)?.[1] : undefined;
      if (missing)
        finding(
          'warning',
          `package ${missing} is not listed; bootc needs it, and it may arrive through dependencies, which were not resolved`,
          'bootc',
        );
      else finding('error', problem, 'bootc');
    }
  }
  out.push(...(await checkLock(image, tree, ctx)));
  return out;
}

/** An image's lock file, when it has one: its config checksum, and every locked package against the indexes. */
async function checkLock(image: ResolvedImage, tree: ApkoTree, ctx: CheckContext): Promise<Finding[]> {
  const here = image.file.path;
  const out: Finding[] = [];
  const finding = (severity: Severity, message: string, subject = '-', location = here) =>
    out.push({ severity, location, subject, message });
  const lock = lockState(image);
  const lockShown = lock.kind === 'none' ? '' : relative(tree.root, lock.path);
  if (lock.kind === 'stale')
    finding(
      'error',
      `config checksum no longer matches ${here} and its includes (apko build refuses it): run apk-indexer lock --update ${here} (or apko lock ${here})`,
      'lock',
      lockShown,
    );
  else if (lock.kind === 'unreadable')
    finding('error', `not a readable apko lock file: ${lock.detail}`, 'lock', lockShown);
  else if (lock.kind === 'current')
    finding('ok', `config checksum matches ${here} and its includes`, 'lock', lockShown);
  if (lock.kind === 'current' || lock.kind === 'stale') {
    let parsed;
    try {
      parsed = readImageLock(image)?.lock;
    } catch (err) {
      // A lock apko's checksum reader took, but apko build cannot use: a finding; anything else is not one.
      if (!(err instanceof LockFileError)) throw err;
      finding('error', `not a readable apko lock file: ${err.detail}`, 'lock', lockShown);
    }
    // A base built alone is judged as an image of its own: its arches, its repositories.
    const constraint = ctx.constraints.get(here)?.images.find((i) => i.image === here) ?? {
      image: here,
      arches: imageArches(image),
      repositories: image.repositories,
    };
    if (parsed && !notJudged(entryScope(ctx.source, constraint, undefined)))
      for (const f of await verifyLock(image, parsed, ctx.source)) finding(f.severity, f.message, 'lock', lockShown);
  }
  return out;
}

/**
 * One package of an apko file or of a Dockerfile's `apk add`, as check judges it: where it is written, what it asks
 * for, and where its value is in the file (for Renovate's matching).
 */
export interface CheckedItem {
  file: string;
  line: number;
  /** As written: the row's subject. */
  entry: string;
  spec: PackageSpec | undefined;
  /** File offsets of the item; undefined when not known. */
  span: readonly [number, number] | undefined;
  /** Whether a version satisfies the item's constraint, when not apko's rule for `spec.operator` (apk's, in a Dockerfile). */
  fits?: (version: string) => boolean;
  /** What a bare name means where it is written. */
  unpinned?: string;
}

function apkoItem(entry: PackageEntry): CheckedItem {
  return {
    file: entry.file,
    line: entry.line,
    entry: entry.entry,
    spec: entry.spec,
    span: entry.node.range?.slice(0, 2) as [number, number] | undefined,
  };
}

/** Judges one item for every image of its constraint (see checkTree); Dockerfile packages come here with their stage's image. */
export async function checkItem(entry: CheckedItem, constraint: FileConstraint, ctx: CheckContext): Promise<Finding[]> {
  const spec = entry.spec;
  const at = (severity: Severity, message: string): Finding => ({
    severity,
    location: `${entry.file}:${entry.line}`,
    subject: entry.entry,
    message,
  });
  if (!spec)
    return [
      at(
        'error',
        'not a package entry apko can resolve (name, name=version, name>=version, name~version, name@tag, !name)',
      ),
    ];
  if (spec.conflict)
    return [
      at(
        'error',
        `apko does not take !name in contents.packages: it looks for a package named !${spec.name} and fails (chainguard-dev/apko#687); apk would exclude ${spec.name}`,
      ),
    ];
  if (constraint.images.length === 0) return [at('warning', 'not checked: no image of the tree builds with this file')];
  if (spec.tag !== undefined && !constraint.images.every((i) => i.repositories.some((r) => r.tag === spec.tag))) {
    return [
      at(
        'error',
        `no repository is tagged @${spec.tag} in the images building with this file (write it "@${spec.tag} URL" in contents.repositories)`,
      ),
    ];
  }
  const several = constraint.images.length > 1;
  const findings: Finding[] = [];
  const judged: { image: string; arches: string[]; held: string[]; versions: ScopeVersions }[] = [];
  // An entry of a base file is unjudged for every image including it: said once per reason, naming the images.
  const unjudged = new Map<string, { scope: EntryScope; images: string[] }>();
  for (const image of constraint.images) {
    const forImage = several ? ` (for ${image.image})` : '';
    const scope = entryScope(ctx.source, image, spec.tag);
    const key = notJudged(scope, '\u0000');
    if (key) {
      const group = unjudged.get(key) ?? { scope, images: [] };
      group.images.push(image.image);
      unjudged.set(key, group);
      continue;
    }
    const versions = await scopeVersions(ctx.source, scope, spec.name);
    if (versions === undefined) {
      if (ctx.localPackages.has(spec.name))
        findings.push(at('ok', 'built here by melange; not in the indexes until published'));
      else findings.push(at('error', `not in ${image.image}'s repositories (${scope.held.join(', ')})`));
      continue;
    }
    const missing = versions.perArch.filter((a) => a.versions.length === 0).map((a) => a.arch);
    if (missing.length > 0) {
      findings.push(at('error', `${spec.name} is not on ${missing.join(', ')}${forImage}`));
      continue;
    }
    if (isPin(spec)) {
      const absence = versionAbsence(versions, spec.version);
      if (absence) {
        const newest = versions.perArch.map((a) => `${a.arch} ${a.versions.at(-1)}`).join(', ');
        findings.push(at('error', `${absence}${forImage} (newest: ${newest})`));
        continue;
      }
    } else {
      // apko locks one version on every arch: an unpinned name needs a version they all have.
      const fitting =
        spec.operator === undefined
          ? versions.common
          : versions.common.filter(
              (v) => entry.fits?.(v) ?? satisfies(v, spec as PackageSpec & { operator: string; version: string }),
            );
      if (fitting.length === 0) {
        const what =
          spec.operator === undefined
            ? `no version of ${spec.name}`
            : `no version satisfying ${spec.operator}${spec.version}`;
        findings.push(at('error', `${what} is on every one of ${image.arches.join(', ')}${forImage}`));
        continue;
      }
    }
    judged.push({ image: image.image, arches: image.arches, held: scope.held, versions });
  }
  for (const { scope, images } of unjudged.values()) {
    const shown = images.length === 1 ? images[0]! : `${images[0]} and ${images.length - 1} more images`;
    const lacking = withoutData(scope).map((r) => r.url);
    findings.push({
      ...at('warning', notJudged(scope, shown)!),
      ...(lacking.length > 0 && { unchecked: lacking, cause: `not checked: no data for ${lacking.join(', ')}` }),
    });
  }
  if (findings.some((f) => f.severity === 'error') || judged.length === 0) return findings;
  const arches = [...new Set(judged.flatMap((j) => j.arches))];
  if (!isPin(spec)) {
    findings.push(
      at(
        'ok',
        spec.operator
          ? `constraint ${spec.operator}${spec.version}: satisfied on all of ${arches.join(', ')}`
          : (entry.unpinned ?? 'unpinned: apko takes the newest version at build time'),
      ),
    );
    return findings;
  }
  let common: string[] | undefined;
  for (const j of judged)
    common = common === undefined ? j.versions.common : common.filter((v) => j.versions.common.includes(v));
  // Renovate's answer is compared with what pin --check wants from these images' own repositories.
  const held = [...new Set(judged.flatMap((j) => j.held))];
  const scoped: VersionSource = {
    held: ctx.source.held,
    versions: (name, a, repositories) => ctx.source.versions(name, a, repositories ?? held),
    answer: (name, query) => ctx.source.answer(name, query),
    dependencies: (repositories, arch) => ctx.source.dependencies(repositories, arch),
  };
  const verdict =
    ctx.renovate && (await judgeRenovate(entry, spec, arches, ctx.texts.get(entry.file), ctx.renovate, scoped));
  if (verdict && verdict.severity !== 'ok') findings.push(at(verdict.severity, verdict.message));
  const renovateSays = verdict ? `; ${verdict.message}` : '';
  if (findings.length === 0) {
    const newest = choosePin(common ?? [], spec.version);
    findings.push(
      newest !== undefined && compareVersions(newest, spec.version) > 0
        ? {
            ...at('warning', `stale: ${newest} is present on all of ${arches.join(', ')}${renovateSays}`),
            cause: 'stale: a newer version is present on all the arches (pin --check moves them)',
          }
        : at('ok', `newest on all of ${arches.join(', ')}${renovateSays}`),
    );
    if (newest !== undefined && compareVersions(newest, spec.version) > 0) {
      const security = await securityNote(ctx.source.fixSource, spec.name, spec.version, newest, arches);
      if (security)
        findings.push({
          ...at('warning', `known vulnerabilities: ${newest} fixes ${describeIds(security.ids)}`),
          ids: security.ids,
        });
    }
  }
  return findings;
}

/** The same finding reached through several including files is reported once. */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.location}\0${f.subject}\0${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
