import { describe, expect, it } from 'vitest';
import { isScalar, parseDocument, type Scalar } from 'yaml';
import { applyScalarEdits } from '../../src/generate/yaml-doc.js';

const TEXT = `# An image someone wrote by hand.
contents:
  packages:   # odd spacing stays
    - busybox=1.36.1-r9      # trailing comment
    - "curl=8.10.0-r0"
    - 'jq=1.7-r0'

    # a comment between items
    - tzdata
archs: [amd64, arm64]
`;

function item(doc: ReturnType<typeof parseDocument>, i: number): Scalar {
  const node = doc.getIn(['contents', 'packages', i], true);
  if (!isScalar(node)) throw new Error('not a scalar');
  return node;
}

describe('editing YAML in place', () => {
  it('changes only the edited scalars, in their own quoting style', () => {
    const doc = parseDocument(TEXT);
    const out = applyScalarEdits(TEXT, [
      { node: item(doc, 2), value: 'jq=1.7.1-r0' },
      { node: item(doc, 0), value: 'busybox=1.36.1-r10' },
      { node: item(doc, 1), value: 'curl=8.11.0-r0' },
    ]);
    expect(out).toBe(
      TEXT.replace('busybox=1.36.1-r9', 'busybox=1.36.1-r10')
        .replace('"curl=8.10.0-r0"', '"curl=8.11.0-r0"')
        .replace("'jq=1.7-r0'", "'jq=1.7.1-r0'"),
    );
  });

  it('quotes a plain value that would otherwise change meaning, and proves what it wrote', () => {
    const doc = parseDocument(TEXT);
    const out = applyScalarEdits(TEXT, [{ node: item(doc, 3), value: 'odd: value #1' }]);
    expect(out).toContain('    - "odd: value #1"\n');
    expect(parseDocument(out).getIn(['contents', 'packages', 3])).toBe('odd: value #1');
  });

  it('refuses block scalars and overlapping edits rather than guessing', () => {
    const block = 'a: |\n  text\n';
    const node = parseDocument(block).get('a', true) as Scalar;
    expect(() => applyScalarEdits(block, [{ node, value: 'x' }])).toThrow(/BLOCK_LITERAL/);
    const doc = parseDocument(TEXT);
    expect(() =>
      applyScalarEdits(TEXT, [
        { node: item(doc, 0), value: 'a' },
        { node: item(doc, 0), value: 'b' },
      ]),
    ).toThrow(/overlapping/);
  });
});
