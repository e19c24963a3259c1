import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { filesUnder, read, ROOT } from './helpers.js';

const DOCS = [
  'README.md',
  'docs/deploy.md',
  'docs/configuration.md',
  'docs/errors.md',
  'helm/apk-indexer/README.md',
  ...filesUnder('examples').filter((f) => f.endsWith('.md')),
];

/** The fenced code blocks of a Markdown file, with their language. */
const blocks = (file: string) =>
  [...read(file).matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));

describe.each(DOCS)('%s', (file) => {
  it('its YAML and JSON examples parse', () => {
    for (const { lang, code } of blocks(file)) {
      if (lang === 'yaml') {
        for (const doc of parseAllDocuments(code, { uniqueKeys: true }) as unknown as { errors: unknown[] }[])
          expect(doc.errors, code).toEqual([]);
      }
      if (lang === 'json') expect(() => JSON.parse(code), code).not.toThrow();
    }
  });

  it('its relative links and the repository paths in its commands exist', () => {
    const text = read(file);
    const links = [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1]!)
      .filter((l) => !/^[a-z]+:/.test(l));
    const base = join(ROOT, dirname(file));
    for (const link of links) expect(existsSync(normalize(join(base, link))), `${file}: link ${link}`).toBe(true);
    const commands = blocks(file)
      .filter((b) => b.lang === 'sh')
      .map((b) => b.code)
      .join('\n');
    for (const m of commands.matchAll(/(?:^|\s)(?:\.\/)?((?:helm|examples|config)\/[\w./-]+)/g)) {
      expect(existsSync(join(ROOT, m[1]!)), `${file}: ${m[1]}`).toBe(true);
    }
  });

  it('names only environment variables apk-indexer reads', () => {
    // The settings' loader, and the CLI's own APK_INDEXER_DEBUG.
    const loader = [...filesUnder('src/config'), 'src/cli/main.ts'].map(read).join('\n');
    for (const [name] of read(file).matchAll(/\bAPK_INDEXER_[A-Z_]+\b/g)) {
      expect(new RegExp(`\\b${name}\\b`).test(loader), `${file}: ${name}`).toBe(true);
    }
  });
});

describe('the README', () => {
  const text = read('README.md');

  it('has the quick start, curl examples, Renovate wiring, configuration, metrics, migration, generators and data flow', () => {
    const headings = [...text.matchAll(/^##+ (.+)$/gm)].map((m) => m[1]);
    for (const h of [
      'Quick start',
      'The service',
      'Configuration',
      'Metrics and probes',
      'Wiring it into Renovate',
      'Migrating from hown3d/renovate-apk-indexer',
      'The generators',
      'How it works',
    ]) {
      expect(headings).toContain(h);
    }
  });

  it('quick start is the two commands: run it, test it', () => {
    const quick = text.slice(text.indexOf('## Quick start'));
    const commands = blocks('README.md')
      .filter((b) => b.lang === 'sh' && quick.includes(b.code))
      .map((b) => b.code.trim());
    expect(commands.slice(0, 2)).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('draws the data flow source, decode, parse, index, serve in a mermaid flowchart', () => {
    const mermaid = blocks('README.md').find((b) => b.lang === 'mermaid')!.code;
    expect(mermaid.startsWith('flowchart LR\n')).toBe(true);
    const stages = [...mermaid.matchAll(/^\s*subgraph (\w+)/gm)].map((m) => m[1]);
    expect(stages).toEqual(['source', 'decode', 'parse', 'index', 'serve']);
    expect(mermaid).toContain('G --> S --> T --> R --> N --> M --> Q');
  });

  it('lists the metrics the service registers', () => {
    const registered = new Set(
      [
        ...filesUnder('src/serve')
          .map(read)
          .join('\n')
          .matchAll(/name: '(apk_indexer_[a-z_]+)'/g),
      ].map((m) => m[1]!),
    );
    expect(registered.size).toBeGreaterThan(5);
    const documented = new Set([...text.matchAll(/`(apk_indexer_[a-z_]+)`/g)].map((m) => m[1]!));
    expect([...registered].filter((n) => !documented.has(n))).toEqual([]);
    expect([...documented].filter((n) => !registered.has(n))).toEqual([]);
  });
});
