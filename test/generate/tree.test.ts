import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/settings.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { checkRows, runCommand } from './helpers.js';
import {
  ALPINE_COMMUNITY,
  ALPINE_MAIN,
  FILES,
  indexArgs,
  OWN,
  WOLFI,
  writeFixtureIndexes,
  writeFixtureTree,
  type FixtureIndexes,
} from './tree-fixture.js';
import { command } from '../helpers/command.js';

const check = command('check');
const pin = command('pin');

/** Table rows as [status, where, what, detail]. */

const NO_RENOVATE: string[] = [
  'warning',
  'renovate.json',
  '-',
  'no Renovate config (renovate.json, renovate.jsonc, renovate.json5, .github/renovate.json, .github/renovate.jsonc, .github/renovate.json5, .gitlab/renovate.json, .gitlab/renovate.jsonc, .gitlab/renovate.json5, .renovaterc, .renovaterc.json, .renovaterc.jsonc, .renovaterc.json5, package.json): no pin is kept fresh by Renovate',
];
const NOT_CHECKED_PRIVATE =
  'not checked: repository https://apk.private.example/os not available (for images/private/secret.yaml; pass its index, or --alias)';
/** What pin and check add on standard error while a repository had no data and was not allowed. */
const UNCHECKED_PRIVATE =
  'not checked: no data for https://apk.private.example/os; give its index (--index, with --alias for a mirror) or, to pass without it, --allow-unchecked https://apk.private.example/os';

/** Every row `check` prints for the whole tree, in order: the real problems, and nothing judged from another image's repository. */
const CHECK_ROWS = [
  NO_RENOVATE,
  ['error', 'broken/arch.yaml:2', '-', 'unknown key arch (apko refuses the file; did you mean archs?)'],
  [
    'error',
    'broken/package.yaml:3',
    '-',
    'unknown key contents.package (apko refuses the file; did you mean packages?)',
  ],
  [
    'error',
    'services/both/tools.yaml',
    'foo-tool',
    'apko build fails on x86_64: foo-tool-1.0-r0 depends on so:libfoo.so.1, but no version of so:libfoo.so.1 is on every arch the image builds for (here: libfoo-1.0-r0)',
  ],
  [
    'error',
    'services/both/tools.yaml',
    'foo-tool',
    'apko build fails on aarch64: foo-tool-1.0-r0 depends on so:libfoo.so.1, but nothing provides so:libfoo.so.1',
  ],
  ['warning', 'alpine/jellyfin.yaml:8', 'jellyfin=10.11.11-r3', 'stale: 10.11.11-r4 is present on all of x86_64'],
  ['ok', 'alpine/jellyfin.yaml:9', 'busybox=1.37.0-r1', 'newest on all of x86_64'],
  ['warning', 'hosts/bootc.yaml:5', 'bootc=1.1.0-r0', 'stale: 1.1.2-r0 is present on all of x86_64, aarch64'],
  ['ok', 'hosts/bootc.yaml:6', 'systemd-init', 'unpinned: apko takes the newest version at build time'],
  ['ok', 'hosts/bootc.yaml:7', 'linux-lts', 'unpinned: apko takes the newest version at build time'],
  ['ok', 'hosts/bootc.yaml:8', 'linux-lts-initramfs', 'unpinned: apko takes the newest version at build time'],
  [
    'error',
    'hosts/bootc.yaml:9',
    '!busybox',
    'apko does not take !name in contents.packages: it looks for a package named !busybox and fails (chainguard-dev/apko#687); apk would exclude busybox',
  ],
  ['warning', 'images/apps/web.yaml:5', 'nginx=1.26.0-r0', 'stale: 1.27.0-r0 is present on all of x86_64'],
  ['ok', 'images/apps/web.yaml:6', 'curl>=8.0', 'constraint >=8.0: satisfied on all of x86_64'],
  ['warning', 'images/own/tool.yaml:7', 'mytool=1.0-r0@own', 'stale: 1.1-r0 is present on all of x86_64, aarch64'],
  ['warning', 'images/private/secret.yaml:4', 'secret-tool=1.0-r0', NOT_CHECKED_PRIVATE],
  ['ok', 'images/wolfi/base.yaml:7', 'wolfi-baselayout', 'unpinned: apko takes the newest version at build time'],
  [
    'warning',
    'images/wolfi/base.yaml:8',
    'ca-certificates-bundle=20240705-r0',
    'stale: 20241121-r0 is present on all of x86_64, aarch64',
  ],
  ['warning', 'images/wolfi/base.yaml:9', 'tzdata=2024a-r0', 'stale: 2024b-r0 is present on all of x86_64, aarch64'],
  ['ok', 'services/arm/monitor.yaml:6', 'htop=3.3.0-r0', 'newest on all of aarch64'],
  ['ok', 'services/arm/monitor.yaml:7', 'go~1.22', 'constraint ~1.22: satisfied on all of aarch64'],
  ['warning', 'services/both/pins.yaml:4', 'tzdata=2024a-r0', 'stale: 2024b-r0 is present on all of x86_64'],
  ['ok', 'services/both/pins.yaml:5', 'tzdata=2024b-r0', 'newest on all of x86_64'],
  ['ok', 'services/both/pins.yaml:6', 'htop=3.3.0-r0', 'newest on all of x86_64'],
  ['ok', 'services/both/pins.yaml:7', 'htop=3.3.0-r0', 'newest on all of x86_64'],
  ['warning', 'services/both/tools.yaml:5', 'jq=1.7-r0', 'stale: 1.7.1-r0 is present on all of x86_64, aarch64'],
  [
    'error',
    'services/both/tools.yaml:6',
    'busybox<1.0',
    'no version satisfying <1.0 is on every one of x86_64, aarch64',
  ],
  ['ok', 'services/both/tools.yaml:7', 'foo-tool', 'unpinned: apko takes the newest version at build time'],
  [
    'error',
    'services/both/pins.yaml:4',
    'tzdata=2024a-r0',
    'conflicting pins in services/both/pins.yaml: tzdata=2024a-r0 (services/both/pins.yaml:4) and tzdata=2024b-r0 (services/both/pins.yaml:5); apko cannot install both',
  ],
  [
    'warning',
    'services/both/pins.yaml:6',
    'htop=3.3.0-r0',
    'duplicate pin in services/both/pins.yaml: htop=3.3.0-r0 (services/both/pins.yaml:6) and htop=3.3.0-r0 (services/both/pins.yaml:7)',
  ],
];

/** Exactly the stale pins, each to the version every image building with its file can install from its own repositories. */
const MOVES = [
  'alpine/jellyfin.yaml:8  jellyfin  10.11.11-r3 -> 10.11.11-r4',
  'hosts/bootc.yaml:5  bootc  1.1.0-r0 -> 1.1.2-r0',
  'images/apps/web.yaml:5  nginx  1.26.0-r0 -> 1.27.0-r0',
  'images/own/tool.yaml:7  mytool  1.0-r0 -> 1.1-r0',
  'images/wolfi/base.yaml:8  ca-certificates-bundle  20240705-r0 -> 20241121-r0',
  'images/wolfi/base.yaml:9  tzdata  2024a-r0 -> 2024b-r0',
  'services/both/tools.yaml:5  jq  1.7-r0 -> 1.7.1-r0',
];

/** What the files hold after `pin`: only those scalars changed. */
const PINNED: Record<string, string> = {
  ...FILES,
  'alpine/jellyfin.yaml': FILES['alpine/jellyfin.yaml']!.replace('jellyfin=10.11.11-r3', 'jellyfin=10.11.11-r4'),
  'hosts/bootc.yaml': FILES['hosts/bootc.yaml']!.replace('bootc=1.1.0-r0', 'bootc=1.1.2-r0'),
  'images/apps/web.yaml': FILES['images/apps/web.yaml']!.replace('nginx=1.26.0-r0', 'nginx=1.27.0-r0'),
  'images/own/tool.yaml': FILES['images/own/tool.yaml']!.replace('mytool=1.0-r0@own', 'mytool=1.1-r0@own'),
  'images/wolfi/base.yaml': FILES['images/wolfi/base.yaml']!.replace(
    'ca-certificates-bundle=20240705-r0',
    'ca-certificates-bundle=20241121-r0',
  ).replace('tzdata=2024a-r0', 'tzdata=2024b-r0'),
  'services/both/tools.yaml': FILES['services/both/tools.yaml']!.replace('jq=1.7-r0', 'jq=1.7.1-r0'),
};

const PIN_NOTES = [
  'broken/arch.yaml:2: unknown key arch (apko refuses the file; did you mean archs?)',
  'broken/package.yaml:3: unknown key contents.package (apko refuses the file; did you mean packages?)',
  'images/private/secret.yaml:4: secret-tool: not pinned: repository https://apk.private.example/os not available (for images/private/secret.yaml; pass its index, or --alias)',
  'services/both/pins.yaml:4: tzdata: conflicting pins in services/both/pins.yaml: tzdata=2024a-r0 (services/both/pins.yaml:4) and tzdata=2024b-r0 (services/both/pins.yaml:5); apko cannot install both',
  'services/both/pins.yaml:6: htop: duplicate pin in services/both/pins.yaml: htop=3.3.0-r0 (services/both/pins.yaml:6) and htop=3.3.0-r0 (services/both/pins.yaml:7)',
];

describe('a homelab tree, judged as apko builds it', () => {
  let dir: string;
  let root: string;
  let ix: FixtureIndexes;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apk-tree-'));
    ix = await writeFixtureIndexes(join(dir, 'indexes'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    root = await mkdtemp(join(dir, 'tree-'));
    await writeFixtureTree(root);
  });
  const read = (file: string) => readFile(join(root, file), 'utf8');

  it('check reports exactly the real problems, each image from its own repositories and arches; other YAML is skipped', async () => {
    const r = await runCommand(check, ['-C', root, ...indexArgs(ix)]);
    expect(r.err).toBe(`${UNCHECKED_PRIVATE}\n`);
    expect(await checkRows(['-C', root, ...indexArgs(ix)])).toEqual(CHECK_ROWS);
    expect(r.out).toMatch(/\n7 error\(s\), 11 warning\(s\), 12 ok\n$/);
    expect(r.code).toBe(1);
  });

  it('pin moves exactly the stale pins, and nothing else', async () => {
    const r = await runCommand(pin, ['-C', root, ...indexArgs(ix)]);
    expect(r.out).toBe(`${MOVES.join('\n')}\n11 file(s) (2 refused), 7 pin(s) moved, 3 problem(s), 1 not checked\n`);
    expect(r.err).toBe(`${PIN_NOTES.join('\n')}\n${UNCHECKED_PRIVATE}\n`);
    expect(r.code).toBe(1);
    for (const [file, text] of Object.entries(PINNED)) expect(await read(file), file).toBe(text);
    // A second run finds nothing stale.
    const again = await runCommand(pin, ['-C', root, '--check', ...indexArgs(ix)]);
    expect(again.out).toBe('11 file(s) (2 refused), 0 pin(s) stale, 3 problem(s), 1 not checked\n');
  });

  it('judges a named base for every image that includes it: amd64-only, arm64-only and two-arch', async () => {
    const r = await runCommand(pin, ['-C', root, 'images/wolfi/base.yaml', ...indexArgs(ix)]);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      `${MOVES.filter((m) => m.startsWith('images/wolfi/base.yaml')).join('\n')}\n1 file(s), 2 pin(s) moved\n`,
    );
    expect(await read('images/wolfi/base.yaml')).toBe(PINNED['images/wolfi/base.yaml']);
    expect(await read('images/apps/web.yaml')).toBe(FILES['images/apps/web.yaml']);
    expect(await checkRows(['-C', root, 'images/wolfi/base.yaml', ...indexArgs(ix)])).toEqual([
      NO_RENOVATE,
      ['ok', 'images/wolfi/base.yaml:7', 'wolfi-baselayout', 'unpinned: apko takes the newest version at build time'],
      ['ok', 'images/wolfi/base.yaml:8', 'ca-certificates-bundle=20241121-r0', 'newest on all of x86_64, aarch64'],
      ['ok', 'images/wolfi/base.yaml:9', 'tzdata=2024b-r0', 'newest on all of x86_64, aarch64'],
    ]);
  });

  it('never judges an image from another repository: without the Alpine indexes its entries are not checked', async () => {
    const wolfiOnly = ['--index', ix.wolfi.url, '--alias', WOLFI, '--key', ix.wolfi.key];
    const c = await runCommand(check, ['-C', root, 'alpine/jellyfin.yaml', ...wolfiOnly]);
    const missing = `not checked: repository ${ALPINE_MAIN}, ${ALPINE_COMMUNITY} not available (for alpine/jellyfin.yaml; pass its index, or --alias)`;
    expect(await checkRows(['-C', root, 'alpine/jellyfin.yaml', ...wolfiOnly])).toEqual([
      NO_RENOVATE,
      ['warning', 'alpine/jellyfin.yaml:8', 'jellyfin=10.11.11-r3', missing],
      ['warning', 'alpine/jellyfin.yaml:9', 'busybox=1.37.0-r1', missing],
    ]);
    // Nothing was checked: the gate fails with its own status until the user names what may go unchecked.
    expect(c.code).toBe(3);
    const p = await runCommand(pin, ['-C', root, 'alpine/jellyfin.yaml', ...wolfiOnly]);
    expect(await read('alpine/jellyfin.yaml')).toBe(FILES['alpine/jellyfin.yaml']);
    expect(p.out).toBe('1 file(s), 0 pin(s) moved, 2 not checked\n');
    expect(p.code).toBe(3);
    const allow = ['--allow-unchecked', ALPINE_MAIN, '--allow-unchecked', ALPINE_COMMUNITY];
    expect((await runCommand(check, ['-C', root, 'alpine/jellyfin.yaml', ...wolfiOnly, ...allow])).code).toBe(0);
    const allowed = await runCommand(pin, ['-C', root, '--check', 'alpine/jellyfin.yaml', ...wolfiOnly, ...allow]);
    expect(allowed.out).toBe('1 file(s), 0 pin(s) stale, 2 not checked (2 allowed by --allow-unchecked)\n');
    expect(allowed.code).toBe(0);
    // Naming one of the two is not enough: each entry needs both.
    const half = await runCommand(check, ['-C', root, 'alpine/jellyfin.yaml', ...wolfiOnly, ...allow.slice(0, 2)]);
    expect(half.code).toBe(3);
  });

  it('takes --repository-append as apko does: an image naming no repository builds from the appended one', async () => {
    await writeFile(join(root, 'images/plain.yaml'), 'archs: [amd64]\ncontents:\n  packages:\n    - mytool=1.0-r0\n');
    const bare = await runCommand(pin, ['-C', root, 'images/plain.yaml', ...indexArgs(ix)]);
    expect(bare.err).toBe('images/plain.yaml:4: mytool: not pinned: images/plain.yaml builds from no repository\n');
    const r = await runCommand(pin, ['-C', root, 'images/plain.yaml', '--repository-append', OWN, ...indexArgs(ix)]);
    expect(r.out).toBe('images/plain.yaml:4  mytool  1.0-r0 -> 1.1-r0\n1 file(s), 1 pin(s) moved\n');
  });

  it('reports a lock file whose config checksum no longer matches, and says pin made one stale', async () => {
    const texts = [FILES['images/apps/web.yaml']!, FILES['images/wolfi/base.yaml']!];
    const checksum = `sha256-${createHash('sha256').update(texts.join('')).digest('base64')}`;
    await writeFile(
      join(root, 'images/apps/web.lock.json'),
      JSON.stringify({ version: 'v1', config: { name: 'images/apps/web.yaml', checksum }, contents: {} }),
    );
    await writeFile(
      join(root, 'services/arm/monitor.lock.json'),
      JSON.stringify({
        version: 'v1',
        config: { name: 'services/arm/monitor.yaml', checksum: 'sha256-old' },
        contents: {},
      }),
    );
    const c = await checkRows(['-C', root, 'images/apps/web.yaml', 'services/arm/monitor.yaml', ...indexArgs(ix)]);
    expect(c).toContainEqual([
      'ok',
      'images/apps/web.lock.json',
      'lock',
      'config checksum matches images/apps/web.yaml and its includes',
    ]);
    expect(c).toContainEqual([
      'error',
      'services/arm/monitor.lock.json',
      'lock',
      'config checksum no longer matches services/arm/monitor.yaml and its includes (apko build refuses it): run apk-indexer lock --update services/arm/monitor.yaml (or apko lock services/arm/monitor.yaml)',
    ]);
    // pin --check names the lock its pins make stale; pin itself moves it (test/lock/pin-lock.test.ts).
    const p = await runCommand(pin, ['-C', root, '--check', 'images/apps/web.yaml', ...indexArgs(ix)]);
    expect(p.err).toBe(
      'images/apps/web.lock.json: stale with these pins: pin moves it with them (or apk-indexer lock --update)\n',
    );
    expect(p.code).toBe(1);
    await rm(join(root, 'images/apps/web.lock.json'));
    await rm(join(root, 'services/arm/monitor.lock.json'));
  });

  describe('against a running apk-indexer holding the same repositories', () => {
    let service: Service;
    beforeAll(async () => {
      service = buildService(
        {
          ...DEFAULTS,
          host: '127.0.0.1',
          port: 0,
          logLevel: 'silent',
          repositories: [
            { name: 'wolfi', url: ix.wolfi.url, aliases: [WOLFI], arches: ['x86_64', 'aarch64'], keys: [ix.wolfi.key] },
            {
              name: 'alpine-main',
              url: ix.alpineMain.url,
              aliases: [ALPINE_MAIN],
              arches: ['x86_64'],
              keys: [ix.alpineMain.key],
            },
            {
              name: 'alpine-community',
              url: ix.alpineCommunity.url,
              aliases: [ALPINE_COMMUNITY],
              arches: ['x86_64'],
              keys: [ix.alpineCommunity.key],
            },
            { name: 'own', url: ix.own.url, aliases: [OWN], arches: ['x86_64', 'aarch64'], keys: [ix.own.key] },
          ],
        },
        { logger: false },
      );
      service.store.start();
      await service.app.listen({ host: '127.0.0.1', port: 0 });
      if (!(await service.store.whenReady(10_000))) throw new Error('the fixture service did not load');
    });
    afterAll(() => service.app.close());
    const server = () => ['--server', `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`];

    it('pins the same versions, asking each image about its own repositories', async () => {
      const r = await runCommand(pin, ['-C', root, ...server()]);
      expect(r.out).toBe(`${MOVES.join('\n')}\n11 file(s) (2 refused), 7 pin(s) moved, 3 problem(s), 1 not checked\n`);
      for (const [file, text] of Object.entries(PINNED)) expect(await read(file), file).toBe(text);
    });

    it('checks the same rows; install sets need dependency data, which the service does not keep', async () => {
      const expected = [
        CHECK_ROWS[0]!,
        [
          'warning',
          '-',
          '-',
          'install sets not resolved: --server holds no dependency data (pass --index or --config to resolve them as apko does)',
        ],
        ...CHECK_ROWS.slice(1).filter((row) => !row[3]!.startsWith('apko build fails')),
      ];
      // Without install sets, what arrives through dependencies cannot be seen: warnings, not errors.
      const bootc = (name: string) => [
        'warning',
        'hosts/bootc.yaml',
        'bootc',
        `package ${name} is not listed; bootc needs it, and it may arrive through dependencies, which were not resolved`,
      ];
      expected.splice(4, 0, bootc('ostree'), bootc('composefs'), bootc('systemd'));
      expect(await checkRows(['-C', root, ...server()])).toEqual(expected);
    });
  });
});
