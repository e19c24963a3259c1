import { Document, isMap, isPair, isScalar, isSeq, parse, parseDocument, type Node, type Scalar } from 'yaml';

/** Where a comment goes: a path of map keys and sequence indexes, as in `yaml`'s `getIn`. */
export type YamlPath = readonly (string | number)[];

/** A comment above the node at `path` (a map entry or a sequence item), or after it on the same line. */
export interface YamlNote {
  path: YamlPath;
  text: string;
  inline?: boolean;
}

/** A generated file's content: the value (validated against its schema in tests) and the comments for a reader. */
export interface CommentedValue<T> {
  value: T;
  header: string;
  notes: YamlNote[];
  /** Numbers written in octal (`0o755`), as file modes read best. */
  octal?: YamlPath[];
}

/**
 * Renders a value as YAML with its comments, in one deterministic layout: two-space indent, no line folding,
 * a blank line between top-level sections. The same input always gives the same bytes.
 */
export function renderYaml<T>(content: CommentedValue<T>): string {
  const doc = new Document(content.value);
  doc.commentBefore = commentText(content.header);
  for (const note of content.notes) {
    const node = nodeAt(doc, note.path);
    if (note.inline) node.comment = ` ${note.text}`;
    else node.commentBefore = commentText(note.text);
  }
  for (const path of content.octal ?? []) {
    const node = doc.getIn(path, true);
    if (!isScalar(node) || typeof node.value !== 'number')
      throw new Error(`no number at ${path.join('.')} to write in octal`);
    node.format = 'OCT';
  }
  if (isMap(doc.contents)) {
    doc.contents.items.forEach((pair, i) => {
      if (i > 0 && isScalar(pair.key)) pair.key.spaceBefore = true;
    });
  }
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

function commentText(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '' : ` ${line}`))
    .join('\n');
}

/** The node a note attaches to: a map entry's key, or a sequence item. */
function nodeAt(doc: Document, path: YamlPath): Node {
  if (path.length === 0) throw new Error('a note needs a path');
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1]!;
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === last);
    if (pair && isScalar(pair.key)) return pair.key;
  } else if (isSeq(parent) && typeof last === 'number') {
    const item = parent.items[last];
    if (item && typeof item === 'object') return item as Node;
  }
  throw new Error(`no YAML node at ${path.join('.')} for a comment`);
}

/** One scalar to replace in a YAML text: its node, and the value it should hold. */
export interface ScalarEdit {
  node: Scalar;
  value: string;
}

/**
 * Applies scalar edits to the original text, touching only the bytes of each edited scalar: comments, key
 * order, blank lines, quoting style and indentation stay exactly as they were. The result is parsed again to
 * prove each scalar now reads as intended.
 */
export function applyScalarEdits(text: string, edits: readonly ScalarEdit[]): string {
  const located = edits.map((edit) => {
    const range = edit.node.range;
    if (!range) throw new Error('a scalar without a source range cannot be edited in place');
    return { start: range[0], end: range[1], replacement: renderScalarLike(edit.node, edit.value), value: edit.value };
  });
  located.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  const written: { start: number; value: string }[] = [];
  for (const edit of located) {
    if (edit.start < at) throw new Error('overlapping YAML edits');
    out += text.slice(at, edit.start);
    written.push({ start: out.length, value: edit.value });
    out += edit.replacement;
    at = edit.end;
  }
  out += text.slice(at);
  verifyEdits(out, written);
  return out;
}

/** The new value in the style of the old scalar; a plain scalar that would change meaning gets double quotes. */
function renderScalarLike(node: Scalar, value: string): string {
  switch (node.type) {
    case 'QUOTE_SINGLE':
      return `'${value.replaceAll("'", "''")}'`;
    case 'QUOTE_DOUBLE':
      return JSON.stringify(value);
    case 'PLAIN':
    case undefined:
      return readsAsString(value) ? value : JSON.stringify(value);
    default:
      throw new Error(`cannot rewrite a ${node.type} scalar in place`);
  }
}

function readsAsString(value: string): boolean {
  try {
    return parse(value) === value && !/[#:]|^\s|\s$/.test(value);
  } catch {
    return false;
  }
}

function verifyEdits(text: string, written: readonly { start: number; value: string }[]): void {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`edited YAML no longer parses: ${doc.errors[0]!.message}`);
  const values = new Map<number, unknown>();
  visitScalars(doc.contents, (s) => {
    if (s.range) values.set(s.range[0], s.value);
  });
  for (const edit of written) {
    const value = values.get(edit.start);
    if (value !== edit.value)
      throw new Error(`YAML edit at offset ${edit.start} reads back as ${String(value)}, not ${edit.value}`);
  }
}

function visitScalars(node: unknown, visit: (s: Scalar) => void): void {
  if (isScalar(node)) visit(node);
  else if (isMap(node) || isSeq(node)) {
    for (const item of node.items) {
      if (isPair(item)) {
        visitScalars(item.key, visit);
        visitScalars(item.value, visit);
      } else visitScalars(item, visit);
    }
  }
}
