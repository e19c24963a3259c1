/** A small reader for Dockerfiles and .dockerignore files, enough to check the facts the tests care about. */

export interface Instruction {
  /** Upper-case instruction name: FROM, RUN, COPY, ... */
  name: string;
  /** Everything after the name, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  /** The image it starts from. */
  base: string;
  /** Its `AS` name, if any. */
  alias: string | undefined;
  instructions: Instruction[];
}

/** Instructions in order: comments and parser directives dropped, `\` continuations joined (as BuildKit does). */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    const start = i + 1;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      // Comment lines inside a continuation are removed, not ended on.
      if (/^\s*#/.test(lines[i]!)) continue;
      line += lines[i]!;
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
    if (m) out.push({ name: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
  }
  return out;
}

/** The build stages, each with its instructions. */
export function stages(text: string): Stage[] {
  const out: Stage[] = [];
  for (const ins of instructions(text)) {
    if (ins.name === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      out.push({ base: m[1]!, alias: m[2], instructions: [] });
    } else if (out.length === 0) {
      if (ins.name !== 'ARG') throw new Error(`line ${ins.line}: ${ins.name} before the first FROM`);
    } else out.at(-1)!.instructions.push(ins);
  }
  return out;
}

/** The JSON array of an exec-form instruction (ENTRYPOINT, CMD, HEALTHCHECK's CMD), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(args) as unknown;
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** COPY/ADD: its flags (--from=build), sources and destination. */
export function copyArgs(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const exec = execForm(args);
  const words = exec ?? args.split(/\s+/).filter(Boolean);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [k, v] = words.shift()!.slice(2).split('=');
    flags[k!] = v ?? '';
  }
  return { flags, sources: words.slice(0, -1), dest: words.at(-1)! };
}

/**
 * A .dockerignore as a predicate on context paths: Go filepath.Match patterns anchored at the context root, `**`
 * for any number of directories, `!` re-including; a matched directory excludes what is under it.
 */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      const re = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '(?:.*)'
            : part
                .replace(/[.+^${}()|\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (path: string) => {
    const p = path.replace(/^\.\//, '').replace(/\/+$/, '');
    let ignored = false;
    for (const r of rules) if (r.re.test(p)) ignored = !r.negate;
    return ignored;
  };
}
