import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { choices, definesAndIncludes, lex, parse, render, TemplateSyntaxError, valuesPaths } from './gotemplate.js';

const text = (src: string, shape?: (p: string[]) => 'sequence' | 'mapping' | undefined) =>
  render(parse(src), new Map(), shape);

describe('the Go-template reader the chart tests use', () => {
  it('finds actions as Go does: strings and raw strings may hold }}', () => {
    const tokens = lex('a{{ "}}" }}b{{ `x}}y` }}c{{/* note }} */}}d');
    expect(tokens.filter((t) => t.kind === 'action').map((t) => (t as { body: string }).body)).toEqual([
      '"}}"',
      '`x}}y`',
    ]);
    expect(
      tokens
        .filter((t) => t.kind === 'text')
        .map((t) => (t as { text: string }).text)
        .join(''),
    ).toBe('abcd');
  });

  it('applies trim markers to all adjacent white space, newlines included, and only with a space after the dash', () => {
    expect(text('a: 1\n  {{- .Values.x -}}  \n\nb')).toBe('a: 1__ph1__b');
    expect(text('a {{-3}} b')).toBe('a __ph1__ b');
  });

  it('rejects what Go rejects: unclosed actions, strings and blocks, stray ends', () => {
    expect(() => parse('{{ .Values.x')).toThrow(TemplateSyntaxError);
    expect(() => parse('{{ "x }}')).toThrow(TemplateSyntaxError);
    expect(() => parse('{{ if .x }}a')).toThrow(/never closed/);
    expect(() => parse('a{{ end }}')).toThrow(/unexpected/);
    expect(() => parse('{{ define "x" }}a')).toThrow(/never closed/);
  });

  it('renders the first branch by default, and every branch across its choices, nested ones with their parents', () => {
    const nodes = parse(
      '{{- if .a }}\nA: 1\n{{- if .b }}\nB: 1\n{{- else }}\nC: 1\n{{- end }}\n{{- else }}\nD: 1\n{{- end }}\n',
    );
    const outputs = choices(nodes).map((c) => render(nodes, c.choice).trim());
    expect(outputs).toEqual(['A: 1\nB: 1', 'A: 1\nC: 1', 'D: 1']);
  });

  it('gives a block placeholder the shape of its value, or of its neighbours when the value is unknown', () => {
    const src =
      'env:\n  - name: A\n  {{- with .Values.extra }}\n  {{- toYaml . | nindent 2 }}\n  {{- end }}\nlabels:\n  {{- include "labels" . | nindent 2 }}\nmore:\n  - x\n  {{- toYaml $.y | nindent 2 }}\n';
    const out = text(src, (p) => (p.join('.') === 'extra' ? 'sequence' : undefined));
    expect(parseYaml(out)).toEqual({
      env: [{ name: 'A' }, '__ph1__'],
      labels: { __ph2__: 'x' },
      more: ['x', '__ph3__'],
    });
    // A list indented like its parent's keys is a YAML error the placeholder must not hide.
    const wrong = 'spec:\n  env:\n    - name: A\n    {{- toYaml .Values.extra | nindent 2 }}\n  other: 1\n';
    expect(() => parseYaml(text(wrong, () => 'sequence'))).toThrow();
  });

  it('lists defines, includes and .Values paths', () => {
    const src =
      '{{- define "a.name" -}}{{ .Values.nameOverride }}{{- end }}{{ include "a.name" . }}{{ $.Values.image.tag | quote }}';
    expect(definesAndIncludes(parse(src))).toEqual({ defines: ['a.name'], includes: ['a.name'] });
    expect(valuesPaths(src).map((p) => p.path.join('.'))).toEqual(['nameOverride', 'image.tag']);
  });
});
