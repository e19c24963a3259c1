import { describe, expect, it } from 'vitest';
import { REASONS } from '../../src/datasource/reasons.js';
import { read } from './helpers.js';

describe("docs/configuration.md's reason codes", () => {
  it('are the codes the service sends, each with its status and what it means', () => {
    const doc = read('docs/configuration.md');
    const start = doc.indexOf('### Reason codes');
    const section = doc.slice(start, doc.indexOf('\n## ', start));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| (\d+) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(rows).toEqual(Object.entries(REASONS).map(([code, r]) => [code, r.status, r.what]));
  });
});
