import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { ReadyzServer } from '../helpers/readyz.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { loadSettings } from '../../src/config/load.js';
import { DATASOURCE_NAME, DEFAULT_RENOVATE_MAJOR, renderRenovateJson } from '../../src/generate/renovate.js';
import { treeRenovateConfig } from '../../src/generate/renovate-tree.js';
import { filesUnder, IMAGE, read, readJson, readYaml, ROOT } from './helpers.js';

const run = promisify(execFile);
const EXAMPLES = ['gitlab-ci', 'github-actions', 'kubernetes'];
const SERVER = 'http://apk-indexer:3000';
const RENOVATE_IMAGE = `ghcr.io/renovatebot/renovate:${DEFAULT_RENOVATE_MAJOR}`;
const examplesFiles = filesUnder('examples');

describe('every example file parses', () => {
  it('holds the three examples', () => {
    for (const e of EXAMPLES)
      expect(examplesFiles.filter((f) => f.startsWith(`examples/${e}/`)).length, e).toBeGreaterThan(1);
  });

  it.each(examplesFiles.filter((f) => /\.(ya?ml|json)$/.test(f)))('%s', (file) => {
    const text = read(file);
    if (file.endsWith('.json')) {
      expect(() => JSON.parse(text)).not.toThrow();
      return;
    }
    for (const doc of parseAllDocuments(text, { uniqueKeys: true }) as ReturnType<typeof parseAllDocuments> &
      unknown[]) {
      expect(doc.errors.map((e) => e.message)).toEqual([]);
      expect(doc.warnings.map((e) => e.message)).toEqual([]);
    }
  });
});

describe('renovate.json of each example', () => {
  it.each(EXAMPLES)(
    '%s: is what `apk-indexer gen renovate` writes for its tree (regenerate it if this fails)',
    async (example) => {
      // apk-indexer gen renovate --root examples/<example> --renovate-server http://apk-indexer:3000 -o examples/<example>/renovate.json
      // The Kubernetes example manages repositories shaped like the GitLab one (apko/example.yaml).
      const root = join(ROOT, 'examples', example === 'kubernetes' ? 'gitlab-ci' : example);
      const config = await treeRenovateConfig({
        root,
        includePaths: [],
        fallbackArches: ['x86_64', 'aarch64'],
        config: undefined,
        server: SERVER,
        renovateMajor: DEFAULT_RENOVATE_MAJOR,
      });
      expect(read(`examples/${example}/renovate.json`)).toBe(renderRenovateJson(config));
    },
  );

  it.each(EXAMPLES)('%s: has the custom datasource and the regex manager pointing at it', (example) => {
    const config = readJson(`examples/${example}/renovate.json`);
    const datasource = config.customDatasources[DATASOURCE_NAME];
    expect(datasource.defaultRegistryUrlTemplate).toBe(`${SERVER}/{{packageName}}`);
    expect(config.packageRules.flatMap((r: any) => r.registryUrls ?? [])).toEqual([
      `${SERVER}/{{packageName}}?arch=x86_64,aarch64`,
    ]);
    const managers = config.customManagers.filter(
      (m: any) => m.customType === 'regex' && m.datasourceTemplate === `custom.${DATASOURCE_NAME}`,
    );
    expect(managers).toHaveLength(1);
    expect(managers[0].matchStrings.length).toBeGreaterThan(0);
    expect(
      config.packageRules.find((r: any) => r.matchDatasources?.includes(`custom.${DATASOURCE_NAME}`))
        ?.maxMajorIncrement,
    ).toBe(0);
  });

  /** What Renovate's regex manager extracts from a file: its file patterns, then every matchString with the g flag. */
  function extract(config: any, path: string, content: string) {
    const out: { depName: string; currentValue: string }[] = [];
    for (const m of config.customManagers) {
      const patterns: string[] = m.managerFilePatterns ?? m.fileMatch;
      if (!patterns.some((p) => new RegExp(p.replace(/^\/(.*)\/$/, '$1')).test(path))) continue;
      for (const s of m.matchStrings)
        for (const hit of content.matchAll(new RegExp(s, 'g')))
          out.push({ depName: hit.groups!.depName!, currentValue: hit.groups!.currentValue! });
    }
    return out;
  }

  it.each(['gitlab-ci', 'github-actions'])('%s: Renovate finds the pin of apko/example.yaml', (example) => {
    const config = readJson(`examples/${example}/renovate.json`);
    expect(extract(config, 'apko/example.yaml', read(`examples/${example}/apko/example.yaml`))).toEqual([
      { depName: 'nodejs-22', currentValue: '22.8.0-r0' },
    ]);
    expect(readYaml(`examples/${example}/apko/example.yaml`).archs).toEqual(['amd64', 'arm64']);
  });
});

/** The environment apk-indexer gets in an example must be one its configuration loader accepts, with names it reads. */
function checkServiceEnv(env: Record<string, string>) {
  const loaderSources = filesUnder('src/config').map(read).join('\n');
  for (const name of Object.keys(env)) {
    expect(name).toMatch(/^APK_INDEXER_/);
    expect(new RegExp(`\\b${name}\\b`).test(loaderSources), `${name} is read by src/config`).toBe(true);
  }
  const settings = loadSettings([], env);
  if (env.APK_INDEXER_LOG_OUTPUT) expect(settings.logFormat).toBe(env.APK_INDEXER_LOG_OUTPUT);
  expect(settings.repositories.map((r) => [r.url, r.arches, r.keys])).toEqual([
    ['https://packages.wolfi.dev/os', ['x86_64', 'aarch64'], ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub']],
  ]);
}

/** Host rules from RENOVATE_HOST_RULES or a self-hosted config: apk-indexer's host is allowed although internal. */
function checkHostRules(rules: any) {
  expect(rules).toEqual(expect.arrayContaining([{ matchHost: new URL(SERVER).hostname, allowInternal: true }]));
}

describe('the readiness wait of the examples', () => {
  const readyz = new ReadyzServer();
  let url = '';
  beforeAll(async () => {
    url = (await readyz.start()).url;
  });
  afterAll(() => readyz.close());

  const gitlab = readYaml('examples/gitlab-ci/.gitlab-ci.yml').renovate.before_script[0] as string;
  const github = readYaml('examples/github-actions/.github/workflows/renovate.yml').jobs.renovate.steps[0]
    .run as string;
  const kubernetes = parseAllDocuments(read('examples/kubernetes/renovate-cronjob.yaml'))
    .map((d) => d.toJS())
    .find((d) => d.kind === 'CronJob').spec.jobTemplate.spec.template.spec.initContainers[0].command as string[];
  const scripts: Array<[string, (local: string) => Promise<unknown>]> = [
    [
      'GitLab CI before_script',
      (local) => run('sh', ['-c', gitlab.replace(`${SERVER}/readyz`, local)], { timeout: 20_000 }),
    ],
    [
      'GitHub Actions step',
      (local) => run('sh', ['-c', github.replace(`${SERVER}/readyz`, local)], { timeout: 20_000 }),
    ],
    [
      'Kubernetes init container',
      (local) =>
        run(process.execPath, [...kubernetes.slice(1, -1), kubernetes.at(-1)!.replace(`${SERVER}/readyz`, local)], {
          timeout: 20_000,
        }),
    ],
  ];

  it('is the same loop, asking apk-indexer for /readyz, in each', () => {
    expect(kubernetes[0]).toBe('node');
    expect(
      parseAllDocuments(read('examples/kubernetes/renovate-cronjob.yaml'))
        .map((d) => d.toJS())
        .find((d) => d.kind === 'CronJob').spec.jobTemplate.spec.template.spec.initContainers[0].image,
    ).toBe(IMAGE);
    for (const s of [gitlab, github, kubernetes.join(' ')]) expect(s).toContain(`"${SERVER}/readyz"`);
  });

  it.each(scripts)('%s: returns once /readyz answers 200', async (_where, wait) => {
    readyz.notReadyFor = 1;
    await expect(wait(`${url}/readyz`)).resolves.toBeDefined();
    expect(readyz.notReadyFor).toBe(0);
  });

  it('gives up with an error when it never does', async () => {
    readyz.notReadyFor = Number.MAX_SAFE_INTEGER;
    const impatient = gitlab.replace(`${SERVER}/readyz`, `${url}/readyz`).replace('300_000', '500');
    await expect(run('sh', ['-c', impatient], { timeout: 20_000 })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not ready'),
    });
    readyz.notReadyFor = 0;
  });
});

describe('examples/gitlab-ci/.gitlab-ci.yml', () => {
  const job = readYaml('examples/gitlab-ci/.gitlab-ci.yml').renovate;

  it('runs Renovate on a schedule with apk-indexer as a service aliased apk-indexer', () => {
    expect(job.image).toBe(RENOVATE_IMAGE);
    expect(job.script).toEqual(['renovate']);
    expect(job.rules).toContainEqual({ if: '$CI_PIPELINE_SOURCE == "schedule"' });
    expect(job.services).toHaveLength(1);
    expect(job.services[0].name).toBe(IMAGE);
    expect(job.services[0].alias).toBe(new URL(SERVER).hostname);
  });

  it('configures the service with variables apk-indexer reads', () => checkServiceEnv(job.services[0].variables));

  it('points Renovate at this GitLab project and allows the internal datasource host', () => {
    expect(job.variables).toMatchObject({
      RENOVATE_PLATFORM: 'gitlab',
      RENOVATE_ENDPOINT: '$CI_API_V4_URL',
      RENOVATE_REPOSITORIES: '$CI_PROJECT_PATH',
    });
    expect(job.variables.RENOVATE_TOKEN, 'a masked CI/CD variable, never in the file').toBeUndefined();
    checkHostRules(JSON.parse(job.variables.RENOVATE_HOST_RULES));
  });
});

describe('examples/github-actions/.github/workflows/renovate.yml', () => {
  const workflow = readYaml('examples/github-actions/.github/workflows/renovate.yml');
  const job = workflow.jobs.renovate;

  it('runs on a schedule and by hand, with read-only default permissions', () => {
    expect(workflow.on.schedule[0].cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('runs Renovate in its image, with apk-indexer as a service container reachable by name', () => {
    expect(job.container.image).toBe(RENOVATE_IMAGE);
    expect(Object.keys(job.services)).toEqual([new URL(SERVER).hostname]);
    expect(job.services['apk-indexer'].image).toBe(IMAGE);
    const renovate = job.steps.at(-1);
    expect(renovate.run).toBe('renovate');
    expect(renovate.env).toMatchObject({
      RENOVATE_PLATFORM: 'github',
      RENOVATE_TOKEN: '${{ secrets.RENOVATE_TOKEN }}',
      RENOVATE_REPOSITORIES: '${{ github.repository }}',
    });
    checkHostRules(JSON.parse(renovate.env.RENOVATE_HOST_RULES));
  });

  it('configures the service with variables apk-indexer reads', () => checkServiceEnv(job.services['apk-indexer'].env));
});

describe('examples/kubernetes', () => {
  const docs = parseAllDocuments(read('examples/kubernetes/renovate-cronjob.yaml')).map((d) => d.toJS());
  const configMap = docs.find((d) => d.kind === 'ConfigMap');
  const cronJob = docs.find((d) => d.kind === 'CronJob');
  const pod = cronJob.spec.jobTemplate.spec.template;
  const container = pod.spec.containers[0];
  const chartValues = readYaml('helm/apk-indexer/values.yaml');
  const exampleValues = readYaml('examples/kubernetes/apk-indexer-values.yaml');

  it('a CronJob runs Renovate with its self-hosted config from the ConfigMap and its token from a Secret', () => {
    expect(cronJob.apiVersion).toBe('batch/v1');
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
    expect(container.image).toBe(RENOVATE_IMAGE);
    const file = container.env.find((e: any) => e.name === 'RENOVATE_CONFIG_FILE').value;
    const mount = container.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
    expect(pod.spec.volumes.find((v: any) => v.name === mount.name).configMap.name).toBe(configMap.metadata.name);
    const config = JSON.parse(configMap.data[file.slice(mount.mountPath.length + 1)]);
    expect(config).toHaveProperty('platform');
    checkHostRules(config.hostRules);
    expect(container.envFrom[0].secretRef.name).toBeTruthy();
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('its pods carry the label the chart’s NetworkPolicy admits', () => {
    expect(exampleValues.networkPolicy.enabled).toBe(true);
    expect(exampleValues.networkPolicy.from).toContainEqual({ podSelector: { matchLabels: pod.metadata.labels } });
  });

  it('renovate.json asks the Service of a release named apk-indexer, on the chart’s port', () => {
    // _helpers.tpl: a release name that contains the chart name is the full name, hence the Service's name.
    expect(read('helm/apk-indexer/templates/_helpers.tpl')).toMatch(
      /if contains \$name \.Release\.Name \}\}\n\{\{- \.Release\.Name/,
    );
    expect(read('examples/kubernetes/apk-indexer-values.yaml')).toContain(
      'helm install apk-indexer ./helm/apk-indexer',
    );
    expect(new URL(SERVER).port).toBe(String(chartValues.service.port));
  });

  it('the chart values of the example validate against the chart schema and give the service a valid configuration', () => {
    // Helm merges the given values over the chart's: maps deeply, lists replaced.
    const merge = (base: any, over: any): any =>
      over &&
      typeof over === 'object' &&
      !Array.isArray(over) &&
      base &&
      typeof base === 'object' &&
      !Array.isArray(base)
        ? Object.fromEntries(
            [...new Set([...Object.keys(base), ...Object.keys(over)])].map((k) => [
              k,
              k in over ? merge(base[k], over[k]) : base[k],
            ]),
          )
        : over === undefined
          ? base
          : over;
    const values = merge(chartValues, exampleValues);
    const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(
      readJson('helm/apk-indexer/values.schema.json'),
    );
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'apk-indexer-k8s-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(
        file,
        stringify({ listen: { host: '0.0.0.0', port: 3000 }, ...values.config, repositories: values.repositories }),
      );
      expect(loadSettings(['--config', file], {}).updateIntervalMs).toBe(2 * 3_600_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('one image name everywhere', () => {
  it('examples, chart and docs deploy the same apk-indexer image and tag', () => {
    const files = [
      ...examplesFiles,
      'helm/apk-indexer/README.md',
      'helm/apk-indexer/values.yaml',
      'docs/deploy.md',
      'README.md',
    ];
    const refs = files.flatMap((f) =>
      [...read(f).matchAll(/ghcr\.io\/apk-indexer\/apk-indexer(:[\w.-]+)?/g)].map((m) => ({ f, ref: m[0] })),
    );
    expect(refs.length).toBeGreaterThan(5);
    for (const { f, ref } of refs) expect([IMAGE, IMAGE.split(':')[0]], f).toContain(ref);
    expect(readYaml('helm/apk-indexer/Chart.yaml').appVersion).toBe(IMAGE.split(':')[1]);
  });
});
