import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Scalar } from 'yaml';
import { ApkoFileError, describeFileProblem } from '../errors.js';
import type { ModelPath } from './config-model.js';
import { unknownKeys } from './keys.js';
import { parsePackageSpec, type PackageSpec } from './package-spec.js';

/** One `contents.packages` entry, where it is written and what it says. */
export interface PackageEntry {
  /** The file holding the entry, relative to the root when inside it. */
  file: string;
  line: number;
  entry: string;
  /** undefined when apko would not read the entry as a package. */
  spec: PackageSpec | undefined;
  /** The scalar in its document, for in-place edits. */
  node: Scalar;
}

/** A list item as written, with its line. */
export interface WrittenItem {
  value: string;
  line: number;
}

/** The image settings the checks read; in a resolved image, the nearest file that sets each one wins. */
export interface ImageSettings {
  annotations: Record<string, string>;
  cmd: string | undefined;
  entrypoint: string | undefined;
  stopSignal: string | undefined;
  runAs: string | undefined;
}

/**
 * One apko YAML file as written, its fields read and type-checked once: the fields the checks use, each read at a
 * path of apko's model (config-model.ts), so a key the model does not have cannot be read here.
 */
export interface ApkoFile extends ImageSettings {
  /** Shown path: relative to the root when inside it. */
  path: string;
  absolutePath: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  include: string | undefined;
  includeLine: number | undefined;
  archs: WrittenItem[] | undefined;
  repositories: WrittenItem[];
  buildRepositories: WrittenItem[];
  runtimeRepositories: WrittenItem[];
  keyring: WrittenItem[];
  packages: PackageEntry[];
}

/** The parsed YAML of a file, before it is judged an apko file; undefined fields when it is not YAML. */
export interface YamlText {
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function parseYaml(text: string): YamlText {
  const lines = new LineCounter();
  // yaml.v3 refuses a repeated key, as `yaml` does by default (uniqueKeys).
  const doc = parseDocument(text, { lineCounter: lines });
  return { text, doc, lines };
}

/** Reads one apko file from disk; `root` is apko's working directory, which paths are shown relative to. */
export function readApkoFile(path: string, root: string): ApkoFile {
  const absolute = resolve(root, path);
  const shown = displayPath(absolute, root);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ApkoFileError(shown, `cannot read: ${describeFileProblem(err)}`);
  }
  return decodeApkoFile(parseYaml(text), shown, absolute);
}

/**
 * Reads an apko file as apko decodes it: yaml.v3 with `KnownFields(true)`, so a misspelt key (`arch:`,
 * `contents.package:`) is an error naming file, line and key, as `apko build` refuses it.
 */
export function decodeApkoFile(yaml: YamlText, shown: string, absolutePath: string): ApkoFile {
  const { text, doc, lines } = yaml;
  const problem = doc.errors[0];
  if (problem) {
    const at = problem.linePos?.[0] ?? lines.linePos(problem.pos[0]);
    // yaml's message ends with " at line L, column C:" and a source excerpt; say it once, without the dangling colon.
    const what = problem.message
      .split('\n')[0]!
      .replace(/ at line \d+, column \d+:?\s*$/, '')
      .replace(/:\s*$/, '');
    throw new ApkoFileError(
      shown,
      `not valid YAML at line ${at.line}, column ${at.col}: ${what} (${problem.code})`,
      at.line,
    );
  }
  if (!isMap(doc.contents)) throw new ApkoFileError(shown, 'not an apko image configuration (expected a mapping)');
  const unknown = unknownKeys(doc)[0];
  if (unknown) {
    const hint = unknown.suggestion ? `; did you mean ${unknown.suggestion}?` : '';
    throw new ApkoFileError(
      shown,
      `unknown key ${unknown.path} (apko refuses the file${hint})`,
      lines.linePos(unknown.offset).line,
    );
  }
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const nodeAt = (path: ModelPath): unknown => deref(doc.getIn(path, true));
  /** The item as written (its first line), so a message shows what is wrong. */
  const written = (node: unknown): string => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    const source = range ? text.slice(range[0], range[1]).split('\n')[0]!.trim() : '';
    return source ? ` (${JSON.stringify(source.length > 60 ? `${source.slice(0, 60)}...` : source)})` : '';
  };
  const fail = (path: string, node: unknown, detail: string): never => {
    throw new ApkoFileError(shown, `${path}: ${detail}${written(node)}`, lineAt(node));
  };
  // apko decodes with yaml.v3, which sets any non-null scalar into a string field as written (`1.0` stays `1.0`,
  // `containers.bootc: 1` is "1"); only a mapping or a list where a string belongs is an error.
  const asText = (path: string, node: unknown): string | undefined => {
    if (node === undefined || node === null) return undefined;
    if (!isScalar(node))
      return fail(
        path,
        node,
        `expected a string, got ${isSeq(node) ? 'a list' : isMap(node) ? 'a mapping' : 'something else'}`,
      );
    return scalarText(node);
  };
  const stringField = (path: ModelPath) => asText(path.join('.'), nodeAt(path));
  const isNull = (node: unknown) => node === undefined || node === null || (isScalar(node) && node.value === null);
  const listNodes = (path: ModelPath, what: string): { items: Scalar[]; values: WrittenItem[] } | undefined => {
    const node = nodeAt(path);
    if (isNull(node)) return undefined;
    if (!isSeq(node))
      return fail(path.join('.'), node, `expected ${what}, got ${isMap(node) ? 'a mapping' : 'a single value'}`);
    const items: Scalar[] = [];
    const values: WrittenItem[] = [];
    node.items.forEach((raw, i) => {
      const item = deref(raw);
      const value = isScalar(item) ? scalarText(item) : undefined;
      if (value === undefined)
        fail(
          `${path.join('.')}[${i}]`,
          item,
          `expected a string item, got ${isSeq(item) ? 'a list' : isMap(item) ? 'a mapping (is a space missing after a colon, or a quote?)' : 'an empty item'}`,
        );
      items.push(item as Scalar);
      values.push({ value: value!, line: lineAt(item) ?? 0 });
    });
    return { items, values };
  };
  const list = (path: ModelPath, what: string) => listNodes(path, what)?.values;

  const packages: PackageEntry[] = [];
  const packageList = listNodes(['contents', 'packages'], 'a list of package names');
  packageList?.items.forEach((node, i) => {
    const { value, line } = packageList.values[i]!;
    packages.push({ file: shown, line, entry: value, spec: parsePackageSpec(value), node });
  });
  const annotationsNode = nodeAt(['annotations']);
  // Own properties whatever the key (`__proto__` too): built from entries, never by assignment.
  const annotationEntries: Array<[string, string]> = [];
  if (!isNull(annotationsNode)) {
    if (!isMap(annotationsNode)) fail('annotations', annotationsNode, 'expected a mapping of strings');
    for (const pair of (annotationsNode as { items: { key: unknown; value: unknown }[] }).items) {
      const key = asText('annotations', deref(pair.key));
      if (key === undefined) continue;
      const value = asText(`annotations.${key}`, deref(pair.value));
      if (value !== undefined) annotationEntries.push([key, value]);
    }
  }
  const annotations: Record<string, string> = Object.fromEntries(annotationEntries);
  return {
    path: shown,
    absolutePath,
    text,
    doc,
    lines,
    include: stringField(['include']),
    includeLine: lineAt(nodeAt(['include'])),
    archs: list(['archs'], 'a list of arch names'),
    repositories: list(['contents', 'repositories'], 'a list of repositories') ?? [],
    buildRepositories: list(['contents', 'build_repositories'], 'a list of repositories') ?? [],
    runtimeRepositories: list(['contents', 'runtime_repositories'], 'a list of repositories') ?? [],
    keyring: list(['contents', 'keyring'], 'a list of keys') ?? [],
    packages,
    annotations,
    cmd: stringField(['cmd']),
    entrypoint: stringField(['entrypoint', 'command']),
    stopSignal: stringField(['stop-signal']),
    runAs: stringField(['accounts', 'run-as']),
  };
}

/**
 * A scalar as yaml.v3 sets it into a Go string: its source text for plain scalars (`1.0`, `0`, `true`),
 * the decoded string for quoted and block ones; undefined for null (`~`, `null`, nothing).
 */
function scalarText(node: Scalar): string | undefined {
  if (node.value === null || node.value === undefined) return undefined;
  if (typeof node.value === 'string') return node.value;
  const value: unknown = node.value;
  // A plain scalar that is not a string (a number, a boolean) has its source text.
  return (
    node.source ??
    (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : undefined)
  );
}

export function displayPath(absolute: string, root: string): string {
  const rel = relative(root, absolute);
  return rel.startsWith('..') || isAbsolute(rel) ? absolute : rel.split('\\').join('/');
}
