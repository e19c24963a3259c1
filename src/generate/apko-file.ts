import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Scalar } from 'yaml';
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
  if (problem) throw new ApkoFileError(shown, `not valid YAML: ${problem.message.split('\n')[0]}`, lines.linePos(problem.pos[0]).line);
  if (!isMap(doc.contents)) throw new ApkoFileError(shown, 'not an apko image configuration (expected a mapping)');
  const js: unknown = doc.toJS();
  const field = <T>(path: string[], check: (v: unknown) => v is T, what: string): T | undefined => {
    let value = js;
    for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined || value === null) return undefined;
    if (!check(value)) throw new ApkoFileError(shown, `${path.join('.')}: expected ${what}`);
    return value;
  };
  const packagesNode = doc.getIn(['contents', 'packages'], true);
  const packages: PackageEntry[] = [];
  if (packagesNode !== undefined && packagesNode !== null) {
    if (!isSeq(packagesNode)) throw new ApkoFileError(shown, 'contents.packages: expected a list');
    for (const item of packagesNode.items) {
      if (!isScalar(item) || typeof item.value !== 'string') throw new ApkoFileError(shown, 'contents.packages: expected strings');
      const line = item.range ? lines.linePos(item.range[0]).line : 0;
      packages.push({ file: shown, line, entry: item.value, spec: parsePackageSpec(item.value), node: item });
    }
  }
  return {
    path: shown,
    text,
    doc,
    lines,
    include: field(['include'], isString, 'a file name'),
    archs: field(['archs'], isStringList, 'a list of arch names'),
    packages,
    annotations: field(['annotations'], isStringMap, 'a mapping of strings') ?? {},
    cmd: field(['cmd'], isString, 'a string'),
    entrypoint: field(['entrypoint', 'command'], isString, 'a string'),
    stopSignal: field(['stop-signal'], isString, 'a string'),
    runAs: field(['accounts', 'run-as'], isString, 'a string'),
  };
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
  const archs = nearest((f) => (f.archs && f.archs.length > 0 ? f.archs : undefined)) ?? [];
  const apkArches = archs.map(toApkArch);
  return {
    file: chain[0]!,
    chain,
    archs,
    apkArches: [...new Set(apkArches.filter((a): a is string => a !== undefined))],
    unknownArchs: archs.filter((_, i) => apkArches[i] === undefined),
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

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString);
