/**
 * What the tar writer (tar-writer.ts) and reader (tar-reader.ts) agree on: 512-byte blocks, each entry's data padded
 * to whole blocks, and the header checksum (every byte summed, the checksum field itself counted as spaces).
 */
export const TAR_BLOCK = 512;

/** Zero bytes after `size` bytes of data, to the end of its last block. */
export function tarPadding(size: number): number {
  return (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
}

/** The checksum a header block should carry at bytes 148-155. */
export function headerChecksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}
