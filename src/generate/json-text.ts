/**
 * JSON, JSON with comments and JSON5 read as text with the place of every value, so a file can be edited where
 * only a value changes: comments, key order, quotes and spacing elsewhere stay byte for byte. What a value means
 * is left to JSON5.parse on its span; this only finds where things are.
 */

export type JsonNode = JsonObject | JsonArray | JsonScalar;

export interface JsonObject {
  kind: 'object';
  start: number;
  end: number;
  members: JsonMember[];
  /** Everything after the last member's value up to the `}`: a trailing comma, blanks, comments. */
  tail: [number, number];
}

export interface JsonMember {
  key: string;
  /** Where the key is written. */
  keyStart: number;
  /** Whether the key is written without quotes (JSON5). */
  bareKey: boolean;
  value: JsonNode;
  /** From just after the `{` or the comma before it (its leading blanks and comments), to the end of its value. */
  chunk: [number, number];
}

export interface JsonArray {
  kind: 'array';
  start: number;
  end: number;
  elements: JsonElement[];
  tail: [number, number];
}

export interface JsonElement {
  value: JsonNode;
  chunk: [number, number];
}

export interface JsonScalar {
  kind: 'scalar';
  start: number;
  end: number;
}

/** A mistake in the text: where, and what was expected. */
export class JsonTextError extends Error {
  override readonly name = 'JsonTextError';
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the one value of `text` (JSON5, which takes JSON and JSON with comments too). */
export function parseJsonText(text: string): JsonNode {
  const p = new Reader(text);
  p.blank();
  const node = p.value();
  p.blank();
  if (p.at < text.length) throw new JsonTextError(p.at, 'text after the value');
  return node;
}

const ID_START = /[$_\p{L}\p{Nl}]/u;
const ID_PART = /[$_\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}\u200C\u200D]/u;

class Reader {
  at = 0;
  constructor(private readonly text: string) {}

  /** Blanks and comments. */
  blank(): void {
    const t = this.text;
    for (;;) {
      const c = t[this.at];
      if (c === undefined) return;
      if (/[\s\uFEFF]/.test(c)) this.at++;
      else if (c === '/' && t[this.at + 1] === '/') {
        const nl = t.slice(this.at).search(/[\n\r\u2028\u2029]/);
        this.at = nl === -1 ? t.length : this.at + nl;
      } else if (c === '/' && t[this.at + 1] === '*') {
        const close = t.indexOf('*/', this.at + 2);
        if (close === -1) throw new JsonTextError(this.at, 'a comment that is never closed');
        this.at = close + 2;
      } else return;
    }
  }

  value(): JsonNode {
    const c = this.text[this.at];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    const start = this.at;
    if (c === '"' || c === "'") this.string();
    else {
      const m =
        /^(?:true|false|null|[+-]?(?:Infinity|NaN|0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))/.exec(
          this.text.slice(this.at, this.at + 400),
        );
      if (!m) throw new JsonTextError(this.at, 'a value was expected');
      this.at += m[0].length;
    }
    return { kind: 'scalar', start, end: this.at };
  }

  private string(): string {
    const t = this.text;
    const quote = t[this.at]!;
    const start = this.at;
    this.at++;
    while (this.at < t.length && t[this.at] !== quote) {
      if (t[this.at] === '\\') this.at++;
      else if (t[this.at] === '\n') throw new JsonTextError(this.at, 'a line break inside a string');
      this.at++;
    }
    if (this.at >= t.length) throw new JsonTextError(start, 'a string that is never closed');
    this.at++;
    return t.slice(start, this.at);
  }

  private object(): JsonObject {
    const start = this.at++;
    const members: JsonMember[] = [];
    let chunkStart = this.at;
    for (;;) {
      this.blank();
      if (this.text[this.at] === '}') break;
      let key: string;
      let bareKey = false;
      const keyStart = this.at;
      const c = this.text[this.at];
      if (c === '"' || c === "'") key = unquote(this.string());
      else if (c !== undefined && ID_START.test(c)) {
        const from = this.at;
        while (this.at < this.text.length && ID_PART.test(this.text[this.at]!)) this.at++;
        key = this.text.slice(from, this.at);
        bareKey = true;
      } else throw new JsonTextError(this.at, 'a key was expected');
      this.blank();
      if (this.text[this.at] !== ':') throw new JsonTextError(this.at, '":" was expected');
      this.at++;
      this.blank();
      const value = this.value();
      members.push({ key, keyStart, bareKey, value, chunk: [chunkStart, value.end] });
      const afterValue = this.at;
      this.blank();
      if (this.text[this.at] === ',') {
        this.at++;
        chunkStart = this.at;
        continue;
      }
      this.at = afterValue;
      this.blank();
      if (this.text[this.at] !== '}') throw new JsonTextError(this.at, '"," or "}" was expected');
      break;
    }
    const tailStart = members.length > 0 ? members.at(-1)!.value.end : start + 1;
    const end = ++this.at;
    return { kind: 'object', start, end, members, tail: [tailStart, end - 1] };
  }

  private array(): JsonArray {
    const start = this.at++;
    const elements: JsonElement[] = [];
    let chunkStart = this.at;
    for (;;) {
      this.blank();
      if (this.text[this.at] === ']') break;
      const value = this.value();
      elements.push({ value, chunk: [chunkStart, value.end] });
      this.blank();
      if (this.text[this.at] === ',') {
        this.at++;
        chunkStart = this.at;
        continue;
      }
      if (this.text[this.at] !== ']') throw new JsonTextError(this.at, '"," or "]" was expected');
      break;
    }
    const tailStart = elements.length > 0 ? elements.at(-1)!.value.end : start + 1;
    const end = ++this.at;
    return { kind: 'array', start, end, elements, tail: [tailStart, end - 1] };
  }
}

/** A quoted key's text (JSON and JSON5 escapes). */
function unquote(quoted: string): string {
  const body = quoted.slice(1, -1);
  return body.replace(
    /\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|\r?\n|(.))/gs,
    (_, u?: string, x?: string, c?: string) => {
      if (u) return String.fromCharCode(parseInt(u, 16));
      if (x) return String.fromCharCode(parseInt(x, 16));
      if (c === undefined) return '';
      return ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0' } as Record<string, string>)[c] ?? c;
    },
  );
}

/**
 * One item of a rewritten object or array: an original member/element kept as written, or new text (`compact`: the
 * same on one line, for a container written on one line).
 */
export type Item = { keep: [number, number] } | { text: string; compact?: string };

/** How the file writes new members and elements: the indent of a container's items and one level of it. */
export interface Layout {
  /** Whether items sit one per line. */
  multiline: boolean;
  /** Indent of the container's items (multi-line only). */
  indent: string;
  /** One level of indentation in this file. */
  unit: string;
}

/** The layout of a container's items, from how its first item is written (else from the container's line). */
export function layoutOf(text: string, container: JsonObject | JsonArray, unit: string): Layout {
  const items = container.kind === 'object' ? container.members : container.elements;
  const first = items[0];
  if (first) {
    const lead = text.slice(first.chunk[0], valueStartOf(container, 0));
    const nl = lead.lastIndexOf('\n');
    if (nl === -1) return { multiline: false, indent: '', unit };
    return { multiline: true, indent: lead.slice(nl + 1).replace(/\S.*$/s, ''), unit };
  }
  return { multiline: true, indent: lineIndent(text, container.start) + unit, unit };
}

/** Where the key (object) or value (array) of item `i` starts: after its leading blanks and comments. */
function valueStartOf(container: JsonObject | JsonArray, i: number): number {
  return container.kind === 'array' ? container.elements[i]!.value.start : container.members[i]!.keyStart;
}

function lineIndent(text: string, at: number): string {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** The indentation unit a file uses: the smallest indent of any line (two spaces when none is). */
export function indentUnit(text: string): string {
  const indents = text
    .split('\n')
    .map((l) => /^([ \t]+)\S/.exec(l)?.[1])
    .filter((i): i is string => i !== undefined);
  if (indents.length === 0) return '  ';
  return indents.reduce((a, b) => (b.length < a.length ? b : a));
}

/**
 * The container's text with `items` in place of its members or elements: kept ones as written (with their leading
 * comments), new ones laid out as the container's own, commas between, the tail (a trailing comma, comments before
 * the closing bracket) kept.
 */
export function rewriteContainer(
  text: string,
  container: JsonObject | JsonArray,
  items: Item[],
  layout: Layout,
): string {
  const open = text[container.start]!;
  const close = text[container.end - 1]!;
  const parts = items.map((item, i) => {
    if ('keep' in item) return text.slice(item.keep[0], item.keep[1]);
    if (!layout.multiline) return `${i === 0 ? '' : ' '}${item.compact ?? item.text}`;
    return `\n${layout.indent}${item.text.split('\n').join(`\n${layout.indent}`)}`;
  });
  let tail = text.slice(container.tail[0], container.tail[1]);
  const hadItems = (container.kind === 'object' ? container.members : container.elements).length > 0;
  // An empty container's tail is its inside: a new item closes on its own line, at the container's indent.
  if (!hadItems && items.length > 0 && layout.multiline) tail = `\n${layout.indent.slice(layout.unit.length)}`;
  if (items.length === 0) tail = tail.replace(/^\s*,/, '');
  return `${open}${parts.join(',')}${tail}${close}`;
}
