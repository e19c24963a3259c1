/** Names per block of the substring search: each block has its own text and filter. */
const BLOCK = 128;
/** Bits of each block's filter: about a fifth of them set for a block of Wolfi-like names. */
const FILTER_BITS = 8192;
const FILTER_WORDS = FILTER_BITS / 32;
const FILTER_SHIFT = 32 - Math.log2(FILTER_BITS);

/**
 * The home page's package search over the names of one version map, built once when the map is made (at refresh)
 * so that no search scans every name, however many there are:
 * - names starting with the search come from a binary search over the lower-cased names, in name order;
 * - names containing it come from blocks of BLOCK names, each with its names lower-cased in one string (searched
 *   with the native `indexOf`) and a filter: a bitmap of the one-, two- and three-character sequences in its
 *   names. A block that lacks one of the search's sequences cannot hold a match and is not searched, so a search
 *   that matches nothing (what a flood of random searches mostly is) reads a few bits per block.
 * Results are bounded (`limit`): names starting with the search first, then names containing it, in name order.
 */
export class NameSearch {
  /** Indexes into `names`, in the order of their lower-cased spelling. */
  private readonly byLower: Int32Array;
  private readonly lower: readonly string[];
  /** Per block: `\n` + its names lower-cased, `\n`-separated, + `\n`. */
  private readonly blockText: string[] = [];
  private readonly filters: Int32Array;

  constructor(private readonly names: readonly string[]) {
    // Lower-cased one by one, so that each name's place is known whatever lower-casing does to its length.
    const lower = names.map((n) => n.toLowerCase());
    this.lower = lower;
    this.byLower = Int32Array.from(lower.keys());
    // APK names are lower case, so the names' own (sorted) order is nearly always the lower-cased one already.
    if (lower.some((l, i) => i > 0 && lower[i - 1]! > l))
      this.byLower.sort((a, b) => (lower[a]! < lower[b]! ? -1 : lower[a]! > lower[b]! ? 1 : a - b));
    const blocks = Math.ceil(names.length / BLOCK);
    this.filters = new Int32Array(blocks * FILTER_WORDS);
    for (let b = 0; b < blocks; b++) {
      // Joined in one go: a flat string, which charCodeAt and indexOf read fastest.
      const text = ['', ...lower.slice(b * BLOCK, (b + 1) * BLOCK), ''].join('\n');
      this.blockText.push(text);
      addGrams(text, this.filters, b * FILTER_WORDS);
    }
  }

  /** Up to `limit` names containing `query` (case-insensitive), those starting with it first; `more` if cut. */
  search(query: string, limit: number): { names: string[]; more: boolean } {
    const needle = query.toLowerCase();
    if (!needle || needle.includes('\n')) return { names: [], more: false };
    const found: number[] = [];
    const seen = new Set<number>();
    // Starting with it: the run of lower-cased names from the first one not below it.
    for (let i = this.firstNotBelow(needle); i < this.byLower.length && found.length <= limit; i++) {
      const index = this.byLower[i]!;
      if (!this.lower[index]!.startsWith(needle)) break;
      found.push(index);
      seen.add(index);
    }
    // Containing it: only the blocks whose filter has every sequence of the search.
    const grams = gramsOf(needle);
    for (let b = 0; b < this.blockText.length && found.length <= limit; b++) {
      if (!this.mayHold(b, grams)) continue;
      const text = this.blockText[b]!;
      for (let at = text.indexOf(needle); at !== -1 && found.length <= limit; at = text.indexOf(needle, at + 1)) {
        const index = b * BLOCK + countNewlines(text, at) - 1;
        if (!seen.has(index)) {
          seen.add(index);
          found.push(index);
        }
      }
    }
    return { names: found.slice(0, limit).map((i) => this.names[i]!), more: found.length > limit };
  }

  /** Whether block `block` has every bit of `grams` (pairs of word, bits). */
  private mayHold(block: number, grams: Int32Array): boolean {
    const base = block * FILTER_WORDS;
    for (let i = 0; i < grams.length; i += 2)
      if ((this.filters[base + grams[i]!]! & grams[i + 1]!) !== grams[i + 1]) return false;
    return true;
  }

  /** The first position in `byLower` whose name is not below `needle`. */
  private firstNotBelow(needle: string): number {
    let lo = 0;
    let hi = this.byLower.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lower[this.byLower[mid]!]! < needle) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** How many newlines come before `at` in `text`: the name (from 1) `at` is in. */
function countNewlines(text: string, at: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Sets the filter bit of every one-, two- and three-character sequence of `text` in `filters` from word `base`
 * (characters folded to 7 bits: anything past ASCII shares one code, a false positive at worst, never a miss).
 */
function addGrams(text: string, filters: Int32Array, base: number): void {
  let a = -1;
  let b = -1;
  for (let i = 0; i < text.length; i++) {
    const c = Math.min(text.charCodeAt(i), 127);
    let bit = hash(c);
    filters[base + (bit >>> 5)]! |= 1 << (bit & 31);
    if (b >= 0) {
      bit = hash(0x4000 | (b << 7) | c);
      filters[base + (bit >>> 5)]! |= 1 << (bit & 31);
    }
    if (a >= 0) {
      bit = hash(0x200000 | (a << 14) | (b << 7) | c);
      filters[base + (bit >>> 5)]! |= 1 << (bit & 31);
    }
    a = b;
    b = c;
  }
}

/** The filter bits of `needle`'s sequences: a block holding a match has them all. */
function gramsOf(needle: string): Int32Array {
  const one = new Int32Array(FILTER_WORDS);
  addGrams(needle, one, 0);
  const bits: number[] = [];
  for (let w = 0; w < FILTER_WORDS; w++) if (one[w] !== 0) bits.push(w, one[w]!);
  return Int32Array.from(bits);
}

function hash(gram: number): number {
  return Math.imul(gram, 0x9e3779b1) >>> FILTER_SHIFT;
}

/** The search of the current map, made once per map (IndexStore's onMap, at refresh). */
export class NameSearches {
  private last: { map: object; search: NameSearch } | undefined;

  /** The search over `map`'s names, built now if `map` is new. */
  of(map: { names(): readonly string[] }): NameSearch {
    if (this.last?.map !== map) this.last = { map, search: new NameSearch(map.names()) };
    return this.last.search;
  }
}
