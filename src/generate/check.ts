import { compareVersions } from '../index/version.js';
import type { PackageEntry, ResolvedImage } from './apko-file.js';
import { bootcProblems, isBootcImage } from './bootc.js';
import { archesByFile, imageArches } from './file-arches.js';
import { judgeRenovate } from './check-renovate.js';
import { isPin } from './package-spec.js';
import type { RenovateManagers } from './renovate-match.js';
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
}

export interface CheckContext {
  source: VersionSource;
  /** APK arches for images whose files name none. */
  fallbackArches: readonly string[];
  /** Packages built by melange recipes in this repository: not in the indexes until published. */
  localPackages: ReadonlySet<string>;
  /** renovate.json's managers, when there is one. */
  renovate: RenovateManagers | undefined;
  /** Texts of the files pins live in, by their displayed path, for Renovate's matching. */
  texts: ReadonlyMap<string, string>;
}

/**
 * Lints images (with their includes) against the indexes: every package present on every arch, every pin an
 * existing version there, bootc requirements, and every pin one that Renovate would find and keep fresh.
 * Each package entry is judged once, against the union of the arches of every image whose chain holds its file
 * (a pin in an included file must exist wherever it is built), and reported once, where it is written.
 */
export async function checkImages(images: readonly ResolvedImage[], ctx: CheckContext): Promise<Finding[]> {
  const known = ctx.source.arches;
  const checkable = (arches: readonly string[]) => (known ? arches.filter((a) => known.includes(a)) : [...arches]);
  const byFile = archesByFile(images, ctx.fallbackArches);
  const done = new Set<string>();
  const findings: Finding[] = [];
  for (const image of images) {
    const here = image.file.path;
    const fileFinding = (severity: Severity, message: string, subject = '-', location = here) => findings.push({ severity, location, subject, message });
    image.unknownArchs.forEach((arch, i) => fileFinding('error', `archs: apko does not know ${arch}`, '-', image.unknownArchLocations[i]));
    const arches = imageArches(image, ctx.fallbackArches);
    if (image.archs.length === 0) {
      fileFinding('warning', `names no archs; apko then builds for every arch it knows. Checked for ${arches.join(', ') || 'none'}`);
    }
    for (const arch of arches) {
      if (known && !known.includes(arch)) fileFinding('error', `no index for ${arch} was loaded; pass one or drop the arch`);
    }
    for (const entry of image.packages) {
      const key = `${entry.file}:${entry.line}:${entry.node.range?.[0] ?? ''}`;
      if (done.has(key)) continue;
      done.add(key);
      findings.push(...(await checkEntry(entry, checkable(byFile.get(entry.file)!.arches), ctx)));
    }
    const names = image.packages.flatMap((p) => (p.spec ? [p.spec.name] : []));
    const facts = { ...image, packages: names };
    if (isBootcImage(facts)) for (const problem of bootcProblems(facts)) fileFinding('error', problem, 'bootc');
  }
  return findings;
}

async function checkEntry(entry: PackageEntry, arches: readonly string[], ctx: CheckContext): Promise<Finding[]> {
  const spec = entry.spec;
  const at = (severity: Severity, message: string): Finding => ({ severity, location: `${entry.file}:${entry.line}`, subject: entry.entry, message });
  if (!spec) return [at('error', 'not a package name or name=version')];
  if (spec.tag !== undefined) return [at('ok', `from the @${spec.tag} repository; not in the indexes`)];
  if (ctx.localPackages.has(spec.name)) return [at('ok', 'built here by melange; not in the indexes until published')];
  if (arches.length === 0) return [at('warning', 'not checked: no arch to check it for (pass --arch)')];
  const perArch = await Promise.all(arches.map(async (arch) => ({ arch, versions: await ctx.source.versions(spec.name, [arch]) })));
  if (perArch.length > 0 && perArch.every((a) => a.versions === undefined)) return [at('error', 'in none of the indexes')];
  const missing = perArch.filter((a) => !a.versions?.length).map((a) => a.arch);
  if (missing.length > 0) return [at('error', `missing on ${missing.join(', ')}`)];
  if (!isPin(spec)) return [at('ok', spec.operator ? `constraint ${spec.operator}${spec.version}, not a pin` : 'unpinned: apko takes the newest version at build time')];

  const findings: Finding[] = [];
  const absent = perArch.filter((a) => !a.versions!.includes(spec.version));
  if (absent.length === perArch.length && perArch.length > 0) {
    findings.push(at('error', `version ${spec.version} does not exist (newest: ${newestOf(...perArch.map((a) => a.versions!))})`));
  } else if (absent.length > 0) {
    findings.push(at('error', absent.map((a) => `${spec.version} is not on ${a.arch} (newest there: ${newestOf(a.versions!)})`).join('; ')));
  }
  const verdict = ctx.renovate && (await judgeRenovate(entry, spec, arches, ctx.texts.get(entry.file), ctx.renovate, ctx.source));
  if (verdict && verdict.severity !== 'ok') findings.push(at(verdict.severity, verdict.message));
  const renovateSays = verdict ? `; ${verdict.message}` : '';
  if (findings.length === 0) {
    const newest = choosePin((await ctx.source.versions(spec.name, arches)) ?? [], spec.version);
    findings.push(
      newest !== undefined && compareVersions(newest, spec.version) > 0
        ? at('warning', `stale: ${newest} is present on all of ${arches.join(', ')}${renovateSays}`)
        : at('ok', `newest on all of ${arches.join(', ')}${renovateSays}`),
    );
    if (newest !== undefined && compareVersions(newest, spec.version) > 0) {
      const security = await securityNote(ctx.source.fixSource, spec.name, spec.version, newest, arches);
      if (security) findings.push({ ...at('warning', `known vulnerabilities: ${newest} fixes ${describeIds(security.ids)}`), ids: security.ids });
    }
  }
  return findings;
}

/** The newest of lists each ascending in apk order (the VersionSource contract): the greatest of their last items. */
function newestOf(...lists: (readonly string[])[]): string {
  let newest: string | undefined;
  for (const list of lists) {
    const last = list.at(-1);
    if (last !== undefined && (newest === undefined || compareVersions(last, newest) > 0)) newest = last;
  }
  return newest ?? 'none';
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

/** Findings as an aligned table, then a summary line. */
export function formatFindings(findings: readonly Finding[]): string {
  const rows = [['STATUS', 'WHERE', 'WHAT', 'DETAIL'], ...findings.map((f) => [f.severity, f.location, f.subject, f.message])];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('  ').trimEnd());
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  lines.push('', `${count('error')} error(s), ${count('warning')} warning(s), ${count('ok')} ok`);
  return `${lines.join('\n')}\n`;
}
