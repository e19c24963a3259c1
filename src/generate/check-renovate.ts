import { compareVersions, isPrerelease } from '../index/version.js';
import { sortApkArches } from '../apko/arch.js';
import { isDockerfilePath } from '../dockerfile/dockerfile.js';
import { applyExtractVersion, type RenovateManagers } from './renovate-match.js';
import { choosePin, type VersionSource } from './version-source.js';

export interface RenovateVerdict {
  severity: 'error' | 'warning' | 'ok';
  message: string;
}

/**
 * What Renovate will do with one pin, against what `pin --check` says it should be: whether it looks the pin up,
 * which URL it asks, and whether the update it proposes from that answer is the one present on every arch the
 * file is built for. Every pin Renovate would miss or answer differently is an error naming why.
 */
export async function judgeRenovate(
  entry: { file: string; span: readonly [number, number] | undefined },
  pin: { name: string; version: string },
  arches: readonly string[],
  text: string | undefined,
  renovate: RenovateManagers,
  source: VersionSource,
): Promise<RenovateVerdict> {
  const span = entry.span;
  if (text === undefined || !span)
    return { severity: 'warning', message: 'not judged against Renovate: the file text is not at hand' };
  const deps = renovate
    .extract(entry.file, text)
    .filter((d) => d.start !== undefined && d.start >= span[0] && d.end! <= span[1]);
  if (deps.length === 0) {
    // A Dockerfile pin Renovate's own Dockerfile manager looks up with its apk datasource (`/-/apk/`, say).
    const native = isDockerfilePath(entry.file) ? renovate.nativeApkUrls(entry.file, pin.name) : undefined;
    if (native?.length)
      return {
        severity: 'warning',
        message: `Renovate's own Dockerfile manager looks it up with its apk datasource in ${native.join(', ')}: its answer is not predicted here (docs/generators.md)`,
      };
    const why = renovate.explainMiss(entry.file, text, span);
    // A pattern that could not be read may match the file after all.
    const severity = renovate.uncertain && why.startsWith('no regex manager') ? 'warning' : 'error';
    return { severity, message: `Renovate will not keep this pin fresh: ${why}` };
  }
  const dep = deps[0]!;
  const name = dep.packageName ?? dep.depName!;
  if (name !== pin.name)
    return { severity: 'error', message: `Renovate reads this value as a pin of ${name}, not ${pin.name}` };
  if (dep.currentValue !== pin.version)
    return {
      severity: 'error',
      message: `Renovate reads the current value as ${dep.currentValue}, not ${pin.version}`,
    };
  const lookup = renovate.lookup(dep, entry.file);
  if (lookup.asked === 'native')
    return lookup.urls.length > 0
      ? {
          severity: 'warning',
          message: `Renovate looks it up with its own apk datasource in ${lookup.urls.join(', ')}: its answer is not predicted here (docs/generators.md)`,
        }
      : { severity: 'error', message: 'Renovate skips it: its apk datasource has no registryUrls (unknown-registry)' };
  if (!lookup.asked)
    return { severity: 'error', message: `Renovate extracts this pin but gets no versions: ${lookup.reason}` };

  const filters = datasourceFilters(lookup.url, name);
  if (!filters)
    return {
      severity: 'warning',
      message: `Renovate asks ${lookup.url}, which is not an apk-indexer package URL; its answer is not predicted`,
    };
  const wanted = choosePin((await source.versions(pin.name, arches)) ?? [], pin.version);
  const answered = await source.answer(pin.name, filters);
  const offered = applyExtractVersion(answered ?? [], lookup.extractVersion);
  const proposal = renovateProposal(offered, pin.version, lookup.maxMajorIncrement);
  const asked = `Renovate asks ${lookup.url}`;
  const expected = wanted !== undefined && compareVersions(wanted, pin.version) > 0 ? wanted : undefined;
  const misfit = archMisfit(filters.arches, arches);
  if (answered === undefined)
    return {
      severity: 'error',
      message: `${asked}: answered 404 (${filters.arches?.length ? `no version on all of ${filters.arches.join(', ')}` : 'no version on every arch holding it'}), so no update${misfit}`,
    };
  if (answered.length > 0 && offered.length === 0)
    return {
      severity: 'error',
      message: `${asked}: extractVersion ${lookup.extractVersion} keeps no version (it needs a group named version), so no update`,
    };
  if (proposal === expected) {
    return misfit
      ? { severity: 'warning', message: `${asked}${misfit}; it agrees with pin --check for now` }
      : {
          severity: 'ok',
          message: `${asked}: ${proposal ? `proposes ${proposal}` : 'nothing to propose'}, as pin --check`,
        };
  }
  if (proposal === undefined) {
    const why =
      lookup.maxMajorIncrement > 0 && renovateProposal(offered, pin.version, 0) === expected
        ? ` (maxMajorIncrement ${lookup.maxMajorIncrement} drops the jump to ${expected}; set it to 0 for date versions)`
        : '';
    return {
      severity: 'error',
      message: `${asked}: proposes nothing, but pin --check wants ${expected}${why}${misfit}`,
    };
  }
  const missing = (
    await Promise.all(
      arches.map(async (a) => (((await source.versions(pin.name, [a])) ?? []).includes(proposal) ? [] : [a])),
    )
  ).flat();
  return {
    severity: 'error',
    message: `${asked}: proposes ${proposal}${missing.length > 0 ? `, which is not on ${missing.join(', ')}` : ''}; pin --check wants ${expected ?? pin.version}${misfit}`,
  };
}

/**
 * The update Renovate offers from versions ascending in apk order: the newest above the current value, stable
 * ones only unless the current value is a prerelease (`ignoreUnstable`), within `maxMajorIncrement` (0: no cap).
 */
function renovateProposal(versions: readonly string[], current: string, maxMajorIncrement: number): string | undefined {
  const major = (v: string) => Number(/^\d+/.exec(v)?.[0] ?? NaN);
  const unstableOk = isPrerelease(current);
  const newer = versions.filter(
    (v) =>
      compareVersions(v, current) > 0 &&
      (unstableOk || !isPrerelease(v)) &&
      !(maxMajorIncrement > 0 && major(v) - major(current) > maxMajorIncrement),
  );
  return newer.at(-1);
}

/** The `?arch=`/`?repository=` of an apk-indexer package URL for `name`; undefined for another kind of URL. */
export function datasourceFilters(
  url: string,
  name: string,
): { arches?: string[]; repositories?: string[] } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const last = decodeURIComponent(u.pathname.split('/').pop() ?? '');
  if (last !== name) return undefined;
  const list = (k: string) =>
    u.searchParams
      .getAll(k)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
  const arches = list('arch');
  const repositories = list('repository');
  return { ...(arches.length > 0 && { arches }), ...(repositories.length > 0 && { repositories }) };
}

/** A URL whose ?arch= is not the file's arches: the config no longer fits the tree. */
function archMisfit(asked: readonly string[] | undefined, built: readonly string[]): string {
  if (!asked) return '';
  const a = sortApkArches(asked).join(',');
  const b = sortApkArches(built).join(',');
  return a === b
    ? ''
    : ` (the URL asks ?arch=${a} but this file is built for ${b || 'no arch'}; rerun apk-indexer gen renovate)`;
}
