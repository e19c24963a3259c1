import type { ResolvedImage } from '../apko/image.js';
import type { FileConstraint } from '../apko/tree.js';
import { ArchUnsatisfiableError, type UnsatisfiableError } from '../errors.js';
import { resolveCommon, solverRepositories, UniverseCache, worldOf } from '../resolve/arches.js';
import { parseConstraint } from '../resolve/constraint.js';
import { disqualifyDifference, worldCandidates, type SolverUniverse } from '../resolve/solver.js';
import { compareVersions } from '../index/version.js';
import { entryScope, notJudged } from './image-scope.js';
import { heldRepositoryOn, type VersionSource } from './version-source.js';

/** What `apko build` would fail on for one image, and what it would install. */
export interface InstallReport {
  problems: { subject: string; message: string }[];
  /** Every installed package name and every name they provide, on all arches; undefined when not resolved. */
  installed: string[] | undefined;
}

/** Install reports by the image's own file (shown path). */
export type InstallSets = Map<string, InstallReport>;

/**
 * Resolves each image's install set per arch with apko's solver (src/resolve), as `apko build` resolves several
 * arches: only versions present on every arch are candidates. A listed entry that cannot be installed at all (a
 * name in none of the image's repositories, a pin or constraint no version on every arch satisfies) is the package
 * rows' to report where it is written, so it is left out here and the rest resolved; what is reported here is what
 * the dependencies need. Packages built here by melange (`local`)
 * are not in the indexes until published: they are left out of the world. Images whose repositories have no
 * dependency data here are left out.
 */
export function resolveInstallSets(
  images: readonly ResolvedImage[],
  constraints: ReadonlyMap<string, FileConstraint>,
  source: VersionSource,
  localPackages: ReadonlySet<string> = new Set(),
): InstallSets | undefined {
  const out: InstallSets = new Map();
  const cache = new UniverseCache();
  // A service holds no dependency data.
  if (source.dependencies([], 'x86_64') === undefined) return undefined;
  for (const image of images) {
    const constraint = constraints.get(image.file.path)?.images.find((i) => i.image === image.file.path);
    if (!constraint || constraint.arches.length === 0) continue;
    if (notJudged(entryScope(source, constraint, undefined))) continue;
    const universes = new Map<string, SolverUniverse>();
    let missingData = false;
    for (const arch of constraint.arches) {
      const repositories = solverRepositories(image.repositories, arch, (repo, a) => {
        const held = heldRepositoryOn(source, repo.url, a);
        return held ? source.dependencies([held.name], a)?.[0] : undefined;
      });
      if (repositories.length === 0) missingData = true;
      universes.set(arch, cache.get(repositories));
    }
    if (missingData) continue;
    out.set(image.file.path, resolveImage(image, universes, localPackages));
  }
  return out;
}

function resolveImage(
  image: ResolvedImage,
  universes: ReadonlyMap<string, SolverUniverse>,
  local: ReadonlySet<string>,
): InstallReport {
  const problems: { subject: string; message: string }[] = [];
  const dq = disqualifyDifference(universes);
  const entries = worldOf(image.packages.map((p) => p.entry));
  const world: string[] = [];
  for (const entry of entries) {
    // apko does not take `!name` here; the entry's own row says so.
    if (entry.startsWith('!')) continue;
    if (local.has(parseConstraint(entry).name)) continue;
    const listed = entries.filter((e) => !e.startsWith('!'));
    if ([...universes.values()].some((u) => worldCandidates(u, entry, dq, listed).length === 0)) continue;
    world.push(entry);
  }
  const installed = new Set<string>(
    entries.filter((e) => local.has(parseConstraint(e).name)).map((e) => parseConstraint(e).name),
  );
  let complete = true;
  for (const arch of resolveCommon(universes, world)) {
    if (arch instanceof ArchUnsatisfiableError) {
      // What did resolve is unknown past the failure: bootc's checks count only the listed names then.
      complete = false;
      const failure = arch.failure;
      if (!local.has(parseConstraint(failure.constraint).name))
        problems.push({
          subject: subjectOf(failure, image),
          message: `apko build fails on ${arch.arch}: ${describe(failure)}`,
        });
      continue;
    }
    for (const c of arch.packages) {
      installed.add(c.record.name);
      for (const p of c.record.provides) installed.add(parseConstraint(p).name);
    }
  }
  if (!complete) return { problems, installed: undefined };
  return { problems, installed: [...installed].sort() };
}

/** The world entry a failure goes back to. */
function subjectOf(failure: UnsatisfiableError, image: ResolvedImage): string {
  const world = failure.requiredBy.at(-1);
  const entry = world?.startsWith('world[') ? world.slice(6, -1) : failure.constraint;
  return image.packages.find((p) => p.entry === entry)?.entry ?? entry;
}

/** "foo-1.0-r0 depends on so:libbar.so.1, but nothing provides so:libbar.so.1", as check has always said it. */
function describe(failure: UnsatisfiableError): string {
  const requirer = failure.requiredBy[0];
  const what =
    requirer && !requirer.startsWith('world[')
      ? `${requirer} depends on ${failure.constraint}, but`
      : `${failure.constraint}:`;
  const name = parseConstraint(failure.constraint).name;
  const elsewhere = failure.disqualified.filter((d) => / is not available for arch /.test(d.why));
  if (elsewhere.length > 0 && elsewhere.length === failure.disqualified.length) {
    const newest = elsewhere.map((d) => d.candidate.record).sort((a, b) => compareVersions(b.version, a.version))[0]!;
    return `${what} no version of ${name} is on every arch the image builds for (here: ${newest.name}-${newest.version})`;
  }
  return `${what} ${failure.reason}`;
}
