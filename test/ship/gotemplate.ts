/**
 * Just enough of Go's text/template syntax to check a Helm chart without helm: the actions are found as Go's lexer
 * finds them (strings, raw strings and comments may hold `}}`), whitespace trim markers (`{{-`, `-}}`) are applied
 * as Go applies them, control structures are parsed into branches, and every output action is replaced by a
 * placeholder of the shape its pipeline produces: a block at a given indentation (`nindent N`, `indent N`,
 * `toYaml`) or a scalar. What remains is the YAML the template would produce, minus the values, for one choice of
 * branches; `choices()` lists choices that together take every branch of every if/with/range at least once.
 */

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; body: string; line: number }
  | { kind: 'branching'; keyword: 'if' | 'with' | 'range'; head: string; branches: Node[][]; line: number }
  | { kind: 'define'; name: string; body: Node[]; line: number };

interface Action {
  kind: 'action';
  body: string;
  trimLeft: boolean;
  trimRight: boolean;
  comment: boolean;
  line: number;
}
type Token = { kind: 'text'; text: string } | Action;

export class TemplateSyntaxError extends Error {}

const lineAt = (src: string, offset: number) => src.slice(0, offset).split('\n').length;

/** Splits a template into text and actions. */
export function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    if (open < 0) {
      tokens.push({ kind: 'text', text: src.slice(pos) });
      break;
    }
    tokens.push({ kind: 'text', text: src.slice(pos, open) });
    let i = open + 2;
    // "{{- " trims; "{{-3}}" is the number -3. Go wants the dash followed by an ASCII space (or tab, newline).
    const trimLeft = src[i] === '-' && /[ \t\r\n]/.test(src[i + 1] ?? '');
    if (trimLeft) i += 2;
    while (/[ \t\r\n]/.test(src[i] ?? '')) i++;
    const bodyStart = i;
    let comment = false;
    if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new TemplateSyntaxError(`line ${lineAt(src, open)}: unclosed comment`);
      comment = true;
      i = end + 2;
    }
    let close = -1;
    while (i < src.length) {
      const c = src[i]!;
      if (!comment && (c === '"' || c === "'")) {
        i++;
        while (i < src.length && src[i] !== c) {
          if (src[i] === '\\') i++;
          if (src[i] === '\n') throw new TemplateSyntaxError(`line ${lineAt(src, i)}: newline in a quoted string`);
          i++;
        }
        if (i >= src.length) throw new TemplateSyntaxError(`line ${lineAt(src, open)}: unterminated string`);
        i++;
        continue;
      }
      if (!comment && c === '`') {
        const end = src.indexOf('`', i + 1);
        if (end < 0) throw new TemplateSyntaxError(`line ${lineAt(src, open)}: unterminated raw string`);
        i = end + 1;
        continue;
      }
      if (src.startsWith('}}', i)) {
        close = i;
        break;
      }
      if (comment && !/[ \t\r\n-]/.test(c))
        throw new TemplateSyntaxError(`line ${lineAt(src, i)}: text after a comment inside an action`);
      i++;
    }
    if (close < 0) throw new TemplateSyntaxError(`line ${lineAt(src, open)}: unclosed action`);
    let body = src.slice(bodyStart, close);
    // " -}}" trims what follows; Go wants a space before the dash.
    const trimRight = /[ \t\r\n]-$/.test(body);
    if (trimRight) body = body.slice(0, -1);
    body = body.trim();
    if (!comment && body === '') throw new TemplateSyntaxError(`line ${lineAt(src, open)}: empty action`);
    tokens.push({ kind: 'action', body, trimLeft, trimRight, comment, line: lineAt(src, open) });
    pos = close + 2;
  }
  // Trim markers remove all adjacent white space, newlines included, as Go does.
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!;
    if (tok.kind !== 'action') continue;
    const prev = tokens[t - 1];
    const next = tokens[t + 1];
    if (tok.trimLeft && prev?.kind === 'text') prev.text = prev.text.replace(/[ \t\r\n]+$/, '');
    if (tok.trimRight && next?.kind === 'text') next.text = next.text.replace(/^[ \t\r\n]+/, '');
  }
  return tokens.filter((t) => !(t.kind === 'action' && t.comment));
}

const keywordOf = (body: string) => /^(if|else|end|range|with|define|block|template|break|continue)\b/.exec(body)?.[1];

/** Parses the tokens into a tree; every if/with/range/define must be closed by its end. */
export function parse(src: string): Node[] {
  const tokens = lex(src);
  let pos = 0;
  function sequence(closers: string[]): { nodes: Node[]; closer: Action | undefined } {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos]!;
      if (tok.kind === 'text') {
        nodes.push(tok);
        pos++;
        continue;
      }
      const keyword = keywordOf(tok.body);
      if (keyword === 'end' || keyword === 'else') {
        if (!closers.includes(keyword)) throw new TemplateSyntaxError(`line ${tok.line}: unexpected {{${tok.body}}}`);
        pos++;
        return { nodes, closer: tok };
      }
      pos++;
      if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
        const branches: Node[][] = [];
        for (;;) {
          const part = sequence(['else', 'end']);
          branches.push(part.nodes);
          if (!part.closer)
            throw new TemplateSyntaxError(`line ${tok.line}: {{${keyword}}} is never closed by {{end}}`);
          if (keywordOf(part.closer.body) === 'end') break;
          // `else if x` / `else with x` open another branch of the same chain; a plain `else` the last one.
          if (part.closer.body !== 'else' && !/^else\s+(if|with)\b/.test(part.closer.body)) {
            throw new TemplateSyntaxError(`line ${part.closer.line}: malformed {{${part.closer.body}}}`);
          }
        }
        nodes.push({ kind: 'branching', keyword, head: tok.body, branches, line: tok.line });
      } else if (keyword === 'define' || keyword === 'block') {
        const name = /^(?:define|block)\s+"([^"]+)"/.exec(tok.body)?.[1];
        if (!name) throw new TemplateSyntaxError(`line ${tok.line}: {{${keyword}}} needs a quoted name`);
        const part = sequence(['end']);
        if (!part.closer) throw new TemplateSyntaxError(`line ${tok.line}: {{${keyword} "${name}"}} is never closed`);
        nodes.push({ kind: 'define', name, body: part.nodes, line: tok.line });
      } else if (keyword === 'break' || keyword === 'continue') {
        // no output
      } else {
        nodes.push({ kind: 'output', body: tok.body, line: tok.line });
      }
    }
    return { nodes, closer: undefined };
  }
  const top = sequence([]);
  return top.nodes;
}

/** The names of the templates a tree defines, and those its actions include. */
export function definesAndIncludes(nodes: Node[]): { defines: string[]; includes: string[] } {
  const defines: string[] = [];
  const includes: string[] = [];
  const visit = (list: Node[]) => {
    for (const n of list) {
      if (n.kind === 'define') {
        defines.push(n.name);
        visit(n.body);
      } else if (n.kind === 'branching') n.branches.forEach(visit);
      else if (n.kind === 'output') {
        for (const m of n.body.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)) includes.push(m[1]!);
      }
    }
  };
  visit(nodes);
  return { defines, includes };
}

export const BLOCK = '\u0000BLOCK\u0000';

/** The shape of a value: a sequence, a mapping, or unknown (then the neighbouring lines decide). */
export type Shape = 'sequence' | 'mapping' | undefined;

/** Block markers carry the shape of what they stand for: BLOCK, or BLOCK + 's' / 'm'. */
const marker = (shape: Shape) => (shape === 'sequence' ? `${BLOCK}s` : shape === 'mapping' ? `${BLOCK}m` : BLOCK);

/**
 * What an output action writes: nothing (a variable assignment), a block, or a scalar. A block of `toYaml` of a
 * `.Values` path (or of `.` inside `with .Values...`) has the shape `shapeOf` gives that path; an `include` of a
 * template that nindents is a mapping (labels).
 */
function placeholder(
  body: string,
  next: () => string,
  dot: string[] | undefined,
  shapeOf: (path: string[]) => Shape,
): string {
  if (/^\$[A-Za-z0-9_]*\s*:?=/.test(body)) return '';
  const source = /^toYaml\s+(\S+)/.exec(body)?.[1];
  const path =
    source === '.' ? dot : source?.startsWith('.Values.') ? source.slice('.Values.'.length).split('.') : undefined;
  const shape: Shape = path ? shapeOf(path) : /^include\b/.test(body) ? 'mapping' : undefined;
  const nindent = /\|\s*nindent\s+(\d+)\s*$/.exec(body);
  if (nindent) return `\n${' '.repeat(Number(nindent[1]))}${marker(shape)}`;
  const indent = /\|\s*indent\s+(\d+)\s*$/.exec(body);
  if (indent) return `${' '.repeat(Number(indent[1]))}${marker(shape)}`;
  if (/^toYaml\b|\|\s*toYaml\s*$/.test(body)) return BLOCK;
  return next();
}

type Branching = Extract<Node, { kind: 'branching' }>;

/** The branches of a conditional, an if or with without else getting an empty last one. */
const branchesOf = (n: Branching) =>
  n.branches.length === 1 && n.keyword !== 'range' ? [...n.branches, []] : n.branches;

/** Which branch each conditional takes; any conditional not in the map takes its first. */
export type Choice = Map<Node, number>;

/**
 * One choice per branch of every if/with/range: that branch taken, its enclosing conditionals taking the branches
 * that contain it, every other conditional its first branch. Together they render every branch at least once.
 */
export function choices(nodes: Node[]): { label: string; choice: Choice }[] {
  const out: { label: string; choice: Choice }[] = [{ label: 'first branches', choice: new Map() }];
  const visit = (list: Node[], ancestors: [Node, number][]) => {
    for (const n of list) {
      if (n.kind === 'define') visit(n.body, ancestors);
      if (n.kind !== 'branching') continue;
      branchesOf(n).forEach((branch, j) => {
        if (j > 0)
          out.push({ label: `line ${n.line}: ${n.keyword}, branch ${j + 1}`, choice: new Map([...ancestors, [n, j]]) });
        visit(branch, [...ancestors, [n, j]]);
      });
    }
  };
  visit(nodes, []);
  return out;
}

/**
 * The text of a tree for one choice of branches, with placeholders for output. A block placeholder becomes
 * `- __phN__` for a sequence and `__phN__: x` for a mapping; when its shape is unknown, a sequence item where its
 * neighbours at the same indentation are sequence items, a mapping entry otherwise.
 */
export function render(
  nodes: Node[],
  choice: Choice = new Map(),
  shapeOf: (path: string[]) => Shape = () => undefined,
): string {
  let counter = 0;
  const next = () => `__ph${++counter}__`;
  const out: string[] = [];
  const emit = (list: Node[], dot: string[] | undefined) => {
    for (const n of list) {
      if (n.kind === 'text') out.push(n.text);
      else if (n.kind === 'output') out.push(placeholder(n.body, next, dot, shapeOf));
      else if (n.kind === 'branching') {
        const branches = branchesOf(n);
        const taken = Math.min(choice.get(n) ?? 0, branches.length - 1);
        // Inside `with .Values.x`, `.` is .Values.x (in its first branch); inside range it is an element.
        const withPath = /^with\s+\.Values\.([\w.]+)$/.exec(n.head)?.[1]?.split('.');
        emit(
          branches[taken]!,
          n.keyword === 'with' && taken === 0 ? withPath : n.keyword === 'range' ? undefined : dot,
        );
      }
      // define: its body is output only where it is included, which is a placeholder already.
    }
  };
  emit(nodes, undefined);
  const lines = out.join('').split('\n');
  const indentOf = (s: string) => s.length - s.trimStart().length;
  const structural = (s: string) => s.trim() !== '' && !s.trim().startsWith('#') && !s.includes(BLOCK);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.includes(BLOCK)) continue;
    const known = /^\s*\u0000BLOCK\u0000([sm])$/.exec(line)?.[1];
    if (known) {
      lines[i] = ' '.repeat(indentOf(line)) + (known === 's' ? `- ${next()}` : `${next()}: x`);
      continue;
    }
    if (line.trim() !== BLOCK) {
      // A block that starts mid-line (toYaml without nindent): a flow placeholder keeps the line valid.
      lines[i] = line.replace(/\u0000BLOCK\u0000[sm]?/g, '{}');
      continue;
    }
    const n = indentOf(line);
    const neighbour = (step: 1 | -1) => {
      for (let j = i + step; j >= 0 && j < lines.length; j += step) {
        const s = lines[j]!;
        if (structural(s) && indentOf(s) <= n) return s;
      }
      return undefined;
    };
    const isItem = (s: string | undefined) => s !== undefined && indentOf(s) === n && /^-( |$)/.test(s.trim());
    lines[i] = ' '.repeat(n) + (isItem(neighbour(-1)) || isItem(neighbour(1)) ? `- ${next()}` : `${next()}: x`);
  }
  return lines.join('\n');
}

/** Every `.Values.a.b` path an action mentions (also `$.Values.a.b`), with the line it is on. */
export function valuesPaths(src: string): { path: string[]; line: number }[] {
  const found: { path: string[]; line: number }[] = [];
  for (const tok of lex(src)) {
    if (tok.kind !== 'action') continue;
    for (const m of tok.body.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      found.push({ path: m[1]!.slice(1).split('.'), line: tok.line });
    }
  }
  return found;
}
