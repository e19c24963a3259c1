import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureService, type FixtureService } from '../helpers/fixture-service.js';
import {
  COMMITS,
  HOSTILE_NAME,
  HOSTILE_VERSION,
  SOURCE_URL,
  wolfiSecdb,
  wolfiShaped,
} from '../helpers/wolfi-shaped.js';

/** Debian's chromium (.ci/run installs it), headless, offline, with a fresh profile per run. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = process.env.APK_INDEXER_SCREENSHOTS;

describe('the human pages in a real browser', () => {
  let fixture: FixtureService;
  let profile: string;
  let context: BrowserContext;
  let browser: Browser | undefined;
  let page: Page;
  const alerts: string[] = [];
  const offsite: string[] = [];

  beforeAll(async () => {
    fixture = await startFixtureService({
      repositories: {
        os: wolfiShaped(),
        // A repository read without a key: the page must not call it ok.
        local: { x86_64: [{ name: 'local-tool', version: '1.0-r0' }] },
      },
      repositorySettings: (url) => ({
        os: { secdb: `${url}/os/security.json`, sourceUrl: SOURCE_URL },
        local: { keys: [] },
      }),
      settings: { publicUrl: 'http://reviewer.example' },
      listen: true,
    });
    await writeFile(join(fixture.dir, 'os', 'security.json'), wolfiSecdb());
    await fixture.service.secdb.refreshAll();
    profile = await mkdtemp(join(tmpdir(), 'apk-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: { width: 390, height: 844 },
    });
    browser = context.browser() ?? undefined;
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => {
      alerts.push(d.message());
      void d.dismiss();
    });
    // Nothing may load from anywhere but the service itself.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(fixture.baseUrl)) return route.continue();
      offsite.push(url);
      return route.abort();
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await fixture?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('opens the link a Renovate update carries and shows the builds, recipe links, compare link and CVEs', async () => {
    // The link as Renovate renders it from the datasource answer's template.
    const res = await fetch(`${fixture.baseUrl}/openssl?arch=x86_64,aarch64`);
    const { changelogUrl } = (await res.json()) as { changelogUrl: string };
    const link = changelogUrl
      .replace('{{packageName}}', 'openssl')
      .replace('{{currentVersion}}', '3.3.2-r0')
      .replace('{{newVersion}}', '3.4.0-r1');
    expect(link).toBe('http://reviewer.example/-/changes/openssl?from=3.3.2-r0&to=3.4.0-r1&arch=aarch64%2Cx86_64');
    await page.goto(`${fixture.baseUrl}${new URL(link).pathname}${new URL(link).search}`);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'changes.png'), fullPage: true });

    await expect(page.title()).resolves.toBe('openssl 3.3.2-r0 → 3.4.0-r1');
    for (const arch of ['x86_64', 'aarch64']) {
      const section = page.locator('section', { has: page.locator('h2', { hasText: `${arch}:` }) });
      await expect(section.locator('h2').textContent()).resolves.toBe(`${arch}: 4 builds after 3.3.2-r0`);
      const versions = await section.locator('tbody tr td:first-child').allTextContents();
      expect(versions).toEqual(['3.4.0-r1 (new)', '3.4.0-r0', '3.4.0_rc1-r0', '3.3.2-r1', '3.3.2-r0 (current)']);
      const recipe = await section.locator('tbody tr').first().locator('a').getAttribute('href');
      expect(recipe).toBe(`https://github.com/wolfi-dev/os/blob/${COMMITS['3.4.0-r1']}/openssl.yaml`);
      await expect(section.getByRole('link', { name: /^Compare the recipe/ }).getAttribute('href')).resolves.toBe(
        `https://github.com/wolfi-dev/os/compare/${COMMITS['3.3.2-r0']}...${COMMITS['3.4.0-r1']}`,
      );
    }
    // 3.3.2-r0's own fix and 3.4.0-r2's are outside the range; "0" never applied.
    const ids = await page.locator('ul.ids li').allTextContents();
    expect(ids).toEqual(['CVE-2024-5535', 'GHSA-aaaa-bbbb-cccc', 'CVE-2024-9143', 'GHSA-xxxx-yyyy-zzzz']);
    await expect(page.getByRole('link', { name: 'CVE-2024-9143' }).getAttribute('href')).resolves.toBe(
      'https://nvd.nist.gov/vuln/detail/CVE-2024-9143',
    );
    await expect(page.locator('h2.ok').textContent()).resolves.toBe('Security fixes: 4 fixed by 3.4.0-r1');
    // Readable on a phone: nothing wider than the screen.
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('shows a subpackage the fixes of its origin', async () => {
    await page.goto(`${fixture.baseUrl}/-/changes/libcrypto3?from=3.3.2-r1&to=3.4.0-r0`);
    expect(await page.locator('ul.ids li').allTextContents()).toEqual(['GHSA-aaaa-bbbb-cccc']);
  });

  it('escapes hostile names, versions, origins and IDs: they show as text and run nothing', async () => {
    await page.goto(
      `${fixture.baseUrl}/-/changes/${encodeURIComponent(HOSTILE_NAME)}?from=${HOSTILE_VERSION}&to=1.0-r1`,
    );
    await expect(page.locator('h1').textContent()).resolves.toBe(`${HOSTILE_NAME}: ${HOSTILE_VERSION} → 1.0-r1`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('main script, main b').count()).toBe(0);
    expect(await page.locator('ul.ids li').allTextContents()).toEqual(['<b>CVE-2025-9999</b>']);
    await expect(page.locator('td', { hasText: '"><script>' }).first().textContent()).resolves.toBe(
      '"><script>alert(2)</script>',
    );
    // A hostile version in the query is echoed as text on the error page.
    await page.goto(`${fixture.baseUrl}/-/changes/openssl?from=${encodeURIComponent('<i>x</i>')}&to=3.4.0-r1`);
    expect(await page.locator('main i').count()).toBe(0);
    await expect(page.locator('p.bad').textContent()).resolves.toContain('"<i>x</i>" is not an apk version');
    expect(alerts).toEqual([]);
  });

  it('answers unknown names and versions with a clear page listing what there is', async () => {
    const missing = await page.goto(`${fixture.baseUrl}/-/changes/no-such-package?from=1-r0&to=2-r0`);
    expect(missing?.status()).toBe(404);
    await expect(page.locator('p.bad').textContent()).resolves.toBe(
      'package "no-such-package" is not in any configured index',
    );
    const unknown = await page.goto(`${fixture.baseUrl}/-/changes/openssl?from=3.3.2-r0&to=9.9.9-r0`);
    expect(unknown?.status()).toBe(404);
    await expect(page.locator('p.bad').textContent()).resolves.toBe(
      'openssl 9.9.9-r0 is not in the index on aarch64, x86_64',
    );
    // The versions there are link to the changes between them.
    await page.getByRole('link', { name: 'changes from 3.4.0-r1' }).first().click();
    await expect(page.locator('h1').textContent()).resolves.toBe('openssl: 3.4.0-r1 → 3.4.0-r2');
  });

  it('home page: indexes with freshness, a search that works without scripts, links to status and metrics', async () => {
    await context.setExtraHTTPHeaders({});
    const plain = await context.newPage();
    await plain
      .context()
      .route('**/*', (route) => (route.request().url().startsWith(fixture.baseUrl) ? route.continue() : route.abort()));
    await plain.goto(`${fixture.baseUrl}/`);
    // Each repository: its URL, then its indexes with freshness, next refresh and state.
    const repository = (name: string) =>
      plain.locator('section.repository', { has: plain.locator('h3', { hasText: name }) });
    await expect(repository('os').locator('p.url').textContent()).resolves.toBe(`${fixture.upstream.url}/os`);
    await expect(repository('local').locator('p.url').textContent()).resolves.toBe(`${fixture.upstream.url}/local`);
    const rows = async (name: string) =>
      Promise.all((await repository(name).locator('tbody tr').all()).map((r) => r.locator('td').allTextContents()));
    const os = await rows('os');
    expect(os.map(([arch, records, , , state]) => [arch, records, state]).sort()).toEqual([
      ['aarch64', '10', 'ok'],
      ['x86_64', '13', 'ok'],
    ]);
    expect(os.every(([, , refreshed, next]) => / ago$/.test(refreshed!) && /^in \d+ h$/.test(next!))).toBe(true);
    expect((await rows('local')).map(([arch, records, , , state]) => [arch, records, state])).toEqual([
      ['x86_64', '1', 'unverified'],
    ]);
    expect(await plain.getByRole('link', { name: 'Status (JSON)' }).getAttribute('href')).toBe('/-/status');
    expect(await plain.getByRole('link', { name: 'Metrics (Prometheus)' }).getAttribute('href')).toBe('/metrics');
    await expect(plain.locator('main > p.muted').last().textContent()).resolves.toMatch(
      /^apk-indexer \d+\.\d+\.\d+ · Status \(JSON\) · Metrics \(Prometheus\)$/,
    );
    // Readable on a phone (390 px wide): the State column is on the screen, and nothing is wider than it.
    for (const cell of await plain.locator('td.state').all()) {
      const box = (await cell.boundingBox())!;
      expect(box.x + box.width, (await cell.textContent()) ?? '').toBeLessThanOrEqual(390);
    }
    expect(
      await plain.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    ).toBeLessThanOrEqual(0);
    if (SHOTS) await plain.screenshot({ path: join(SHOTS, 'home.png'), fullPage: true });

    await plain.getByRole('searchbox').fill('openssl');
    await plain.getByRole('button', { name: 'Search' }).click();
    await plain.waitForURL(/\?q=openssl$/);
    if (SHOTS) await plain.screenshot({ path: join(SHOTS, 'search.png'), fullPage: true });
    // What Renovate gets for the name: versions on every arch that holds it (3.4.0-r2 is on x86_64 only).
    await expect(plain.locator('p.renovate').textContent()).resolves.toBe(
      'Renovate gets 5 versions from GET /openssl, latest 3.4.0-r1: 3.4.0-r1, 3.4.0-r0, 3.4.0_rc1-r0, 3.3.2-r1, 3.3.2-r0.',
    );
    const x86 = plain.locator('h3', { hasText: 'x86_64' }).locator('xpath=following-sibling::div[1]');
    expect(await x86.locator('tbody tr td:first-child').allTextContents()).toEqual([
      '3.4.0-r2',
      '3.4.0-r1',
      '3.4.0-r0',
      '3.4.0_rc1-r0',
      '3.3.2-r1',
      '3.3.2-r0',
    ]);
    await x86.getByRole('link', { name: 'changes from 3.4.0-r0' }).click();
    await expect(plain.locator('h1').textContent()).resolves.toBe('openssl: 3.4.0-r0 → 3.4.0-r1');
    expect(new URL(plain.url()).searchParams.get('arch')).toBe('x86_64');

    // A part of a name lists the names that contain it, and says Renovate gets nothing for it.
    await plain.goto(`${fixture.baseUrl}/?q=crypto`);
    await expect(plain.locator('p.renovate').textContent()).resolves.toBe(
      'Renovate gets nothing: GET /crypto answers 404 unknown-package: package "crypto" is not in any configured index',
    );
    await plain.getByRole('link', { name: 'libcrypto3' }).click();
    await expect(plain.locator('main h2').first().textContent()).resolves.toBe('libcrypto3');
    await plain.close();
    expect(offsite).toEqual([]);
  });
});
