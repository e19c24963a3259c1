import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFindings } from '../../src/cli/findings.js';
import { styleOf } from '../../src/cli/terminal.js';
import type { Finding } from '../../src/generate/check.js';
import { fixtureRepo, runCommand, writeTree } from '../generate/helpers.js';
import { command } from '../helpers/command.js';

/**
 * Issue 20's 2,330-line report: a base file included by many images, whose repositories include one no index was
 * given for. check says each cause once, with the files it covers; --verbose and --json keep every finding.
 */

const check = command('check');
const pin = command('pin');
const WOLFI = 'https://packages.wolfi.dev/os';
const PRIVATE = 'https://apk.example.internal/os';
const IMAGES = 40;

describe("check's report for people", () => {
  let dir: string;
  let root: string;
  let index: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-check-output-'));
    const packages = ['busybox', 'ca-certificates-bundle', 'curl', 'nginx'].flatMap((name) => [
      { name, version: '1.0-r0' },
      { name, version: '1.1-r0' },
    ]);
    const repo = await fixtureRepo(join(dir, 'repo'), { x86_64: packages, aarch64: packages });
    index = ['--index', repo.url, '--alias', WOLFI, '--key', repo.key];
    root = join(dir, 'tree');
    const files: Record<string, string> = {
      'renovate.json': '{}\n',
      'apko/base.yaml': `contents:\n  repositories:\n    - ${WOLFI}\n    - ${PRIVATE}\n  packages:\n    - busybox=1.0-r0\n    - ca-certificates-bundle=1.1-r0\narchs: [amd64, arm64]\n`,
    };
    for (let i = 0; i < IMAGES; i++)
      files[`images/app-${i}.yaml`] =
        `include: apko/base.yaml\ncontents:\n  packages:\n    - curl=1.0-r0\n    - nginx=1.1-r0\n`;
    await writeTree(root, files);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('says a cause once with the files it covers, within 100 columns; exit 3 for what it could not check', async () => {
    const r = await runCommand(check, ['-C', root, ...index]);
    const lines = r.out.trimEnd().split('\n');
    // 2 base entries once each (not once per including image), 2 entries per image.
    const entries = 2 + 2 * IMAGES;
    expect(r.out).toBe(
      [
        `warning  not checked: no data for ${PRIVATE}: ${entries} entries in apko/base.yaml,`,
        `         images/app-0.yaml, images/app-1.yaml and ${IMAGES - 2} more`,
        '',
        `0 error(s), ${entries} warning(s), 0 ok`,
        '',
      ].join('\n'),
    );
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(r.err).toBe(
      `not checked: no data for ${PRIVATE}; give its index (--index, with --alias for a mirror) or, to pass without it, --allow-unchecked ${PRIVATE}\n`,
    );
    expect(r.code).toBe(3);
  });

  it('--verbose lists every finding, once per entry, and --json the same', async () => {
    const r = await runCommand(check, ['-C', root, '--verbose', ...index]);
    const lines = r.out.trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    const base = lines.filter((l) => l.startsWith('warning  apko/base.yaml:'));
    expect(base).toEqual([
      `warning  apko/base.yaml:6: busybox=1.0-r0: not checked: repository ${PRIVATE}`,
      'warning  apko/base.yaml:7: ca-certificates-bundle=1.1-r0: not checked: repository',
    ]);
    expect(r.out).toContain(`(for images/app-0.yaml and ${IMAGES - 1} more images; pass its index, or --alias)`);
    const json = JSON.parse((await runCommand(check, ['-C', root, '--json', ...index])).out) as Finding[];
    expect(json.filter((f) => f.location.startsWith('apko/base.yaml'))).toHaveLength(2);
    expect(json.filter((f) => f.unchecked?.includes(PRIVATE))).toHaveLength(2 + 2 * IMAGES);
  });

  it('passes the gate once the user names the repository it may not check', async () => {
    const r = await runCommand(check, ['-C', root, '--allow-unchecked', PRIVATE, ...index]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const p = await runCommand(pin, ['-C', root, '--check', ...index]);
    expect(p.err).toContain(`not pinned: no data for ${PRIVATE}: ${2 + 2 * IMAGES} pins in apko/base.yaml,`);
    expect(p.out).toBe(`${IMAGES + 1} file(s), 0 pin(s) stale, ${2 + 2 * IMAGES} not checked\n`);
    expect(p.code).toBe(3);
  });
});

describe('terminal style', () => {
  const tty = (columns: number) => Object.assign(new PassThrough(), { isTTY: true, columns });

  it('colours on a TTY unless NO_COLOR is set, and takes its width; a pipe gets 100 columns and no colour', () => {
    expect(styleOf(tty(80), {})).toEqual({ width: 80, colour: true });
    expect(styleOf(tty(80), { NO_COLOR: '1' })).toEqual({ width: 80, colour: false });
    expect(styleOf(tty(20), {})).toEqual({ width: 60, colour: true });
    expect(styleOf(new PassThrough(), {})).toEqual({ width: 100, colour: false });
  });

  const findings: Finding[] = [
    { severity: 'error', location: 'a.yaml:3', subject: 'x=1.0-r0', message: '1.0-r0 is not on aarch64' },
    { severity: 'ok', location: 'a.yaml:4', subject: 'y', message: 'unpinned' },
  ];

  it('paints the severities only when the style allows', () => {
    expect(formatFindings(findings, { width: 100, colour: true }, false)).toBe(
      '\x1b[31merror  \x1b[0m  a.yaml:3: x=1.0-r0: 1.0-r0 is not on aarch64\n\x1b[32mok     \x1b[0m  1 fine (--verbose lists them)\n\n1 error(s), 0 warning(s), 1 ok\n',
    );
    expect(formatFindings(findings, { width: 100, colour: false }, false)).not.toContain('\x1b');
  });

  it('shows control characters from an index or a file as escapes, never as terminal commands', () => {
    const hostile: Finding[] = [
      {
        severity: 'error',
        location: 'apko/\x1b]0;owned\x07x.yaml:1',
        subject: 'pkg=1.0\x1b[2J\x1b[H-r0',
        message: 'not on x86_64\u202e',
      },
    ];
    const out = formatFindings(hostile, { width: 200, colour: false }, true);
    expect(out).toBe(
      'error    apko/\\x1b]0;owned\\x07x.yaml:1: pkg=1.0\\x1b[2J\\x1b[H-r0: not on x86_64\\u202e\n\n1 error(s), 0 warning(s), 0 ok\n',
    );
  });
});
