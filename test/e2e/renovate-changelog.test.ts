import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENOVATE_MAJOR, RENOVATE_VERSION, renovateBin, renovateDist, runRenovate } from '../helpers/renovate.js';
import { renderRenovateJson } from '../../src/generate/renovate.js';
import { treeRenovateConfig } from '../../src/generate/renovate-tree.js';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import { SOURCE_URL, wolfiSecdb, wolfiShaped } from '../helpers/wolfi-shaped.js';

const run = promisify(execFile);

/** Where a reviewer's browser reaches the service: another name than Renovate uses (publicUrl). */
const PUBLIC_URL = 'http://apk-indexer.reviewer.test:8080';

interface ReportDep {
  depName: string;
  packageName?: string;
  currentVersion?: string;
  currentValue: string;
  changelogUrl?: string;
  updates: Array<{ newVersion: string; newValue: string }>;
}

describe(`Renovate ${RENOVATE_VERSION}: every proposed update links to its changes page`, () => {
  let fixture: FixtureService;
  let repo: string;

  beforeAll(async () => {
    fixture = await startFixtureService({
      repositories: { os: wolfiShaped() },
      repositorySettings: (url) => ({ os: { secdb: `${url}/os/security.json`, sourceUrl: SOURCE_URL } }),
      settings: { publicUrl: PUBLIC_URL },
      listen: true,
    });
    await writeFile(join(fixture.dir, 'os', 'security.json'), wolfiSecdb());
    await fixture.service.secdb.refreshAll();
    repo = await mkdtemp(join(tmpdir(), 'apk-e2e-changes-'));
    await mkdir(join(repo, 'apko'));
    await writeFile(
      join(repo, 'apko', 'image.yaml'),
      [
        'contents:',
        '  packages:',
        '    - openssl=3.3.2-r0',
        '    - libcrypto3=3.4.0-r0',
        'archs: [amd64, arm64]',
        '',
      ].join('\n'),
    );
    const config = await treeRenovateConfig({
      root: repo,
      includePaths: [],
      fallbackArches: [],
      config: undefined,
      server: fixture.baseUrl,
      renovateMajor: RENOVATE_MAJOR,
    });
    await writeFile(join(repo, 'renovate.json'), renderRenovateJson(config));
    await run('git', ['init', '-q'], { cwd: repo });
    await run('git', ['add', '-A'], { cwd: repo });
    await run('git', ['-c', 'user.email=e2e@apk-indexer.test', '-c', 'user.name=e2e', 'commit', '-qm', 'fixture'], {
      cwd: repo,
    });
  }, 900_000);

  afterAll(async () => {
    await fixture?.close();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('keeps the changelogUrl, renders it per update as its PR body does, and the link shows the builds and fixes', async () => {
    const report = join(repo, 'report.json');
    await runRenovate(
      renovateBin,
      [
        '--platform=local',
        '--onboarding=false',
        '--require-config=optional',
        '--report-type=file',
        `--report-path=${report}`,
      ],
      {
        cwd: repo,
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          RENOVATE_CONFIG_FILE: join(repo, 'renovate.json'),
          RENOVATE_HOST_RULES: JSON.stringify([{ matchHost: '127.0.0.1', allowInternal: true }]),
        },
      },
    );
    const data = JSON.parse(await readFile(report, 'utf8')) as {
      repositories: Record<string, { packageFiles: Record<string, Array<{ deps: ReportDep[] }>> }>;
    };
    const deps = Object.values(data.repositories).flatMap((r) =>
      Object.values(r.packageFiles)
        .flat()
        .flatMap((f) => f.deps),
    );
    // (The generated config may match a pin under more than one manager; each match is an update of its own.)
    expect(new Set(deps.map((d) => `${d.depName} ${d.updates.map((u) => u.newVersion).join(',')}`))).toEqual(
      new Set(['openssl 3.4.0-r1', 'libcrypto3 3.4.0-r1']),
    );

    // Renovate's PR body renders the template with its own Handlebars setup: compile(changelogUrl, upgrade, true)
    // in lib/workers/repository/update/pr/body/index.ts. The same function, from the installed Renovate.
    const upgrades = deps.flatMap((d) => d.updates.map((u) => ({ ...d, ...u, updates: undefined })));
    const script = `import { compile } from ${JSON.stringify(join(renovateDist, 'util', 'template', 'index.js'))};
      const upgrades = JSON.parse(process.argv[1]);
      process.stdout.write(JSON.stringify(upgrades.map((u) => compile(u.changelogUrl, u, true))));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(upgrades)], {
      cwd: repo,
      env: { ...process.env, LOG_LEVEL: 'fatal' },
    });
    const rendered = JSON.parse(stdout) as string[];
    expect(rendered).toHaveLength(upgrades.length);
    const links = [...new Set(rendered)];
    expect(links).toEqual([
      `${PUBLIC_URL}/-/changes/openssl?from=3.3.2-r0&to=3.4.0-r1&arch=aarch64%2Cx86_64`,
      `${PUBLIC_URL}/-/changes/libcrypto3?from=3.4.0-r0&to=3.4.0-r1&arch=aarch64%2Cx86_64`,
    ]);

    // Each link, opened on the service, lists the builds between the pins and the fixes the update brings.
    const opened = await Promise.all(
      links.map(async (link) => {
        const url = new URL(link);
        const res = await fetch(`${fixture.baseUrl}${url.pathname}${url.search}&format=json`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as {
          arches: Array<{ arch: string; builds: Array<{ version: string }> }>;
          fixes: Array<{ ids: string[] }>;
        };
        return {
          arches: body.arches.map((a) => [a.arch, a.builds.map((b) => b.version)]),
          ids: body.fixes.flatMap((f) => f.ids),
        };
      }),
    );
    expect(opened).toEqual([
      {
        arches: [
          ['aarch64', ['3.3.2-r1', '3.4.0_rc1-r0', '3.4.0-r0', '3.4.0-r1']],
          ['x86_64', ['3.3.2-r1', '3.4.0_rc1-r0', '3.4.0-r0', '3.4.0-r1']],
        ],
        ids: ['CVE-2024-5535', 'GHSA-aaaa-bbbb-cccc', 'CVE-2024-9143', 'GHSA-xxxx-yyyy-zzzz'],
      },
      {
        arches: [
          ['aarch64', ['3.4.0-r1']],
          ['x86_64', ['3.4.0-r1']],
        ],
        ids: ['CVE-2024-9143', 'GHSA-xxxx-yyyy-zzzz'],
      },
    ]);
  }, 300_000);
});
