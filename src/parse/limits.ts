/** Bounds that keep a hostile or broken index from exhausting memory. */
export interface ReadLimits {
  /** Decompressed bytes across all gzip members of one APKINDEX.tar.gz. */
  maxDecompressedBytes: number;
  /** Package records in one APKINDEX. */
  maxEntries: number;
  /** Bytes in one APKINDEX line. */
  maxLineBytes: number;
  /**
   * Compressed bytes of one APKINDEX.tar.gz when trusted keys are configured: the file is held (compressed) until
   * its signature is checked, so nothing of an unsigned or foreign index is inflated or parsed.
   */
  maxCompressedBytes: number;
  /** Distinct package names in one APKINDEX, provided names included. */
  maxNames: number;
  /** Unprefixed `name=version` provides in one record (`cmd:`, `so:` … are not counted: they are not kept). */
  maxProvidesPerRecord: number;
  /** Unprefixed `name=version` provides in one APKINDEX. */
  maxProvides: number;
}

export const DEFAULT_LIMITS: Readonly<ReadLimits> = Object.freeze({
  // Wolfi's x86_64 index is ~70 MB decompressed with ~250k records and keeps growing.
  maxDecompressedBytes: 1024 * 1024 * 1024,
  maxEntries: 4_000_000,
  maxLineBytes: 1024 * 1024,
  // Wolfi's x86_64 APKINDEX.tar.gz is ~10 MB; a signature must not wait behind an unbounded download.
  maxCompressedBytes: 256 * 1024 * 1024,
  // Wolfi has tens of thousands of names and few unprefixed provides per record; each bound is far above it and
  // keeps a hostile index's names and provide entries to a few hundred MiB at most.
  maxNames: 1_000_000,
  maxProvidesPerRecord: 1_000,
  maxProvides: 4_000_000,
});

/**
 * The default total of compressed bytes all index downloads in flight may hold until verified (`limits.downloadBudget`,
 * see DownloadBudget): two indexes at the compressed size limit, or dozens of Wolfi-sized ones.
 */
export const DEFAULT_DOWNLOAD_BUDGET = 2 * DEFAULT_LIMITS.maxCompressedBytes;

export function resolveLimits(partial?: Partial<ReadLimits>): ReadLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}
