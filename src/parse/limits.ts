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

/**
 * The defaults admit about four times Wolfi's x86_64 index (~70 MB of text, ~250k records, ~10 MB compressed, tens
 * of thousands of names), and bound what any index they admit costs: measured, the worst such index holds about
 * 500 MiB once loaded and 750 MiB while a refresh reads its successor beside it (docs/configuration.md, "Memory").
 */
export const DEFAULT_LIMITS: Readonly<ReadLimits> = Object.freeze({
  maxDecompressedBytes: 256 * 1024 * 1024,
  maxEntries: 1_000_000,
  maxLineBytes: 1024 * 1024,
  // A signature must not wait behind an unbounded download.
  maxCompressedBytes: 64 * 1024 * 1024,
  maxNames: 250_000,
  maxProvidesPerRecord: 1_000,
  maxProvides: 1_000_000,
});

/**
 * The default total of compressed bytes all index downloads in flight may hold until verified (`limits.downloadBudget`,
 * see DownloadBudget): two indexes at the compressed size limit, or dozens of Wolfi-sized ones.
 */
export const DEFAULT_DOWNLOAD_BUDGET = 2 * DEFAULT_LIMITS.maxCompressedBytes;

export function resolveLimits(partial?: Partial<ReadLimits>): ReadLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}
