/** apko's OCI arch names and the APK names of the indexes built for them (apko `Architecture.ToAPK`). */
const APKO_TO_APK = {
  '386': 'x86',
  amd64: 'x86_64',
  arm64: 'aarch64',
  'arm/v6': 'armhf',
  'arm/v7': 'armv7',
  loong64: 'loongarch64',
  ppc64le: 'ppc64le',
  riscv64: 'riscv64',
  s390x: 's390x',
} as const;

/** An arch as apko names it. */
export type ApkoArch = keyof typeof APKO_TO_APK;
/** An arch as APK (and an index's path) names it. */
export type ApkArch = (typeof APKO_TO_APK)[ApkoArch];

/** apko's arch names, in apko's `AllArchs` order. */
export const APKO_ARCH_NAMES = Object.keys(APKO_TO_APK) as ApkoArch[];
/** The same arches' APK names, in the same order. */
export const APK_ARCH_NAMES = Object.values(APKO_TO_APK) as ApkArch[];

const APK_TO_APKO = new Map(Object.entries(APKO_TO_APK).map(([apko, apk]) => [apk, apko as ApkoArch]));

/**
 * The APK arch for an `archs:` entry. apko accepts both spellings (`amd64` and `x86_64`), so both are read;
 * undefined for a name apko does not know.
 */
export function toApkArch(arch: string): string | undefined {
  if (Object.hasOwn(APKO_TO_APK, arch)) return APKO_TO_APK[arch as ApkoArch];
  return APK_TO_APKO.has(arch as ApkArch) ? arch : undefined;
}

/** The apko spelling for an APK arch name, for files this tool writes. */
export function toApkoArch(apkArch: string): ApkoArch | undefined {
  return (
    APK_TO_APKO.get(apkArch as ApkArch) ?? (Object.hasOwn(APKO_TO_APK, apkArch) ? (apkArch as ApkoArch) : undefined)
  );
}

/** Arch lists in one stable order (apko's `AllArchs` order), so generated text does not depend on input order. */
export function sortApkArches(arches: Iterable<string>): string[] {
  const order: readonly string[] = APK_ARCH_NAMES;
  return [...new Set(arches)].sort((a, b) => rank(order, a) - rank(order, b) || (a < b ? -1 : a > b ? 1 : 0));
}

function rank(order: readonly string[], arch: string): number {
  const i = order.indexOf(arch);
  return i < 0 ? order.length : i;
}
