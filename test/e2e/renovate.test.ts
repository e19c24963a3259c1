import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/settings.js';
import { buildIndexArchive, generateFixtureKey, type FixturePackage } from '../../src/fixtures/apk-repo.js';
import { renderRenovateJson, renovateConfig } from '../../src/generate/renovate.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { Upstream } from '../helpers/upstream.js';

const run = promisify(execFile);

/** Real Renovate, installed on demand into a cache (not a dependency): the version the README's GitLab job runs. */
const RENOVATE_VERSION = process.env.APK_INDEXER_RENOVATE_VERSION ?? '44.121.2';
const cacheDir = process.env.APK_INDEXER_RENOVATE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'apk-indexer', `renovate-${RENOVATE_VERSION}`);
const renovateBin = join(cacheDir, 'node_modules', 'renovate', 'dist', 'renovate.js');
const validatorBin = join(cacheDir, 'node_modules', 'renovate', 'dist', 'config-validator.js');

async function installRenovate(): Promise<void> {
  if (existsSync(renovateBin)) return;
  await mkdir(cacheDir, { recursive: true });
  await run('npm', ['install', '--prefix', cacheDir, '--no-audit', '--no-fund', '--omit=optional', `renovate@${RENOVATE_VERSION}`], { timeout: 600_000, maxBuffer: 64 << 20 });
}

const key = generateFixtureKey('e2e.rsa.pub');
const pkg = (name: string, version: string, arch: string): FixturePackage => ({ name, version, arch, buildTime: 1_700_000_000 });

describe(`Renovate ${RENOVATE_VERSION} against apk-indexer`, () => {
  let upstream: Upstream;
  let service: Service;
  let repo: string;
  let serverUrl: string;

  beforeAll(async () => {
    await installRenovate();
    upstream = await new Upstream().start();
    upstream.files.set(`/keys/${key.name}`, Buffer.from(key.publicPem));
    // bootc 1.17.0 exists only on x86_64, so a multi-arch image must move to 1.16.7, not 1.17.0.
    upstream.files.set('/os/x86_64/APKINDEX.tar.gz', buildIndexArchive({ sign: [{ key }], packages: [
      pkg('bootc', '1.16.6-r0', 'x86_64'), pkg('bootc', '1.16.7-r0', 'x86_64'), pkg('bootc', '1.17.0-r0', 'x86_64'),
      pkg('openssl', '3.4.0_rc9-r0', 'x86_64'), pkg('openssl', '3.4.0_rc10-r0', 'x86_64'), pkg('openssl', '3.4.0-r1', 'x86_64'),
      pkg('wolfi-baselayout', '20230201-r15', 'x86_64'), pkg('wolfi-baselayout', '20241121-r0', 'x86_64'),
      pkg('curl', '8.11.0-r0', 'x86_64'),
    ] }));
    upstream.files.set('/os/aarch64/APKINDEX.tar.gz', buildIndexArchive({ sign: [{ key }], packages: [
      pkg('bootc', '1.16.6-r0', 'aarch64'), pkg('bootc', '1.16.7-r0', 'aarch64'),
      pkg('openssl', '3.4.0_rc9-r0', 'aarch64'), pkg('openssl', '3.4.0_rc10-r0', 'aarch64'), pkg('openssl', '3.4.0-r1', 'aarch64'),
      pkg('wolfi-baselayout', '20230201-r15', 'aarch64'), pkg('wolfi-baselayout', '20241121-r0', 'aarch64'),
      pkg('curl', '8.11.0-r0', 'aarch64'),
    ] }));
    service = buildService(
      { ...DEFAULTS, host: '127.0.0.1', port: 0, logLevel: 'silent', repositories: [{ name: 'os', url: `${upstream.url}/os`, arches: ['x86_64', 'aarch64'], keys: [`${upstream.url}/keys/${key.name}`] }] },
      { logger: false },
    );
    service.store.start();
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    serverUrl = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;

    repo = await mkdtemp(join(tmpdir(), 'apk-e2e-'));
    await mkdir(join(repo, 'apko'));
    await writeFile(
      join(repo, 'apko', 'host.yaml'),
      ['contents:', '  packages:', '    - bootc=1.16.6-r0', '    - openssl=3.4.0_rc9-r0', '    - wolfi-baselayout=20230201-r15', '    - curl=8.11.0-r0', 'archs: [amd64, arm64]', ''].join('\n'),
    );
    const config = renovateConfig({ server: serverUrl, arches: ['x86_64', 'aarch64'], renovateMajor: Number(RENOVATE_VERSION.split('.')[0]) });
    await writeFile(join(repo, 'renovate.json'), renderRenovateJson(config));
    await run('git', ['init', '-q'], { cwd: repo });
    await run('git', ['add', '-A'], { cwd: repo });
    await run('git', ['-c', 'user.email=e2e@apk-indexer.test', '-c', 'user.name=e2e', 'commit', '-qm', 'fixture'], { cwd: repo });
  }, 900_000);

  afterAll(async () => {
    await service?.app.close();
    await upstream?.stop();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it("writes a renovate.json that Renovate's own validator accepts with --strict", async () => {
    const { stdout } = await run(process.execPath, [validatorBin, '--strict', join(repo, 'renovate.json')], { cwd: repo, timeout: 120_000, env: { ...process.env, LOG_LEVEL: 'info' } });
    expect(stdout).toMatch(/Config validated successfully/);
  }, 120_000);

  it('proposes the updates apk-indexer answers: newest on every arch, apk order, date versions', async () => {
    const report = join(repo, 'report.json');
    await run(process.execPath, [renovateBin, '--platform=local', '--onboarding=false', '--require-config=optional', '--report-type=file', `--report-path=${report}`], {
      cwd: repo,
      timeout: 300_000,
      maxBuffer: 64 << 20,
      env: { ...process.env, LOG_LEVEL: 'warn', RENOVATE_CONFIG_FILE: join(repo, 'renovate.json'), RENOVATE_HOST_RULES: JSON.stringify([{ matchHost: '127.0.0.1', allowInternal: true }]) },
    });
    const data = JSON.parse(await readFile(report, 'utf8')) as { repositories: Record<string, { packageFiles: Record<string, Array<{ deps: Array<{ depName: string; currentValue: string; updates: Array<{ newVersion: string }> }> }>> }> };
    const deps = Object.values(data.repositories).flatMap((r) => Object.values(r.packageFiles).flat().flatMap((f) => f.deps));
    const proposed = Object.fromEntries(deps.map((d) => [d.depName, d.updates.map((u) => u.newVersion)]));
    expect(proposed).toEqual({
      bootc: ['1.16.7-r0'],
      openssl: ['3.4.0-r1'],
      'wolfi-baselayout': ['20241121-r0'],
      curl: [],
    });
  }, 300_000);
});
