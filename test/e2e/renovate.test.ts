import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/settings.js';
import { RenovateBodySchema } from '../../src/datasource/renovate-body.js';
import { buildIndexArchive, generateFixtureKey } from '../fixtures/apk-repo.js';
import {
  RENOVATE_MAJOR,
  RENOVATE_VERSION,
  renovateDir,
  renovateBin,
  runRenovate,
  validatorBin,
} from '../helpers/renovate.js';
import { PIN_MATCH_STRING, renderRenovateJson } from '../../src/generate/renovate.js';
import { treeRenovateConfig } from '../../src/generate/renovate-tree.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { runCommand } from '../generate/helpers.js';
import {
  ALPINE_COMMUNITY_PACKAGES,
  ALPINE_EDGE,
  ALPINE_PACKAGES,
  VERSION_CASES,
  VERSION_CASES_DOCKERFILE,
  WOLFI_PACKAGES,
  writeRenovateTree,
} from '../helpers/renovate-tree.js';
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

/** Every dependency a manager (the regex custom managers by default) reported, keyed `file:depName`. */
function depsOf(report: Report, manager = 'regex'): Map<string, ReportDep> {
  const out = new Map<string, ReportDep>();
  for (const repo of Object.values(report.repositories)) {
    for (const file of repo.packageFiles[manager] ?? [])
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
    await writeRenovateTree(repo, {
      wolfi: `${upstream.url}/wolfi`,
      alpine: `${upstream.url}/alpine`,
      alpineCommunity: `${upstream.url}/alpine-community`,
    });
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
          // The Dockerfiles' FROM images would be looked up on their registries: no network here.
          RENOVATE_CONFIG_FILE: globalConfig,
          // Its own package cache (the apk datasource keeps indexes an hour), not one shared with other runs.
          RENOVATE_CACHE_DIR: join(dirname(globalConfig), 'cache'),
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

  let globalConfig: string;

  beforeAll(async () => {
    globalConfig = join(await mkdtemp(join(tmpdir(), 'apk-e2e-global-')), 'config.json');
    repos.push(dirname(globalConfig));
    await writeFile(globalConfig, JSON.stringify({ packageRules: [{ matchDatasources: ['docker'], enabled: false }] }));
    upstream = await new Upstream().start();
    upstream.files.set(`/keys/${key.name}`, Buffer.from(key.publicPem));
    const wolfi = {
      x86_64: [...WOLFI_PACKAGES.x86_64!, ...VERSION_CASES],
      aarch64: [...WOLFI_PACKAGES.aarch64!, ...VERSION_CASES],
    };
    for (const [repo, content] of [
      ['wolfi', wolfi],
      ['alpine', ALPINE_PACKAGES],
      ['alpine-community', ALPINE_COMMUNITY_PACKAGES],
    ] as const) {
      for (const [arch, packages] of Object.entries(content)) {
        upstream.files.set(
          `/${repo}/${arch}/APKINDEX.tar.gz`,
          buildIndexArchive({ sign: [{ key }], packages: packages.map((p) => ({ ...p, arch })) }),
        );
      }
    }
    const repository = (name: string, aliases: string[] = []) => ({
      name,
      url: `${upstream.url}/${name}`,
      aliases,
      arches: ['x86_64', 'aarch64'],
      keys: [`${upstream.url}/keys/${key.name}`],
    });
    service = buildService(
      {
        ...DEFAULTS,
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        repositories: [
          repository('wolfi'),
          repository('alpine', [ALPINE_EDGE.main]),
          repository('alpine-community', [ALPINE_EDGE.community]),
        ],
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
    expect(Object.keys(RenovateBodySchema.shape).sort()).toEqual(Object.keys(ReleaseResultZod.shape).sort());
    expect(Object.keys(RenovateBodySchema.shape.releases.element.shape).sort()).toEqual(
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
      // RUN apk add on the tree's two-arch host image: as its apko pins, 1.17.0-r0 (x86_64 only) held back.
      'hosts/nuc/Dockerfile:bootc': ['1.16.7-r0'],
      'hosts/nuc/Dockerfile:openssl': ['3.4.0-r1'],
      'hosts/nuc/Dockerfile:wolfi-baselayout': ['20241121-r0'],
      // RUN apk add on alpine:edge, from main and community; git 2.47.1-r0 is on x86_64 only.
      'tools/Containerfile:curl': ['8.11.1-r0'],
      'tools/Containerfile:jq': ['1.8.0-r0'],
      'tools/Containerfile:git': [],
    });

    // check names the URL Renovate asks and agrees with Renovate on every pin.
    const rows = await checkRows(repo);
    // (The fixture's bootc images are not bootable and ca-certificates-bundle is in no index: check says so too.)
    expect(rows.filter((r) => r[0] === 'error' && r[3]!.includes('Renovate'))).toEqual([]);
    for (const [where, dep] of deps) {
      const [file] = where.split(':');
      const row = rows.find((r) => r[1]!.startsWith(`${file}:`) && r[2] === `${dep.depName}=${dep.currentValue}`);
      expect(row?.[3], where).toContain(`Renovate asks ${serverUrl}/${dep.depName}?arch=`);
      expect(row?.[3], where).toContain(
        dep.updates?.length
          ? `proposes ${dep.updates[0]!.newVersion}, as pin --check`
          : 'nothing to propose, as pin --check',
      );
    }
    expect(rows.find((r) => r[1] === 'tools/Containerfile:2' && r[2] === 'jq=1.7.1-r0')?.[3]).toBe(
      `stale: 1.8.0-r0 is present on all of x86_64, aarch64; Renovate asks ${serverUrl}/jq?arch=x86_64,aarch64&repository=alpine,alpine-community: proposes 1.8.0-r0, as pin --check`,
    );

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
      // No manager of this config reads the Dockerfiles (Renovate's own skips apk pins without registryUrls).
      'hosts/nuc/Dockerfile:bootc',
      'hosts/nuc/Dockerfile:openssl',
      'hosts/nuc/Dockerfile:wolfi-baselayout',
      'images/nuc.yaml:bootc',
      'images/pi.apko.yaml:rpi-firmware',
      'tools/Containerfile:curl',
      'tools/Containerfile:git',
      'tools/Containerfile:jq',
    ]);
    expect(about('tools/Containerfile', 'jq=1.7.1-r0')).toContain(
      'Renovate will not keep this pin fresh: no regex manager in renovate.json5 reads tools/Containerfile (a file added or moved since the config was written? rerun apk-indexer gen renovate)',
    );
  }, 300_000);

  it("Renovate's own apk datasource through /-/apk/: a Dockerfile and a regex manager, versions on every arch, provided names", async () => {
    const apk = (repository: string, arch = 'all') => `${serverUrl}/-/apk/${repository}?arch=${arch}`;
    const native = {
      customManagers: [
        {
          customType: 'regex',
          description: 'apko pins, looked up by Renovate itself',
          managerFilePatterns: ['/^apko\\/host\\.yaml$/', '/^images\\/nuc\\.yaml$/'],
          matchStrings: [PIN_MATCH_STRING],
          datasourceTemplate: 'apk',
        },
      ],
      packageRules: [
        { matchDatasources: ['apk'], maxMajorIncrement: 0 },
        {
          matchDatasources: ['apk'],
          matchFileNames: ['hosts/nuc/Dockerfile', 'cases/Dockerfile', 'apko/host.yaml'],
          registryUrls: [apk('wolfi')],
        },
        { matchDatasources: ['apk'], matchFileNames: ['images/nuc.yaml'], registryUrls: [apk('wolfi', 'x86_64')] },
        {
          matchDatasources: ['apk'],
          matchFileNames: ['tools/Containerfile'],
          registryUrls: [apk('alpine'), apk('alpine-community')],
        },
      ],
    };
    const repo = await repository({ 'renovate.json': JSON.stringify(native, null, 2) });
    await mkdir(join(repo, 'cases'), { recursive: true });
    await writeFile(join(repo, 'cases', 'Dockerfile'), VERSION_CASES_DOCKERFILE);
    await run('git', ['add', '-A'], { cwd: repo });
    await run('git', ['-c', 'user.email=e2e@apk-indexer.test', '-c', 'user.name=e2e', 'commit', '-qm', 'cases'], {
      cwd: repo,
    });
    const report = await renovate(repo);
    const dockerfile = proposals(depsOf(report, 'dockerfile'));
    // Renovate's Dockerfile manager: only versions on every arch (all), provided names found, and its apk
    // versioning's order. Each case: the first version pinned, the second the one apk orders after it.
    expect(
      Object.fromEntries(
        Object.entries(dockerfile).filter(([k]) => /:(bootc|openssl|curl|jq|git|wolfi-baselayout)$|^cases\//.test(k)),
      ),
    ).toEqual({
      'hosts/nuc/Dockerfile:bootc': ['1.16.7-r0'], // not 1.17.0-r0, on x86_64 only
      'hosts/nuc/Dockerfile:openssl': [], // _rc9 -> release: apk versioning puts _rc above the release
      'hosts/nuc/Dockerfile:wolfi-baselayout': ['20241121-r0'],
      'tools/Containerfile:curl': ['8.11.1-r0'], // not 8.12.0-r0, on x86_64 only
      'tools/Containerfile:jq': ['1.8.0-r0'], // from the second registry URL: community
      'tools/Containerfile:git': [], // 2.47.1-r0 is on x86_64 only
      'cases/Dockerfile:registry.example.org/homelab/host': [], // the FROM image (not looked up here)
      'cases/Dockerfile:p-fix': [], // 1.0-r0 -> 1.0_p1-r0 missed
      'cases/Dockerfile:letter': [], // 1.0-r0 -> 1.0a-r0 missed
      'cases/Dockerfile:rc-release': [], // 1.0_rc1-r0 -> 1.0-r0 missed
      'cases/Dockerfile:git-snapshot': [], // 1.2.3-r0 -> 1.2.3_git20240101-r0 missed
      'cases/Dockerfile:rc-ten': [], // 1.0_rc9-r0 -> 1.0_rc10-r0 missed (rc10 compares below rc9)
      'cases/Dockerfile:revision': ['1.0-r10'],
      'cases/Dockerfile:argo-cd': ['2.12.3-r0'], // a name argo-cd-2.12 provides
    });
    // A regex manager with datasourceTemplate apk: the two-arch image and the amd64-only one.
    expect(proposals(depsOf(report))).toEqual({
      'apko/host.yaml:bootc': ['1.16.7-r0'],
      'apko/host.yaml:openssl': [],
      'images/nuc.yaml:intel-ucode': ['20241112-r0'],
      'images/nuc.yaml:bootc': ['1.17.0-r0'],
    });

    // check does not predict this path's answers: it says which URL Renovate reads, as a warning, never an error.
    const rows = await checkRows(repo);
    // Errors only for the files this config reads with no manager at all.
    const missed = rows.filter((r) => r[0] === 'error' && r[3]!.includes('Renovate'));
    expect([...new Set(missed.map((r) => r[1]!.split(':')[0]))]).toEqual([
      'alpine/edge.yaml',
      'apko/base.yaml',
      'images/pi.apko.yaml',
    ]);
    expect(missed.every((r) => r[3]!.startsWith('Renovate will not keep this pin fresh: no regex manager'))).toBe(true);
    expect(rows.find((r) => r[1] === 'hosts/nuc/Dockerfile:4')).toEqual([
      'warning',
      'hosts/nuc/Dockerfile:4',
      'bootc=1.16.6-r0',
      `Renovate's own Dockerfile manager looks it up with its apk datasource in ${apk('wolfi')}: its answer is not predicted here (docs/generators.md)`,
    ]);
    expect(rows.find((r) => r[1] === 'apko/host.yaml:4')?.[3]).toBe(
      `Renovate looks it up with its own apk datasource in ${apk('wolfi')}: its answer is not predicted here (docs/generators.md)`,
    );

    // The same cases through the custom datasource, with the config gen renovate writes.
    const custom = await repository({});
    await mkdir(join(custom, 'cases'), { recursive: true });
    await writeFile(join(custom, 'cases', 'Dockerfile'), VERSION_CASES_DOCKERFILE);
    await writeFile(join(custom, 'renovate.json'), renderRenovateJson(await generated(custom)));
    await run('git', ['add', '-A'], { cwd: custom });
    await run('git', ['-c', 'user.email=e2e@apk-indexer.test', '-c', 'user.name=e2e', 'commit', '-qm', 'cases'], {
      cwd: custom,
    });
    const viaCustom = proposals(depsOf(await renovate(custom)));
    expect(
      Object.fromEntries(Object.entries(viaCustom).filter(([k]) => k.startsWith('cases/') || k.endsWith(':openssl'))),
    ).toEqual({
      'apko/host.yaml:openssl': ['3.4.0-r1'],
      'hosts/nuc/Dockerfile:openssl': ['3.4.0-r1'],
      'cases/Dockerfile:p-fix': [], // loose: a release above its own _p (pin and check name it)
      'cases/Dockerfile:letter': ['1.0a-r0'],
      'cases/Dockerfile:rc-release': ['1.0-r0'],
      'cases/Dockerfile:git-snapshot': [], // loose: as _p
      'cases/Dockerfile:rc-ten': ['1.0_rc10-r0'],
      'cases/Dockerfile:revision': ['1.0-r10'],
      'cases/Dockerfile:argo-cd': ['2.12.3-r0'],
    });
  }, 300_000);
});
