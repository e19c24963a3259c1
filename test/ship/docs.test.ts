import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { filesUnder, read, ROOT } from './helpers.js';
import { REFRESH } from './layers.js';

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

  it('draws one refresh in the order of the layers (test/ship/layers.ts), every arrow going forward', () => {
    const mermaid = blocks('README.md').find((b) => b.lang === 'mermaid')!.code;
    expect(mermaid.startsWith('flowchart LR\n')).toBe(true);
    // Each subgraph's name and the nodes it holds.
    const stageOf = new Map<string, string>();
    const stages: string[] = [];
    for (const [, name, body] of mermaid.matchAll(/^\s*subgraph (\w+)\S*\n([\s\S]*?)^\s*end$/gm)) {
      stages.push(name!);
      for (const [, node] of body!.matchAll(/^\s*(\w+)\[/gm)) stageOf.set(node!, name!);
    }
    expect(stages).toEqual([...REFRESH]);
    const rank = (node: string) => REFRESH.indexOf(stageOf.get(node) as (typeof REFRESH)[number]);
    let arrows = 0;
    for (const line of mermaid.split('\n')) {
      const nodes = line.split(/\s*-->\s*/).map((part) => /^\s*(\w+)\s*$/.exec(part)?.[1]);
      for (let i = 1; i < nodes.length; i++) {
        const [from, to] = [nodes[i - 1], nodes[i]];
        if (!from || !to || !stageOf.has(from) || !stageOf.has(to)) continue;
        arrows++;
        expect(rank(to), `${from} --> ${to}`).toBeGreaterThanOrEqual(rank(from));
      }
    }
    // From the loader through every stage to the answers.
    expect(arrows).toBeGreaterThanOrEqual(REFRESH.length - 1);
    expect(new Set([...stageOf.values()])).toEqual(new Set(REFRESH));
  });

  it('has a row for every folder of src/ in its table of folders', () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory());
    expect(folders.length).toBeGreaterThan(5);
    for (const folder of folders)
      expect(text, `src/${folder.name}`).toMatch(new RegExp(`^\\| [^|]*\`src/${folder.name}\``, 'm'));
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
