import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { isMap, parseAllDocuments, parseDocument, stringify, type Node as YamlNode } from 'yaml';
import { loadSettings } from '../../src/config/load.js';
import { APK_ARCHES } from '../../src/source/locations.js';
import { choices, definesAndIncludes, parse, render, valuesPaths, type Choice, type Shape } from './gotemplate.js';
import { at, filesUnder, IMAGE_REPOSITORY, read, readJson, readYaml, ROOT, VERSION } from './helpers.js';

const CHART = 'helm/apk-indexer';
const values = readYaml<Record<string, any>>(`${CHART}/values.yaml`);
const schema = readJson(`${CHART}/values.schema.json`);
const templateFiles = filesUnder(`${CHART}/templates`);
const manifestFiles = templateFiles.filter((f) => f.endsWith('.yaml'));
const source = (f: string) => read(f);

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateValues = ajv.compile(schema);
const clone = <T>(v: T): T => structuredClone(v);

describe('Chart.yaml', () => {
  const chart = readYaml(`${CHART}/Chart.yaml`);

  it('is a v2 application chart named after its folder', () => {
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('apk-indexer');
    expect(chart.type).toBe('application');
    expect(chart.description).toMatch(/\w/);
    expect(chart.kubeVersion).toMatch(/^>=1\.\d+/);
  });

  it('has a SemVer 2 version and deploys the release of package.json', () => {
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
    expect(typeof chart.appVersion, 'appVersion is quoted: 0.10 would be the number 0.1').toBe('string');
    expect(chart.appVersion).toBe(VERSION);
  });

  it('ships a .helmignore and a README', () => {
    expect(source(`${CHART}/.helmignore`)).toContain('.git/');
    expect(source(`${CHART}/README.md`)).toContain('helm install');
  });
});

describe('values.yaml and values.schema.json', () => {
  it('values.yaml validates against the schema', () => {
    const ok = validateValues(values);
    expect(validateValues.errors ?? [], ajv.errorsText(validateValues.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  const accepted: Array<[string, (v: any) => void]> = [
    ['a global block (set by Helm for subcharts)', (v) => (v.global = { imageRegistry: 'x' })],
    [
      'basic auth and a per-repository interval',
      (v) =>
        v.repositories.push({
          name: 'own',
          url: 'https://apk.example.com/os',
          auth: { usernameEnv: 'APK_USER', passwordEnv: 'APK_PASSWORD' },
          updateInterval: '15m',
        }),
    ],
    [
      'a bare index URL without arches',
      (v) => (v.repositories = [{ url: 'https://apk.example.com/x86_64/APKINDEX.tar.gz' }]),
    ],
    [
      'limits and a number of hours',
      (v) => Object.assign(v.config, { updateInterval: 6, limits: { maxEntries: 100, maxLineBytes: 4096 } }),
    ],
    [
      'an inline key with an @ in its name',
      (v) =>
        (v.keys = {
          'alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub':
            '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n',
        }),
    ],
    ['an image digest', (v) => (v.image.digest = `sha256:${'a'.repeat(64)}`)],
    ['a percentage maxUnavailable', (v) => (v.podDisruptionBudget.maxUnavailable = '50%')],
  ];
  it("allows exactly the service's APK arch names", () => {
    expect(at(schema, ['properties', 'repositories', 'items', 'properties', 'arches', 'items', 'enum'])).toEqual([
      ...APK_ARCHES,
    ]);
  });

  it.each(accepted)('accepts %s', (_what, change) => {
    const v = clone(values);
    change(v);
    expect(validateValues(v), ajv.errorsText(validateValues.errors)).toBe(true);
  });

  const rejected: Array<[string, (v: any) => void]> = [
    ['a refresh token in the ConfigMap', (v) => (v.config.refreshToken = 'secret')],
    ['listen in config (the port is fixed)', (v) => (v.config.listen = { port: 8080 })],
    ['an unknown repository key', (v) => (v.repositories[0].token = 'x')],
    ['a repository without url', (v) => delete v.repositories[0].url],
    ['no repositories', (v) => (v.repositories = [])],
    [
      'both kinds of auth at once',
      (v) => (v.repositories[0].auth = { bearerTokenEnv: 'A', usernameEnv: 'B', passwordEnv: 'C' }),
    ],
    ['an auth variable that is not a name', (v) => (v.repositories[0].auth = { bearerTokenEnv: 'my token' })],
    ['a repository name with a comma', (v) => (v.repositories[0].name = 'a,b')],
    ['apko arch names', (v) => (v.repositories[0].arches = ['arm/v7'])],
    ["apko's amd64, which the service refuses", (v) => (v.repositories[0].arches = ['amd64'])],
    ['a duration the service cannot read', (v) => (v.config.updateInterval = 'soon')],
    ['a log level the service does not know', (v) => (v.config.logLevel = 'verbose')],
    ['an unknown limit', (v) => (v.config.limits = { maxFiles: 3 })],
    ['port 0', (v) => (v.service.port = 0)],
    ['a digest that is a tag', (v) => (v.image.digest = 'latest')],
    ['a misspelt top-level key', (v) => (v.replicas = 2)],
    ['a key file name with a slash', (v) => (v.keys = { 'a/b.rsa.pub': '-----BEGIN PUBLIC KEY-----' })],
    ['a key that is not PEM', (v) => (v.keys = { 'a.rsa.pub': 'https://example.com/a.rsa.pub' })],
  ];
  it.each(rejected)('rejects %s', (_what, change) => {
    const v = clone(values);
    change(v);
    expect(validateValues(v)).toBe(false);
  });
});

/** The documented (`# --`, the helm-docs convention) paths of values.yaml, and all its leaf paths. */
function valuesDocs(): { documented: string[]; leaves: string[] } {
  const doc = parseDocument(source(`${CHART}/values.yaml`));
  const documented: string[] = [];
  const leaves: string[] = [];
  const walk = (node: YamlNode | null, path: string[]) => {
    if (!isMap(node)) return;
    node.items.forEach((pair, i) => {
      const key = String((pair.key as { value: unknown }).value);
      const p = [...path, key];
      const comment = (pair.key as YamlNode).commentBefore ?? (i === 0 ? node.commentBefore : undefined) ?? '';
      if (comment.split('\n').some((l) => /^ ?-- /.test(l))) documented.push(p.join('.'));
      if (isMap(pair.value) && pair.value.items.length > 0) walk(pair.value as YamlNode, p);
      else leaves.push(p.join('.'));
    });
  };
  walk(doc.contents as YamlNode, []);
  return { documented, leaves };
}

describe('values used by the templates', () => {
  const used = templateFiles.flatMap((f) => valuesPaths(source(f)).map((u) => ({ ...u, file: f })));

  it('finds the .Values paths of the templates', () => {
    expect(used.length).toBeGreaterThan(40);
    expect(used.map((u) => u.path.join('.'))).toContain('metrics.serviceMonitor.enabled');
  });

  it('every .Values path a template uses exists in values.yaml', () => {
    const missing = used.filter((u) => {
      let cur: any = values;
      for (const key of u.path) {
        if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, key)) return true;
        cur = cur[key];
      }
      return false;
    });
    expect(missing.map((m) => `${m.file}:${m.line} .Values.${m.path.join('.')}`)).toEqual([]);
  });

  it('every top-level value is used by a template', () => {
    const top = new Set(used.map((u) => u.path[0]));
    expect(Object.keys(values).filter((k) => !top.has(k))).toEqual([]);
  });

  it('every value is documented (# --) and in the README table, and the table has no other rows', () => {
    const { documented, leaves } = valuesDocs();
    const undocumented = leaves.filter((leaf) => !documented.some((d) => leaf === d || leaf.startsWith(`${d}.`)));
    expect(undocumented).toEqual([]);
    const readme = source(`${CHART}/README.md`);
    const rows = [...readme.matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1]!);
    expect(rows.length).toBeGreaterThan(20);
    expect([...rows].sort()).toEqual([...documented].sort());
  });

  it('every template included is defined', () => {
    const all = templateFiles.map((f) => definesAndIncludes(parse(source(f))));
    const defines = all.flatMap((a) => a.defines);
    const includes = new Set(all.flatMap((a) => a.includes));
    expect(defines).toContain('apk-indexer.fullname');
    expect([...includes].filter((name) => !defines.includes(name))).toEqual([]);
  });
});

/** The shape of a value in values.yaml: a list, a map, or neither. */
const shapeOf = (path: string[]): Shape => {
  const v = at(values, path);
  return Array.isArray(v) ? 'sequence' : v !== null && typeof v === 'object' ? 'mapping' : undefined;
};

/** The manifests of a template for one choice of branches (default: the first of each), values as placeholders. */
function manifests(file: string, choose: (nodes: ReturnType<typeof parse>) => Choice = () => new Map()) {
  const nodes = parse(source(file));
  const text = render(nodes, choose(nodes), shapeOf);
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  return { text, docs: Array.isArray(docs) ? docs : [docs] };
}

describe('the templates are well-formed YAML once actions are placeholders', () => {
  it('covers every manifest template', () => {
    expect(manifestFiles.map((f) => f.slice(`${CHART}/templates/`.length))).toEqual([
      'configmap.yaml',
      'deployment.yaml',
      'hpa.yaml',
      'networkpolicy.yaml',
      'pdb.yaml',
      'service.yaml',
      'serviceaccount.yaml',
      'servicemonitor.yaml',
      'tests/test-connection.yaml',
    ]);
  });

  const kinds = new Set<string>();
  const cases = manifestFiles.flatMap((f) => choices(parse(source(f))).map((c, i) => [f, c.label, i] as const));
  it.each(cases)('%s, %s', (file, _label, i) => {
    const { text, docs } = manifests(file, (nodes) => choices(nodes)[i]!.choice);
    for (const doc of docs) {
      expect(
        doc.errors.map((e) => e.message),
        text,
      ).toEqual([]);
      expect(
        doc.warnings.map((e) => e.message),
        text,
      ).toEqual([]);
      const obj = doc.toJS();
      if (obj === null) continue;
      expect(typeof obj.apiVersion).toBe('string');
      expect(typeof obj.kind).toBe('string');
      expect(obj.metadata?.name, `${file}: metadata.name`).toBeTruthy();
      expect(obj.metadata?.labels, `${file}: the conventional labels`).toBeTruthy();
      kinds.add(obj.kind);
    }
  });

  it('renders every kind of object the chart offers', () => {
    expect([...kinds].sort()).toEqual([
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
  });

  it('the helpers give the conventional app.kubernetes.io labels', () => {
    const helpers = source(`${CHART}/templates/_helpers.tpl`);
    for (const label of [
      'app.kubernetes.io/name',
      'app.kubernetes.io/instance',
      'app.kubernetes.io/version',
      'app.kubernetes.io/managed-by',
      'helm.sh/chart',
    ]) {
      expect(helpers).toContain(`${label}:`);
    }
  });
});

describe('the Deployment', () => {
  const deployment = manifests(`${CHART}/templates/deployment.yaml`).docs[0]!.toJS();
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const template = source(`${CHART}/templates/deployment.yaml`);

  it('selects its pods by the selector labels and rolls them when the configuration changes', () => {
    expect(template).toMatch(/matchLabels:\n\s+\{\{- include "apk-indexer.selectorLabels" \. \| nindent 6 \}\}/);
    expect(Object.keys(deployment.spec.template.metadata.annotations)).toContain('checksum/config');
    expect(template).toContain('include (print $.Template.BasePath "/configmap.yaml") . | sha256sum');
  });

  it('listens on 3000 as port http and on 3001 as port management, which the probes use; the Service has both', () => {
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 3000, protocol: 'TCP' },
      { name: 'management', containerPort: 3001, protocol: 'TCP' },
    ]);
    const service = manifests(`${CHART}/templates/service.yaml`).docs[0]!.toJS();
    expect(service.spec.ports.map((p: any) => [p.name, p.targetPort])).toEqual([
      ['http', 'http'],
      ['management', 'management'],
    ]);
    expect([values.service.port, values.service.managementPort]).toEqual([3000, 3001]);
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
      expect(values[probe].httpGet.port).toBe('management');
  });

  it('probes /livez for liveness and /readyz for readiness, with a startup probe long enough for a first Wolfi load', () => {
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
      expect(template).toContain(`toYaml .Values.${probe} | nindent 12`);
    expect(values.livenessProbe.httpGet.path).toBe('/livez');
    expect(values.readinessProbe.httpGet.path).toBe('/readyz');
    expect(values.startupProbe.httpGet.path).toBe('/readyz');
    expect(values.startupProbe.periodSeconds * values.startupProbe.failureThreshold).toBeGreaterThanOrEqual(300);
  });

  it('runs as non-root with a read-only root filesystem, no capabilities and RuntimeDefault seccomp', () => {
    expect(template).toContain('toYaml .Values.podSecurityContext | nindent 8');
    expect(template).toContain('toYaml .Values.securityContext | nindent 12');
    expect(values.podSecurityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(values.podSecurityContext.runAsUser).toBeGreaterThan(0);
    expect(values.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(values.resources.limits.memory).toBeTruthy();
    expect(values.resources.requests.memory).toBeTruthy();
  });

  it('mounts the ConfigMap where APK_INDEXER_CONFIG points, and an emptyDir at /tmp', () => {
    const env = container.env.find((e: any) => e.name === 'APK_INDEXER_CONFIG');
    const mount = container.volumeMounts.find((m: any) => m.name === 'config');
    expect(env.value).toBe(`${mount.mountPath}/config.yaml`);
    expect(pod.volumes.find((v: any) => v.name === 'config').configMap).toBeTruthy();
    expect(container.volumeMounts.find((m: any) => m.name === 'tmp').mountPath).toBe('/tmp');
    expect(pod.volumes.find((v: any) => v.name === 'tmp').emptyDir).toBeTruthy();
  });

  it('takes the refresh token and the repository credentials from Secrets', () => {
    const token = container.env.find((e: any) => e.name === 'APK_INDEXER_REFRESH_TOKEN');
    expect(Object.keys(token.valueFrom.secretKeyRef).sort()).toEqual(['key', 'name']);
    expect(template).toContain('name: {{ .Values.refreshToken.existingSecret }}');
    expect(container.envFrom[0].secretRef).toBeTruthy();
    expect(template).toContain('{{- with .Values.credentials.existingSecret }}');
  });

  it('leaves the image its entrypoint and command', () => {
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
    expect(values.image.repository).toBe(IMAGE_REPOSITORY);
    expect(values.image.tag, 'empty: the appVersion').toBe('');
  });
});

describe('the ConfigMap holds a configuration the service accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apk-indexer-chart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // configmap.yaml's config.yaml: listen, then toYaml of .Values.config, then toYaml of .Values.repositories.
  const serviceConfig = (v: Record<string, any>) =>
    stringify({
      listen: { host: '0.0.0.0', port: 3000, managementPort: 3001 },
      ...v.config,
      repositories: v.repositories,
    });

  it('the template writes listen, the config block and the repositories, in that shape', () => {
    const cm = manifests(`${CHART}/templates/configmap.yaml`).docs[0]!.toJS();
    const inner = parseDocument(cm.data['config.yaml'], { uniqueKeys: true });
    expect(inner.errors).toEqual([]);
    const keys = Object.keys(inner.toJS());
    expect(keys[0]).toBe('listen');
    expect(keys[1]).toMatch(/^__ph\d+__$/);
    expect(keys[2]).toBe('repositories');
    expect(inner.toJS().listen).toEqual({ host: '0.0.0.0', port: 3000, managementPort: 3001 });
    const template = source(`${CHART}/templates/configmap.yaml`);
    expect(template).toMatch(/\{\{- with \.Values\.config \}\}\n\s+\{\{- toYaml \. \| nindent 4 \}\}/);
    expect(template).toContain('{{- toYaml .Values.repositories | nindent 6 }}');
  });

  const cases: Array<[string, (v: any) => void, NodeJS.ProcessEnv]> = [
    ['the default values', () => {}, {}],
    [
      'a private repository with credentials and an inline key',
      (v) => {
        v.repositories.push({
          name: 'chainguard',
          url: 'https://apk.cgr.dev/chainguard',
          arches: ['x86_64'],
          keys: ['/etc/apk-indexer/keys/chainguard.rsa.pub'],
          auth: { bearerTokenEnv: 'CHAINGUARD_TOKEN' },
          updateInterval: '15m',
        });
        v.config.limits = { maxEntries: 500000 };
        v.config.logFormat = 'text';
      },
      { CHAINGUARD_TOKEN: 'token-from-the-secret' },
    ],
  ];
  it.each(cases)('%s', (name, change, env) => {
    const v = clone(values);
    change(v);
    expect(validateValues(v), ajv.errorsText(validateValues.errors)).toBe(true);
    const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, serviceConfig(v));
    const settings = loadSettings(['--config', file], env);
    expect(settings.port).toBe(3000);
    expect(settings.managementPort).toBe(3001);
    expect(settings.host).toBe('0.0.0.0');
    expect(settings.repositories.map((r) => r.url)).toEqual(v.repositories.map((r: any) => r.url));
    expect(settings.logFormat).toBe(v.config.logFormat);
  });

  it('every config key the schema allows is one the service reads', () => {
    const samples: Record<string, unknown> = {
      updateInterval: '2h',
      firstLoadTimeout: '45s',
      requestTimeout: '30s',
      refreshTimeout: '5m',
      logLevel: 'debug',
      logFormat: 'text',
      limits: { maxLineBytes: 2048 },
    };
    expect(Object.keys(schema.properties.config.properties).sort()).toEqual(Object.keys(samples).sort());
    const file = join(dir, 'all-keys.yaml');
    writeFileSync(file, serviceConfig({ config: samples, repositories: values.repositories }));
    const s = loadSettings(['--config', file], {});
    expect([
      s.updateIntervalMs,
      s.firstLoadTimeoutMs,
      s.requestTimeoutMs,
      s.refreshTimeoutMs,
      s.logLevel,
      s.limits.maxLineBytes,
    ]).toEqual([7_200_000, 45_000, 30_000, 300_000, 'debug', 2048]);
  });
});

describe('the optional objects', () => {
  const doc = (file: string) => manifests(`${CHART}/templates/${file}`).docs[0]!.toJS();
  const gate = (file: string) => source(`${CHART}/templates/${file}`).split('\n')[0];

  it('are off by default and each behind its own switch', () => {
    expect(gate('servicemonitor.yaml')).toBe('{{- if .Values.metrics.serviceMonitor.enabled }}');
    expect(gate('hpa.yaml')).toBe('{{- if .Values.autoscaling.enabled }}');
    expect(gate('pdb.yaml')).toBe('{{- if .Values.podDisruptionBudget.enabled }}');
    expect(gate('networkpolicy.yaml')).toBe('{{- if .Values.networkPolicy.enabled }}');
    expect([
      values.metrics.serviceMonitor.enabled,
      values.autoscaling.enabled,
      values.podDisruptionBudget.enabled,
      values.networkPolicy.enabled,
    ]).toEqual([false, false, false, false]);
    // With autoscaling the HPA owns the replica count.
    expect(source(`${CHART}/templates/deployment.yaml`)).toMatch(
      /\{\{- if not \.Values\.autoscaling\.enabled \}\}\n\s+replicas:/,
    );
  });

  it('the ServiceMonitor scrapes /metrics on port management', () => {
    expect(doc('servicemonitor.yaml').spec.endpoints[0]).toMatchObject({ port: 'management', path: '/metrics' });
  });

  it('the HPA scales the Deployment on CPU with autoscaling/v2', () => {
    const hpa = doc('hpa.yaml');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
  });

  it('the PDB is policy/v1 with either minAvailable or maxUnavailable', () => {
    expect(doc('pdb.yaml').apiVersion).toBe('policy/v1');
    expect(Object.keys(doc('pdb.yaml').spec)).toContain('maxUnavailable');
    // The else of the inner if, the outer one (enabled) taken.
    const specs = choices(parse(source(`${CHART}/templates/pdb.yaml`)))
      .map(
        (_, i) => manifests(`${CHART}/templates/pdb.yaml`, (nodes) => choices(nodes)[i]!.choice).docs[0]?.toJS()?.spec,
      )
      .filter(Boolean);
    expect(specs.map((s) => Object.keys(s).sort())).toEqual([
      ['maxUnavailable', 'selector'],
      ['minAvailable', 'selector'],
    ]);
  });

  it('the NetworkPolicy admits ingress to ports http and management only', () => {
    const np = doc('networkpolicy.yaml');
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress[0].ports).toEqual([
      { port: 'http', protocol: 'TCP' },
      { port: 'management', protocol: 'TCP' },
    ]);
  });

  it('the helm test pod asks the Service for /readyz, and is no pod of the Deployment or the Service', () => {
    const pod = doc('tests/test-connection.yaml');
    expect(pod.metadata.annotations['helm.sh/hook']).toBe('test');
    expect(pod.spec.containers[0].command.at(-1)).toMatch(/^http:\/\/__ph\d+__:__ph\d+__\/readyz$/);
    // Its labels are its own: with the selector labels, the ReplicaSet would adopt it and the Service route to it.
    const template = source(`${CHART}/templates/tests/test-connection.yaml`);
    expect(template).not.toMatch(/include "apk-indexer\.(selectorLabels|labels)"/);
    expect(template).toContain('app.kubernetes.io/name: {{ include "apk-indexer.name" . }}-test');
    // The NetworkPolicy lets it in when it restricts who may connect.
    expect(source(`${CHART}/templates/networkpolicy.yaml`)).toContain(
      'app.kubernetes.io/name: {{ include "apk-indexer.name" $ }}-test',
    );
  });
});

describe('NOTES.txt', () => {
  const notes = source(`${CHART}/templates/NOTES.txt`);
  it('parses as a template and tells how to reach the service', () => {
    expect(() => parse(notes)).not.toThrow();
    expect(notes).toContain('port-forward');
    // The Renovate template is written literally, not evaluated by Helm.
    expect(notes).toContain('{{ "{{packageName}}" }}');
  });
});

describe('the chart folder', () => {
  it('holds the conventional files', () => {
    expect(readdirSync(join(ROOT, CHART)).sort()).toEqual([
      '.helmignore',
      'Chart.yaml',
      'README.md',
      'templates',
      'values.schema.json',
      'values.yaml',
    ]);
    expect(at(readYaml(`${CHART}/Chart.yaml`), ['dependencies'])).toBeUndefined();
  });
});
