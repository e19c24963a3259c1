/**
 * Minimal reading of ustar entries, for the signature members only: they are a few hundred bytes,
 * and must be understood before the data member starts so the signed bytes can be hashed as they pass.
 */
export interface TarEntry {
  name: string;
  data: Buffer;
}

const BLOCK = 512;

export function entryName(block: Buffer): string {
  const end = block.indexOf(0, 0);
  return block.toString('utf8', 0, end === -1 || end > 100 ? 100 : end);
}

export function readTarEntries(buf: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let pos = 0;
  while (pos + BLOCK <= buf.length) {
    const header = buf.subarray(pos, pos + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) throw new Error(`corrupt tar header at byte ${pos}`);
    const size = parseOctal(header.subarray(124, 136));
    const start = pos + BLOCK;
    if (size === undefined || start + size > buf.length) throw new Error(`tar entry at byte ${pos} is truncated`);
    entries.push({ name: entryName(header), data: buf.subarray(start, start + size) });
    pos = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

function parseOctal(field: Buffer): number | undefined {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

function checksumOk(header: Buffer): boolean {
  const stored = parseOctal(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return stored === sum;
}
