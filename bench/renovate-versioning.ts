/**
 * Which Renovate versioning orders APK versions as apk does? Loads the versioning modules of installed Renovate
 * packages (not a dependency of this project) and measures each candidate against `compareVersions` on version
 * histories that trip parsers: `_rc9`/`_rc10`, `_p`, letters, `_git`, `-r9`/`-r10`, four-part and date versions.
 *
 *   npm install --prefix /tmp/renovate-probe renovate@39.264.1      # the newest that runs on Node 20
 *   npm run build:bench && node dist-bench/bench/renovate-versioning.js /tmp/renovate-probe/node_modules/renovate [more...]
 *
 * (Renovate 44 needs Node 24 to run, but its versioning modules load on Node 20 for this measurement.)
 *
 * Figures: how many versions each versioning accepts, how many ordered pairs it gets right, and the update
 * Renovate would propose from every version of every history (ignoreUnstable with the datasource's `isStable`,
 * maxMajorIncrement where the Renovate version has it) against the pin `apk-indexer pin` would choose.
 * docs/generators.md records the result.
 */
import { choosePin } from '../src/generate/version-source.js';
import { RENOVATE_VERSIONING } from '../src/generate/renovate.js';
import { compareVersions, isPrerelease } from '../src/index/version.js';
import { installedRenovate, renovateDirs } from './renovate-probe.js';

/**
 * The best `regex:` candidate found: digits, an optional pre-release suffix and the `-r` revision. It refuses what
 * it cannot order (letters, `_p`, `_git`, four parts) instead of misordering it.
 */
const APK_REGEX_VERSIONING =
  '^(?<major>\\d+)(?:\\.(?<minor>\\d+))?(?:\\.(?<patch>\\d+))?(?:_(?<prerelease>(?:alpha|beta|pre|rc)\\d*))?-r(?<build>\\d+)$';

/** Version histories as they appear in Wolfi and Alpine indexes, one package each. */
export const HISTORIES: Record<string, string[]> = {
  'rc numbering (openssl)': [
    '3.3.2-r0',
    '3.4.0_rc9-r0',
    '3.4.0_rc10-r0',
    '3.4.0-r0',
    '3.4.0-r1',
    '3.4.1_rc1-r0',
    '3.4.1-r0',
  ],
  'revision -r9/-r10 (busybox)': ['1.36.1-r9', '1.36.1-r10', '1.36.1-r29', '1.37.0-r0', '1.37.0-r30'],
  'patch suffix _p (openssh)': ['9.8_p1-r0', '9.8_p1-r1', '9.9_p1-r0', '9.9_p2-r0', '9.9_p10-r0', '10.0_p1-r0'],
  'release then _p (bash)': ['5.2.26-r0', '5.2.26_p1-r0', '5.2.37-r0', '5.2.37_p2-r0'],
  'letters (tzdata)': ['2024a-r0', '2024b-r0', '2024b-r1', '2025a-r0', '2025b-r0'],
  'letters after digits (openssl 1.1)': ['1.1.1v-r0', '1.1.1w-r0', '1.1.1w-r1'],
  '_git snapshots': ['0.9-r0', '0.9_git20240105-r0', '0.9_git20240315-r0', '1.0_git20240601-r0', '1.0-r0'],
  'alpha/beta/pre (python)': [
    '3.13.0_alpha1-r0',
    '3.13.0_alpha2-r0',
    '3.13.0_beta1-r0',
    '3.13.0_pre1-r0',
    '3.13.0_rc1-r0',
    '3.13.0-r0',
  ],
  'four parts': ['1.2.3.9-r0', '1.2.3.10-r0', '1.2.4-r0', '1.2.4.1-r0'],
  'shorter versions': ['1.2-r0', '1.2.1-r0', '1.3-r0', '1.10-r0'],
  'date versions (ca-certificates)': ['20240705-r0', '20241121-r0', '20241121-r1', '20250419-r0'],
  'dotted dates (wolfi-baselayout)': ['20230201-r15', '20230201-r20', '20250512-r0'],
  'kernel (linux-lts)': ['6.6.58-r0', '6.6.63-r0', '6.12.1-r0', '6.12.10-r0'],
  'large minor (go)': ['1.22.9-r0', '1.23.4-r0', '1.23.10-r0', '1.24.0_rc1-r0', '1.24.0-r0'],
};

interface VersioningApi {
  isVersion(v: string): boolean;
  isStable(v: string): boolean;
  isCompatible(v: string, current: string): boolean;
  isGreaterThan(a: string, b: string): boolean;
  sortVersions(a: string, b: string): number;
  getMajor(v: string): number | null;
  getMinor(v: string): number | null;
  getPatch(v: string): number | null;
}

interface Figures {
  accepted: number;
  versions: number;
  pairs: { right: number; wrong: number; tied: number; rejected: number };
  updates: { right: number; wrong: number; missed: number };
  wrongExamples: string[];
  updateExamples: string[];
}

function measure(api: VersioningApi, maxMajorIncrement: number): Figures {
  const f: Figures = {
    accepted: 0,
    versions: 0,
    pairs: { right: 0, wrong: 0, tied: 0, rejected: 0 },
    updates: { right: 0, wrong: 0, missed: 0 },
    wrongExamples: [],
    updateExamples: [],
  };
  for (const history of Object.values(HISTORIES)) {
    const sorted = [...history].sort(compareVersions);
    for (const v of sorted) {
      f.versions++;
      if (api.isVersion(v)) f.accepted++;
    }
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const [lo, hi] = [sorted[i]!, sorted[j]!];
        if (!api.isVersion(lo) || !api.isVersion(hi)) f.pairs.rejected++;
        else if (api.isGreaterThan(hi, lo) && api.sortVersions(lo, hi) < 0) f.pairs.right++;
        else if (api.isGreaterThan(lo, hi)) {
          f.pairs.wrong++;
          if (f.wrongExamples.length < 6) f.wrongExamples.push(`${lo} < ${hi}`);
        } else f.pairs.tied++;
      }
    }
    for (const current of sorted) {
      const expected = choosePin(
        sorted.filter((v) => compareVersions(v, current) > 0),
        current,
      );
      const proposed = renovatePick(api, sorted, current, maxMajorIncrement);
      if (proposed === expected) {
        if (expected !== undefined) f.updates.right++;
      } else if (proposed === undefined) {
        f.updates.missed++;
        if (f.updateExamples.length < 6) f.updateExamples.push(`${current}: none, not ${expected}`);
      } else {
        f.updates.wrong++;
        if (f.updateExamples.length < 6) f.updateExamples.push(`${current}: ${proposed}, not ${expected ?? 'none'}`);
      }
    }
  }
  return f;
}

/**
 * The steps of Renovate's lookup that decide an update (lib/workers/repository/process/lookup, filter.ts): keep
 * versions the versioning accepts and finds greater and compatible, apply maxMajorIncrement, respectLatest (the
 * datasource's `tags.latest`, the newest stable version in apk order) and ignoreUnstable (the datasource marks
 * apk prereleases `isStable: false`), then take the greatest. Separate major/minor branches are not modelled: this
 * is the newest update Renovate would offer.
 */
function renovatePick(
  api: VersioningApi,
  releases: readonly string[],
  current: string,
  maxMajorIncrement: number,
): string | undefined {
  if (!api.isVersion(current)) return undefined;
  const stable = (v: string) => api.isStable(v) && !isPrerelease(v);
  const latest = choosePin(releases);
  const currentMajor = api.getMajor(current);
  let candidates = releases.filter((r) => api.isVersion(r) && api.isGreaterThan(r, current));
  if (maxMajorIncrement > 0 && currentMajor !== null) {
    candidates = candidates.filter((r) => (api.getMajor(r) ?? currentMajor) - currentMajor <= maxMajorIncrement);
  }
  if (latest !== undefined && api.isVersion(latest) && !api.isGreaterThan(current, latest)) {
    candidates = candidates.filter((r) => !api.isGreaterThan(r, latest));
  }
  candidates = stable(current)
    ? candidates.filter(stable)
    : candidates.filter((r) => stable(r) || sameRelease(api, r, current));
  candidates = candidates.filter((r) => api.isCompatible(r, current));
  return candidates.sort((a, b) => api.sortVersions(a, b)).at(-1);
}

/** An unstable release is only offered for the same major.minor.patch as the current one. */
function sameRelease(api: VersioningApi, a: string, b: string): boolean {
  return (
    api.getMajor(a) === api.getMajor(b) && api.getMinor(a) === api.getMinor(b) && api.getPatch(a) === api.getPatch(b)
  );
}

for (const dir of renovateDirs('renovate-versioning')) {
  const renovate = installedRenovate(dir);
  const versioning = await renovate.load<{ get(name: string): VersioningApi; getVersioningList(): string[] }>(
    'modules/versioning/index.js',
  );
  const available = new Set(versioning.getVersioningList());
  // More candidates to try, one per line: RENOVATE_VERSIONINGS=$'regex:^...$' node dist-bench/bench/renovate-versioning.js ...
  const extra = (process.env.RENOVATE_VERSIONINGS ?? '').split('\n').filter(Boolean);
  const candidates = ['apk', 'loose', 'semver-coerced', `regex:${APK_REGEX_VERSIONING}`, ...extra];
  console.log(
    `\nRenovate ${renovate.version}${renovate.hasMaxMajorIncrement ? ' (maxMajorIncrement default 500)' : ' (no maxMajorIncrement)'}`,
  );
  console.log(
    '| versioning | versions accepted | pairs right / wrong / tied / rejected | updates right / wrong / missed |',
  );
  console.log('| --- | --- | --- | --- |');
  for (const name of candidates) {
    if (!available.has(name.split(':')[0]!)) {
      console.log(`| ${label(name)} | not in this Renovate | | |`);
      continue;
    }
    const api = versioning.get(name);
    for (const cap of renovate.hasMaxMajorIncrement ? [500, 0] : [0]) {
      const f = measure(api, cap);
      const capNote = renovate.hasMaxMajorIncrement ? ` (maxMajorIncrement ${cap})` : '';
      console.log(
        `| ${label(name)}${capNote} | ${f.accepted}/${f.versions} | ${f.pairs.right} / ${f.pairs.wrong} / ${f.pairs.tied} / ${f.pairs.rejected} | ${f.updates.right} / ${f.updates.wrong} / ${f.updates.missed} |`,
      );
      if (process.env.BENCH_VERBOSE) {
        if (f.wrongExamples.length) console.log(`  misordered: ${f.wrongExamples.join('; ')}`);
        if (f.updateExamples.length) console.log(`  updates: ${f.updateExamples.join('; ')}`);
      }
    }
  }
}

function label(name: string): string {
  if (name === `regex:${APK_REGEX_VERSIONING}`) return '`regex:` digits, `_alpha`..`_rc`, `-r`';
  return name === RENOVATE_VERSIONING ? `\`${name}\` (chosen)` : `\`${name}\``;
}
