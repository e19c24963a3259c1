import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/settings.js';
import { RENOVATE_BODY_SCHEMA } from '../../src/datasource/renovate-body.js';
import { buildIndexArchive, generateFixtureKey } from '../fixtures/apk-repo.js';
import {
  RENOVATE_MAJOR,
  RENOVATE_VERSION,
  renovateDir,
  renovateBin,
  runRenovate,
  validatorBin,
} from '../helpers/renovate.js';
import { renderRenovateJson } from '../../src/generate/renovate.js';
import { treeRenovateConfig } from '../../src/generate/renovate-tree.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { runCommand } from '../generate/helpers.js';
import { ALPINE_PACKAGES, WOLFI_PACKAGES, writeRenovateTree } from '../helpers/renovate-tree.js';
import { Upstream } from '../helpers/upstream.js';
import { command } from '../helpers/command.js';

const check = command('check');

const run = promisify(execFile);

const key = generateFixtureKey('e2e.rsa.pub');

interface ReportDep {
  depName: string;
  currentValue: string;
  datasource?: string;
  updates?: Array<{ newVersion: string }>;
}
type Report = {
  repositories: Record<string, { packageFiles: Record<string, Array<{ packageFile: string; deps: ReportDep[] }>> }>;
};

/** Every dependency Renovate reported, keyed `file:depName`. */
function depsOf(report: Report): Map<string, ReportDep> {
  const out = new Map<string, ReportDep>();
  for (const repo of Object.values(report.repositories)) {
    for (const file of Object.values(repo.packageFiles).flat())
      for (const dep of file.deps) out.set(`${file.packageFile}:${dep.depName}`, dep);
  }
  return out;
}

const proposals = (deps: Map<string, ReportDep>) =>
  Object.fromEntries([...deps].map(([k, d]) => [k, (d.updates ?? []).map((u) => u.newVersion)]));

describe(`Renovate ${RENOVATE_VERSION} against apk-indexer`, () => {
  let upstream: Upstream;
  let service: Service;
  let serverUrl: string;
  const repos: string[] = [];

  /** A git repository holding the fixture tree and `files` (Renovate's local platform reads what git tracks). */
  async function repository(files: Record<string, string>): Promise<string> {
    const repo = await mkdtemp(join(tmpdir(), 'apk-e2e-'));
    repos.push(repo);
    await writeRenovateTree(repo, { wolfi: `${upstream.url}/wolfi`, alpine: `${upstream.url}/alpine` });
    for (const [path, content] of Object.entries(files)) await writeFile(join(repo, path), content);
    await run('git', ['init', '-q'], { cwd: repo });
    await run('git', ['add', '-A'], { cwd: repo });
    await run('git', ['-c', 'user.email=e2e@apk-indexer.test', '-c', 'user.name=e2e', 'commit', '-qm', 'fixture'], {
      cwd: repo,
    });
    return repo;
  }

  /** Runs Renovate on `repo` (its own config file, found as Renovate finds it) and reads its report. */
  async function renovate(repo: string, dryRun: 'lookup' | 'extract' = 'lookup'): Promise<Report> {
    const report = join(repo, '..', `${repo.split('/').pop()}-report.json`);
    await runRenovate(
      renovateBin,
      [
        '--platform=local',
        '--onboarding=false',
        '--require-config=required',
        `--dry-run=${dryRun}`,
        '--report-type=file',
        `--report-path=${report}`,
      ],
      {
        cwd: repo,
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          RENOVATE_HOST_RULES: JSON.stringify([{ matchHost: '127.0.0.1', allowInternal: true }]),
        },
      },
    );
    const data = JSON.parse(await readFile(report, 'utf8')) as Report;
    await rm(report, { force: true });
    return data;
  }

  const generated = (repo: string) =>
    treeRenovateConfig({
      root: repo,
      includePaths: [],
      fallbackArches: [],
      config: join(repo, 'apk-indexer.yaml'),
      server: serverUrl,
      renovateMajor: RENOVATE_MAJOR,
    });

  /** check's findings (as --json gives them to scripts), as [status, where, what, detail] rows. */
  async function checkRows(repo: string, renovateFile?: string): Promise<string[][]> {
    const r = await runCommand(check, [
      '-C',
      repo,
      '--server',
      serverUrl,
      '--json',
      ...(renovateFile ? ['--renovate', renovateFile] : []),
    ]);
    expect(r.err).toBe('');
    return (JSON.parse(r.out) as Array<{ severity: string; location: string; subject: string; message: string }>).map(
      (f) => [f.severity, f.location, f.subject, f.message],
    );
  }

  beforeAll(async () => {
    upstream = await new Upstream().start();
    upstream.files.set(`/keys/${key.name}`, Buffer.from(key.publicPem));
    for (const [repo, content] of [
      ['wolfi', WOLFI_PACKAGES],
      ['alpine', ALPINE_PACKAGES],
    ] as const) {
      for (const [arch, packages] of Object.entries(content)) {
        upstream.files.set(
          `/${repo}/${arch}/APKINDEX.tar.gz`,
          buildIndexArchive({ sign: [{ key }], packages: packages.map((p) => ({ ...p, arch })) }),
        );
      }
    }
    const repository = (name: string) => ({
      name,
      url: `${upstream.url}/${name}`,
      arches: ['x86_64', 'aarch64'],
      keys: [`${upstream.url}/keys/${key.name}`],
    });
    service = buildService(
      {
        ...DEFAULTS,
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        repositories: [repository('wolfi'), repository('alpine')],
      },
      { logger: false },
    );
    service.store.start();
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    serverUrl = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
  }, 900_000);

  afterAll(async () => {
    await service?.app.close();
    await upstream?.stop();
    for (const repo of repos) await rm(repo, { recursive: true, force: true });
  });

  it("answers only what Renovate's custom datasource schema reads (its own zod schema)", async () => {
    const { ReleaseResultZod } = (await import(
      pathToFileURL(join(renovateDir, 'dist', 'modules', 'datasource', 'custom', 'schema.js')).href
    )) as {
      ReleaseResultZod: {
        shape: Record<string, unknown> & { releases: { element: { in: { shape: Record<string, unknown> } } } };
      };
    };
    expect(Object.keys(RENOVATE_BODY_SCHEMA.properties).sort()).toEqual(Object.keys(ReleaseResultZod.shape).sort());
    expect(Object.keys(RENOVATE_BODY_SCHEMA.properties.releases.items.properties).sort()).toEqual(
      Object.keys(ReleaseResultZod.shape.releases.element.in.shape).sort(),
    );
  });

  it('with the config gen renovate writes, proposes for every pin what pin --check wants, and check predicts it', async () => {
    const repo = await repository({});
    const config = renderRenovateJson(await generated(repo));
    await writeFile(join(repo, 'renovate.json'), config);
    await run('git', ['add', '-A'], { cwd: repo });
    await run('git', ['-c', 'user.email=e2e@apk-indexer.test', '-c', 'user.name=e2e', 'commit', '-qm', 'renovate'], {
      cwd: repo,
    });
    const { stdout } = await runRenovate(validatorBin, ['--strict', join(repo, 'renovate.json')], {
      cwd: repo,
      timeout: 120_000,
      env: { ...process.env, LOG_LEVEL: 'info' },
    });
    expect(stdout).toMatch(/Config validated successfully/);

    const deps = depsOf(await renovate(repo));
    expect(proposals(deps)).toEqual({
      'apko/base.yaml:wolfi-baselayout': ['20241121-r0'],
      // Two-arch image: 1.17.0-r0 is on x86_64 only. The release candidate moves on to the release.
      'apko/host.yaml:bootc': ['1.16.7-r0'],
      'apko/host.yaml:openssl': ['3.4.0-r1'],
      // arm64-only image: its arm64-only package updates.
      'images/pi.apko.yaml:rpi-firmware': ['1.20241008-r0'],
      'images/pi.apko.yaml:bootc': ['1.16.7-r0'],
      // amd64-only image: the x86_64-only release is its to take, and a date version jumps the major.
      'images/nuc.yaml:intel-ucode': ['20241112-r0'],
      'images/nuc.yaml:bootc': ['1.17.0-r0'],
      // Alpine, beside Wolfi: 8.12.0-r0 is on x86_64 only.
      'alpine/edge.yaml:curl': ['8.11.1-r0'],
    });

    // check names the URL Renovate asks and agrees with Renovate on every pin.
    const rows = await checkRows(repo);
    // (The fixture's bootc images are not bootable and ca-certificates-bundle is in no index: check says so too.)
    expect(rows.filter((r) => r[0] === 'error' && r[3]!.includes('Renovate'))).toEqual([]);
    for (const [where, dep] of deps) {
      const [file] = where.split(':');
      const row = rows.find((r) => r[1]!.startsWith(`${file}:`) && r[2] === `${dep.depName}=${dep.currentValue}`);
      expect(row?.[3], where).toContain(`Renovate asks ${serverUrl}/${dep.depName}?arch=`);
      expect(row?.[3], where).toContain(`proposes ${dep.updates![0]!.newVersion}, as pin --check`);
    }

    // The tree changes: a new image, and the arm64-only image now also built for amd64. check says the config no
    // longer fits, pin by pin.
    await writeFile(
      join(repo, 'images', 'new.yaml'),
      'include: apko/base.yaml\ncontents:\n  packages:\n    - bootc=1.16.6-r0\narchs: [arm64]\n',
    );
    await writeFile(
      join(repo, 'images', 'pi.apko.yaml'),
      (await readFile(join(repo, 'images', 'pi.apko.yaml'), 'utf8')).replace('archs: [arm64]', 'archs: [arm64, amd64]'),
    );
    const changed = await checkRows(repo);
    expect(changed.find((r) => r[1] === 'images/new.yaml:4')).toEqual([
      'error',
      'images/new.yaml:4',
      'bootc=1.16.6-r0',
      'Renovate will not keep this pin fresh: no regex manager in renovate.json reads images/new.yaml (a file added or moved since the config was written? rerun apk-indexer gen renovate)',
    ]);
    expect(changed.find((r) => r[1] === 'images/pi.apko.yaml:4')?.[3]).toBe('rpi-firmware is not on x86_64');
    expect(changed.find((r) => r[1] === 'images/pi.apko.yaml:5')?.[3]).toContain(
      `Renovate asks ${serverUrl}/bootc?arch=aarch64&repository=wolfi (the URL asks ?arch=aarch64 but this file is built for x86_64,aarch64; rerun apk-indexer gen renovate)`,
    );
  }, 300_000);

  it('through an unchanged hown3d-style /{{packageName}} URL, proposes nothing missing on an image arch', async () => {
    const plain = {
      customDatasources: { wolfi: { defaultRegistryUrlTemplate: `${serverUrl}/{{packageName}}`, format: 'json' } },
      customManagers: [
        {
          customType: 'regex',
          managerFilePatterns: ['**/*.yaml'],
          matchStrings: ['- "?(?<depName>[a-z0-9-]+)=(?<currentValue>[^\\s"]+)'],
          datasourceTemplate: 'custom.wolfi',
          versioningTemplate: 'loose',
        },
      ],
      packageRules: [{ matchDatasources: ['custom.wolfi'], maxMajorIncrement: 0 }],
    };
    const repo = await repository({ 'renovate.json': JSON.stringify(plain) });
    const deps = depsOf(await renovate(repo));
    const built: Record<string, string[]> = {
      'apko/base.yaml': ['x86_64', 'aarch64'],
      'apko/host.yaml': ['x86_64', 'aarch64'],
      'images/pi.apko.yaml': ['aarch64'],
      'images/nuc.yaml': ['x86_64'],
      'alpine/edge.yaml': ['x86_64', 'aarch64'],
    };
    const all = {
      ...WOLFI_PACKAGES,
      x86_64: [...WOLFI_PACKAGES.x86_64!, ...ALPINE_PACKAGES.x86_64!],
      aarch64: [...WOLFI_PACKAGES.aarch64!, ...ALPINE_PACKAGES.aarch64!],
    };
    let proposed = 0;
    for (const [where, dep] of deps) {
      for (const update of dep.updates ?? []) {
        proposed++;
        for (const arch of built[where.split(':')[0]!]!) {
          expect(
            all[arch as 'x86_64']!.some((p) => p.name === dep.depName && p.version === update.newVersion),
            `${where} -> ${update.newVersion} on ${arch}`,
          ).toBe(true);
        }
      }
    }
    expect(proposed).toBeGreaterThan(0);
    // The held-back x86_64-only releases.
    expect(proposals(deps)['apko/host.yaml:bootc']).toEqual(['1.16.7-r0']);
    expect(proposals(deps)['alpine/edge.yaml:curl']).toEqual(['8.11.1-r0']);
  }, 300_000);

  it("check's model of Renovate agrees with Renovate's own extraction and lookups: json5, combination, an undefined datasource, extractVersion", async () => {
    const pin = '- "?(?<depName>[a-z0-9-]+)=(?<currentValue>[^\\\\s"]+)';
    const json5 = `// apko pins, several ways Renovate can miss them
{
  customDatasources: { apk: { defaultRegistryUrlTemplate: '${serverUrl}/{{packageName}}' } },
  customManagers: [
    // every pin of the Wolfi images
    { customType: 'regex', managerFilePatterns: ['apko/*.yaml', '/^images\\\\/nuc\\\\.yaml$/'], matchStrings: ['${pin}'], datasourceTemplate: 'custom.apk', versioningTemplate: 'loose' },
    // one dependency per file: the last match wins
    { customType: 'regex', managerFilePatterns: ['images/*.apko.yaml'], matchStringsStrategy: 'combination', matchStrings: ['${pin}'], datasourceTemplate: 'custom.apk', versioningTemplate: 'loose' },
    // a datasource the config never defines
    { customType: 'regex', fileMatch: ['^alpine/'], matchStrings: ['${pin}'], datasourceTemplate: 'custom.alpine', versioningTemplate: 'loose' },
  ],
  packageRules: [
    { matchDatasources: ['custom.apk'], maxMajorIncrement: 0 },
    // no group named version: every version is dropped
    { matchFileNames: ['images/nuc.yaml'], matchDepNames: ['bootc'], extractVersion: '^(?<v>.+)$' },
  ],
}
`;
    const repo = await repository({ 'renovate.json5': json5 });
    const deps = depsOf(await renovate(repo));
    expect(proposals(deps)).toEqual({
      'apko/base.yaml:wolfi-baselayout': ['20241121-r0'],
      'apko/host.yaml:bootc': ['1.16.7-r0'],
      'apko/host.yaml:openssl': ['3.4.0-r1'],
      'images/pi.apko.yaml:bootc': ['1.16.7-r0'],
      'images/nuc.yaml:intel-ucode': ['20241112-r0'],
      'images/nuc.yaml:bootc': [],
      'alpine/edge.yaml:curl': [],
    });

    const rows = await checkRows(repo);
    // Found in renovate.json5, as Renovate found it; the pins Renovate extracts, check extracts.
    const about = (file: string, pin: string) =>
      rows.filter((r) => r[1]!.startsWith(`${file}:`) && r[2] === pin).map((r) => r[3]!);
    for (const [where, dep] of deps) {
      const [file] = where.split(':');
      const details = about(file!, `${dep.depName}=${dep.currentValue}`).join(' | ');
      if (dep.updates?.length)
        expect(details, where).toContain(`proposes ${dep.updates[0]!.newVersion}, as pin --check`);
      else
        expect(details, where).toMatch(
          /Renovate extracts this pin but gets no versions|keeps no version|proposes nothing/,
        );
    }
    expect(about('images/pi.apko.yaml', 'rpi-firmware=1.20240529-r0')).toContain(
      'Renovate will not keep this pin fresh: customManagers[1] uses matchStringsStrategy combination: one dependency per file, from the last match; this pin is not it',
    );
    expect(about('alpine/edge.yaml', 'curl=8.11.0-r0')).toContain(
      'Renovate extracts this pin but gets no versions: datasource custom.alpine: renovate.json5 defines no customDatasources.alpine, so the lookup fails',
    );
    expect(about('images/nuc.yaml', 'bootc=1.16.6-r0')).toContainEqual(
      expect.stringMatching(
        /: extractVersion \^\(\?<v>\.\+\)\$ keeps no version \(it needs a group named version\), so no update$/,
      ),
    );
    // Every pin Renovate skips or answers differently is an error; the others are not.
    const pins = rows.filter((r) => /=/.test(r[2]!));
    const missed = new Set(
      pins
        .filter((r) => r[0] === 'error' && r[3]!.includes('Renovate'))
        .map((r) => `${r[1]!.split(':')[0]}:${r[2]!.split('=')[0]}`),
    );
    expect([...missed].sort()).toEqual([
      'alpine/edge.yaml:curl',
      'images/nuc.yaml:bootc',
      'images/pi.apko.yaml:rpi-firmware',
    ]);
  }, 300_000);
});
