import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CHART } from './helpers.js';

/** The helm binary on PATH, if any: CI machines here have none, so these tests skip and say why. */
function findHelm(): string | undefined {
  try {
    execFileSync('helm', ['version', '--short'], { stdio: 'pipe', timeout: 20_000 });
    return 'helm';
  } catch {
    return undefined;
  }
}
const helm = findHelm();
if (!helm)
  console.warn(
    'test/ship/helm-cli.test.ts: no helm binary on PATH, so helm lint and helm template are skipped (docs/deploy.md)',
  );
const title = helm
  ? 'helm lint and helm template'
  : 'helm lint and helm template (skipped: no helm binary on PATH; see docs/deploy.md)';

const everything = [
  'metrics.serviceMonitor.enabled=true',
  'autoscaling.enabled=true',
  'podDisruptionBudget.enabled=true',
  'networkPolicy.enabled=true',
  'refreshToken.existingSecret=apk-indexer-refresh',
  'credentials.existingSecret=apk-indexer-credentials',
].flatMap((s) => ['--set', s]);

describe.skipIf(!helm)(title, () => {
  const sh = (args: string[]) => execFileSync(helm!, args, { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
  const kinds = (out: string) =>
    parseAllDocuments(out)
      .map((d) => {
        expect(d.errors).toEqual([]);
        return d.toJS();
      })
      .filter(Boolean)
      .map((o) => o.kind)
      .sort();

  it('helm lint --strict passes, with the defaults and with every optional object', () => {
    expect(sh(['lint', '--strict', CHART])).toMatch(/0 chart\(s\) failed/);
    expect(sh(['lint', '--strict', CHART, ...everything])).toMatch(/0 chart\(s\) failed/);
  });

  it('helm template renders the default objects', () => {
    expect(kinds(sh(['template', 'apk-indexer', CHART]))).toEqual([
      'ConfigMap',
      'Deployment',
      'Pod',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('helm template renders every optional object when switched on', () => {
    const out = sh(['template', 'apk-indexer', CHART, ...everything]);
    expect(kinds(out)).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'Pod',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    expect(out).toContain('name: APK_INDEXER_REFRESH_TOKEN');
  });

  it('the values schema stops a refresh token in the ConfigMap', () => {
    expect(() => sh(['template', 'apk-indexer', CHART, '--set', 'config.refreshToken=secret'])).toThrow(
      /refreshToken|additional/i,
    );
  });
});
