import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Scalar } from 'yaml';
import { toApkArch } from './arch.js';
import { parsePackageSpec, type PackageSpec } from './package-spec.js';

/** One `contents.packages` entry, where it is written and what it says. */
export interface PackageEntry {
  /** The file holding the entry, relative to the root when inside it. */
  file: string;
  line: number;
  entry: string;
  spec: PackageSpec | undefined;
  /** The scalar in its document, for in-place edits. */
  node: Scalar;
}

/** The image settings the checks read; in a resolved image, the nearest file that sets each one wins. */
export interface ImageSettings {
  annotations: Record<string, string>;
  cmd: string | undefined;
  entrypoint: string | undefined;
  stopSignal: string | undefined;
  runAs: string | undefined;
}

/** One apko YAML file as written, its fields read and type-checked once. */
export interface ApkoFile extends ImageSettings {
  path: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  include: string | undefined;
  archs: string[] | undefined;
  /** The line of each `archs:` item, for messages. */
  archLines: number[];
  packages: PackageEntry[];
}

/** An image as apko builds it: the file merged with its `include:` chain, the including file winning. */
export interface ResolvedImage extends ImageSettings {
  file: ApkoFile;
  /** The file first, then what it includes, and so on. */
  chain: ApkoFile[];
  /** `archs` as written (nearest file that sets them), and their APK names. */
  archs: string[];
  apkArches: string[];
  unknownArchs: string[];
  /** Where the unknown archs are written (`file:line`), in the same order. */
  unknownArchLocations: string[];
  /** Included packages first, as apko concatenates them. */
  packages: PackageEntry[];
}

export class ApkoFileError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${detail}`);
  }
}

export interface ResolveOptions {
  /** apko's working directory: file arguments and `include:` are resolved against it, as apko does. */
  root: string;
  /** apko's `--include-paths`, tried after the working directory. */
  includePaths?: readonly string[];
}

async function readApkoFile(path: string, root: string): Promise<ApkoFile> {
  const absolute = resolve(root, path);
  const shown = displayPath(absolute, root);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    throw new ApkoFileError(shown, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const problem = doc.errors[0];
  if (problem) {
    const at = problem.linePos?.[0] ?? lines.linePos(problem.pos[0]);
    // yaml's message ends with " at line L, column C:" and a source excerpt; say it once, without the dangling colon.
    const what = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, '').replace(/:\s*$/, '');
    throw new ApkoFileError(shown, `not valid YAML at line ${at.line}, column ${at.col}: ${what} (${problem.code})`, at.line);
  }
  if (!isMap(doc.contents)) throw new ApkoFileError(shown, 'not an apko image configuration (expected a mapping)');
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const nodeAt = (path: string[]): unknown => deref(doc.getIn(path, true));
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
    if (!isScalar(node)) return fail(path, node, `expected a string, got ${isSeq(node) ? 'a list' : isMap(node) ? 'a mapping' : 'something else'}`);
    return scalarText(node);
  };
  const stringField = (path: string[]) => asText(path.join('.'), nodeAt(path));
  const listField = (path: string[], what: string): { values: string[]; lines: number[] } | undefined => {
    const node = nodeAt(path);
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return undefined;
    if (!isSeq(node)) return fail(path.join('.'), node, `expected ${what}, got ${isMap(node) ? 'a mapping' : 'a single value'}`);
    const values: string[] = [];
    const itemLines: number[] = [];
    node.items.forEach((raw, i) => {
      const item = deref(raw);
      const value = isScalar(item) ? scalarText(item) : undefined;
      if (value === undefined) fail(`${path.join('.')}[${i}]`, item, `expected a string item, got ${isSeq(item) ? 'a list' : isMap(item) ? 'a mapping (is a space missing after a colon, or a quote?)' : 'an empty item'}`);
      values.push(value!);
      itemLines.push(lineAt(item) ?? 0);
    });
    return { values, lines: itemLines };
  };

  const packagesNode = nodeAt(['contents', 'packages']);
  const packages: PackageEntry[] = [];
  const list = listField(['contents', 'packages'], 'a list of package names');
  if (list && isSeq(packagesNode)) {
    packagesNode.items.forEach((raw, i) => {
      const node = deref(raw) as Scalar;
      const entry = list.values[i]!;
      packages.push({ file: shown, line: list.lines[i]!, entry, spec: parsePackageSpec(entry), node });
    });
  }
  const archs = listField(['archs'], 'a list of arch names');
  const annotationsNode = nodeAt(['annotations']);
  const annotations: Record<string, string> = {};
  if (annotationsNode !== undefined && annotationsNode !== null && !(isScalar(annotationsNode) && annotationsNode.value === null)) {
    if (!isMap(annotationsNode)) fail('annotations', annotationsNode, 'expected a mapping of strings');
    for (const pair of (annotationsNode as { items: { key: unknown; value: unknown }[] }).items) {
      const key = asText('annotations', deref(pair.key));
      if (key === undefined) continue;
      const value = asText(`annotations.${key}`, deref(pair.value));
      if (value !== undefined) annotations[key] = value;
    }
  }
  return {
    path: shown,
    text,
    doc,
    lines,
    include: stringField(['include']),
    archs: archs?.values,
    archLines: archs?.lines ?? [],
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
  return node.source ?? (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : undefined);
}

/** Loads a file and its `include:` chain, resolving each include as apko does: working directory, then include paths. */
export async function resolveImage(path: string, options: ResolveOptions): Promise<ResolvedImage> {
  const chain: ApkoFile[] = [await readApkoFile(path, options.root)];
  const seen = new Set([resolve(options.root, path)]);
  for (let file = chain[0]!; file.include !== undefined; file = chain[chain.length - 1]!) {
    const target = await findInclude(file.include, options);
    if (target === undefined) {
      const line = lineOf(file, ['include']);
      throw new ApkoFileError(file.path, `include: ${file.include} not found (apko resolves it against its working directory ${options.root}, not against ${file.path})`, line);
    }
    if (seen.has(target)) throw new ApkoFileError(file.path, `include: ${file.include} includes itself through its chain`, lineOf(file, ['include']));
    seen.add(target);
    chain.push(await readApkoFile(target, options.root));
  }
  const nearest = <T>(pick: (f: ApkoFile) => T | undefined): T | undefined => {
    for (const f of chain) {
      const v = pick(f);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const archsFile = chain.find((f) => f.archs && f.archs.length > 0);
  const archs = archsFile?.archs ?? [];
  const apkArches = archs.map(toApkArch);
  return {
    file: chain[0]!,
    chain,
    archs,
    apkArches: [...new Set(apkArches.filter((a): a is string => a !== undefined))],
    unknownArchs: archs.filter((_, i) => apkArches[i] === undefined),
    unknownArchLocations: archs.flatMap((_, i) => (apkArches[i] === undefined ? [`${archsFile!.path}:${archsFile!.archLines[i]}`] : [])),
    packages: [...chain].reverse().flatMap((f) => f.packages),
    annotations: Object.assign({}, ...[...chain].reverse().map((f) => f.annotations)) as Record<string, string>,
    cmd: nearest((f) => f.cmd || undefined),
    entrypoint: nearest((f) => f.entrypoint || undefined),
    stopSignal: nearest((f) => f.stopSignal || undefined),
    runAs: nearest((f) => f.runAs || undefined),
  };
}

async function findInclude(include: string, options: ResolveOptions): Promise<string | undefined> {
  const candidates = isAbsolute(include)
    ? [include]
    : [resolve(options.root, include), ...(options.includePaths ?? []).map((p) => resolve(options.root, join(p, include)))];
  for (const candidate of candidates) {
    if (await isFile(candidate)) return candidate;
  }
  return undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The 1-based line of a map key, for messages. */
function lineOf(file: ApkoFile, path: (string | number)[]): number | undefined {
  const node = file.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? file.lines.linePos(node.range[0]).line : undefined;
}

function displayPath(absolute: string, root: string): string {
  const rel = relative(root, absolute);
  return rel.startsWith('..') || isAbsolute(rel) ? absolute : rel.split('\\').join('/');
}

