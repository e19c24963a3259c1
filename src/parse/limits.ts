/** Bounds that keep a hostile or broken index from exhausting memory. */
export interface ReadLimits {
  /** Decompressed bytes across all gzip members of one APKINDEX.tar.gz. */
  maxDecompressedBytes: number;
  /** Package records in one APKINDEX. */
  maxEntries: number;
  /** Bytes in one APKINDEX line. */
  maxLineBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ReadLimits> = Object.freeze({
  // Wolfi's x86_64 index is ~70 MB decompressed with ~250k records and keeps growing.
  maxDecompressedBytes: 1024 * 1024 * 1024,
  maxEntries: 4_000_000,
  maxLineBytes: 1024 * 1024,
});

export function resolveLimits(partial?: Partial<ReadLimits>): ReadLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}
