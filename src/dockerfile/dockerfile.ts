import { escapeRegex } from '../core/escape.js';
import { findTreeFiles } from '../core/files.js';
import { apkAddWords, shellCommands, type ApkAddWord } from './apk-add.js';
import { ShellSyntaxError, splitShellWords, type MappedText } from './shell-words.js';

/**
 * A Dockerfile or Containerfile as Renovate 44's Dockerfile manager reads it (lib/modules/manager/dockerfile/
 * extract.ts): instructions joined across escaped line ends and comment lines, the `# escape=` directive, `ARG`
 * defaults for `FROM`, the stages, and the packages every `RUN apk add` names, each with its stage.
 */

/** Renovate's Dockerfile manager file patterns (its `managerFilePatterns`), on a `/`-separated relative path. */
const DOCKERFILE_PATTERNS = [/(^|\/|\.)([Dd]ocker|[Cc]ontainer)file$/, /(^|\/)([Dd]ocker|[Cc]ontainer)file[^/]*$/];

export function isDockerfilePath(path: string): boolean {
  return DOCKERFILE_PATTERNS.some((re) => re.test(path));
}

/** One `FROM`: the image a stage builds on. */
export interface DockerfileStage {
  /** 1-based line of the `FROM`. */
  line: number;
  /** The image as written. */
  written: string;
  /** With `ARG` defaults put in; still holding `$` when some variable has no default. */
  image: string;
  /** `--platform=` as written (`linux/arm64`, `$BUILDPLATFORM`). */
  platform: string | undefined;
  /** `AS name`. */
  alias: string | undefined;
}

/** One package of a `RUN apk add`, in the stage it runs in. */
export interface DockerfilePackage extends ApkAddWord {
  /** Index into `stages`; -1 for a `RUN` before any `FROM`. */
  stage: number;
  /** 1-based line where the word starts. */
  line: number;
  /** File offsets of the whole word as written (quotes included when it starts or ends with one). */
  span: [number, number];
}

export interface Dockerfile {
  /** Shown path: relative to the root, `/`-separated. */
  path: string;
  text: string;
  stages: DockerfileStage[];
  packages: DockerfilePackage[];
}

export function parseDockerfile(text: string, path: string): Dockerfile {
  const bom = text.startsWith('\uFEFF') ? 1 : 0;
  const lines: { text: string; start: number }[] = [];
  const re = /\r?\n/g;
  let start = bom;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    lines.push({ text: text.slice(start, m.index), start });
    start = m.index + m[0].length;
  }
  lines.push({ text: text.slice(start), start });
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lines[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  const stages: DockerfileStage[] = [];
  const packages: DockerfilePackage[] = [];
  const args = new Map<string, string>();
  let escape = '\\';
  let directives = true;
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    if (directives) {
      const d = /^[ \t]*#[ \t]*(syntax|escape)[ \t]*=[ \t]*(\S)/i.exec(lines[i]!.text);
      if (!d) directives = false;
      else if (d[1]!.toLowerCase() === 'escape') {
        if (d[2] === '`') escape = '`';
        directives = false;
      }
    }
    // An instruction goes on while its last line ends with the escape character or is a comment.
    const continues = (line: string) =>
      new RegExp(`${escapeRegex(escape)}[ \\t]*$`).test(line) || /^[ \t]*#/.test(line);
    if (!directives && !lines[i]!.text.trimStart().startsWith('#'))
      while (i + 1 < lines.length && continues(lines[i]!.text)) i++;
    const instruction = lines.slice(first, i + 1);
    const joined = instruction.map((l) => l.text).join('\n');
    const keyword = /^[ \t]*(?:ONBUILD[ \t]+)?([A-Za-z]+)/i.exec(joined)?.[1]?.toUpperCase();
    if (keyword === 'ARG' && stages.length === 0) readArg(joined, escape, args);
    else if (keyword === 'FROM') {
      const stage = readFrom(joined, escape, args, first + 1);
      if (stage) stages.push(stage);
    } else if (keyword === 'RUN') {
      for (const word of runPackages(instruction, escape)) {
        const offsets = word.word.offsets.filter((o) => o >= 0);
        const from = Math.min(...offsets);
        const to = Math.max(...offsets) + 1;
        // Quotes around the word are part of it as written.
        const span: [number, number] = [
          /["']/.test(text[from - 1] ?? '') ? from - 1 : from,
          /["']/.test(text[to] ?? '') ? to + 1 : to,
        ];
        packages.push({ ...word, stage: stages.length - 1, line: lineOf(from), span });
      }
    }
  }
  return { path, text, stages, packages };
}

/** An instruction's words outside comment lines, with its escaped line ends made spaces (Renovate's join). */
function instructionText(lines: readonly { text: string; start: number }[], escape: string): MappedText {
  let text = '';
  const offsets: number[] = [];
  const kept = lines.filter((l) => !/^[ \t]*#/.test(l.text));
  kept.forEach((line, n) => {
    let body = line.text;
    const last = n === kept.length - 1;
    const cont = !last ? new RegExp(`${escapeRegex(escape)}[ \\t]*\\r?$`).exec(body) : null;
    if (cont) body = body.slice(0, cont.index);
    for (let k = 0; k < body.length; k++) {
      text += body[k];
      offsets.push(line.start + k);
    }
    if (!last) {
      text += cont ? ' ' : '\n';
      offsets.push(line.start + body.length);
    }
  });
  return { text, offsets };
}

/** The packages of every `apk add` in a `RUN` instruction, as Renovate extracts them. */
function runPackages(lines: readonly { text: string; start: number }[], escape: string): ApkAddWord[] {
  const joined = instructionText(lines, escape);
  const prefix = /^[ \t]*(?:ONBUILD[ \t]+)?RUN[ \t]+(?:--[a-z]\S*[ \t]+)*/i.exec(joined.text);
  if (!prefix) return [];
  const command: MappedText = {
    text: joined.text.slice(prefix[0].length),
    offsets: joined.offsets.slice(prefix[0].length),
  };
  if (!command.text.includes('apk')) return [];
  let words;
  try {
    words = splitShellWords(command);
  } catch (err) {
    // Renovate reads nothing from a command it cannot split.
    if (err instanceof ShellSyntaxError) return [];
    throw err;
  }
  return shellCommands(words).flatMap(apkAddWords);
}

/** `ARG NAME=value ...` before the first `FROM`: the defaults `FROM $NAME` reads (Docker's global build arguments). */
function readArg(joined: string, escape: string, args: Map<string, string>): void {
  for (const word of instructionWords(joined, escape).slice(1)) {
    const m = /^(\w+)=(.*)$/.exec(word);
    if (!m) continue;
    const value = m[2]!;
    args.set(m[1]!, /^(".*"|'.*')$/.test(value) ? value.slice(1, -1) : value);
  }
}

/** The blank-separated words of an instruction without its comment lines and escaped line ends. */
function instructionWords(joined: string, escape: string): string[] {
  return joined
    .split('\n')
    .filter((l) => !/^[ \t]*#/.test(l))
    .join('\n')
    .replace(new RegExp(`${escapeRegex(escape)}[ \\t]*\\n`, 'g'), ' ')
    .trim()
    .split(/\s+/);
}

function readFrom(
  joined: string,
  escape: string,
  args: ReadonlyMap<string, string>,
  line: number,
): DockerfileStage | undefined {
  const words = instructionWords(joined, escape).slice(1);
  let platform: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const m = /^--platform=(.+)$/.exec(flag);
    if (m) platform = m[1];
  }
  const written = words[0];
  if (written === undefined) return undefined;
  const alias = words[1]?.toLowerCase() === 'as' ? words[2] : undefined;
  const image = written.replace(
    /\$(?:\{(\w+)(?::-([^}]*))?\}|(\w+))/g,
    (all, braced?: string, fallback?: string, bare?: string) => args.get(braced ?? bare!) ?? fallback ?? all,
  );
  return { line, written, image, platform, alias };
}

/** Every Dockerfile and Containerfile under `root`, as Renovate's file patterns find them (absolute paths, sorted). */
export function findDockerfiles(root: string): string[] {
  return findTreeFiles(root, (path) => isDockerfilePath(path));
}
