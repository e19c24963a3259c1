import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { DEFAULTS } from '../src/config/settings.js';
import { buildIndexArchive, generateFixtureKey, type FixtureKey } from '../test/fixtures/apk-repo.js';
import { buildService, type Service } from '../src/serve/app.js';

/**
 * Load while refreshing: autocannon against the service on 127.0.0.1 while the upstream index changes every
 * `publishEveryMs` and the service refreshes every `refreshEveryMs`. The index is built so that a torn read shows:
 * at generation g every package `gen-<i>` has exactly one version, `<g>.<i>-r0`, so every answer names a single
 * generation, a wildcard answer over all packages must name one generation in every line, an ETag must be the
 * digest of the body it came with, and on one connection the generation never goes back.
 */
export interface LoadRefreshOptions {
  seconds: number;
  connections: number;
  /** Packages per generation. */
  packages?: number;
  publishEveryMs?: number;
  refreshEveryMs?: number;
  /** Run the service in a child process (the benchmark; needs the built dist/) or in this one (the test). */
  child?: boolean;
}

export interface LoadRefreshFigures {
  seconds: number;
  connections: number;
  packages: number;
  requests: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Answers inspected (every response). */
  checked: number;
  /** Answers naming more than one generation, or whose ETag is not the digest of their body, or malformed. */
  mixed: number;
  /** Answers older than one already seen on the same connection. */
  wentBack: number;
  /** Examples of bad answers, for the report. */
  samples: string[];
  /** Generations published by the upstream during the run. */
  published: number;
  /** The service's generation at the start and end (one swap per changed index). */
  generations: { first: number; last: number };
  /** Distinct generations seen in answers. */
  seenGenerations: number;
}

const KEY_PATH = '/os/load-refresh.rsa.pub';
const INDEX_PATH = '/os/x86_64/APKINDEX.tar.gz';

export function generationArchive(g: number, packages: number, key: FixtureKey): Buffer {
  return buildIndexArchive({
    packages: Array.from({ length: packages }, (_, i) => ({
      name: `gen-${i}`,
      version: `${g}.${i}-r0`,
      arch: 'x86_64',
      buildTime: 1_700_000_000 + g,
    })),
    description: `generation ${g}`,
    sign: [{ key }],
  });
}

/** A repository on 127.0.0.1 whose index is replaced in memory (atomically) on `publish`; ETag and 304 as usual. */
class ChangingUpstream {
  generation = 1;
  url = '';
  fetches = 0;
  private index: Buffer;
  private etag: string;
  private readonly server: Server;

  constructor(
    private readonly key: FixtureKey,
    private readonly packages: number,
  ) {
    this.index = generationArchive(1, packages, key);
    this.etag = digest(this.index);
    this.server = createServer((req, res) => {
      if (req.url === KEY_PATH) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(key.publicPem);
      if (req.url !== INDEX_PATH) return void res.writeHead(404).end();
      this.fetches++;
      if (req.headers['if-none-match'] === this.etag) return void res.writeHead(304, { etag: this.etag }).end();
      res
        .writeHead(200, {
          etag: this.etag,
          'content-length': this.index.length,
          'content-type': 'application/octet-stream',
        })
        .end(this.index);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  publish(): void {
    const next = generationArchive(this.generation + 1, this.packages, this.key);
    this.generation++;
    this.index = next;
    this.etag = digest(next);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

function digest(body: Buffer | string): string {
  return `"${createHash('sha1').update(body).digest('hex')}"`;
}

export function serviceFor(upstreamUrl: string, keyName: string, refreshEveryMs: number): Service {
  return buildService(
    {
      ...DEFAULTS,
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      updateIntervalMs: refreshEveryMs,
      repositories: [
        { name: 'os', url: `${upstreamUrl}/os`, arches: ['x86_64'], keys: [`${upstreamUrl}/os/${keyName}`] },
      ],
    },
    { logger: false, retryBaseMs: 200 },
  );
}

/** Starts the service (here or in a child process); resolves with its base URL and a way to stop it. */
async function startService(
  upstreamUrl: string,
  keyName: string,
  refreshEveryMs: number,
  child: boolean,
): Promise<{ url: string; stop: () => Promise<void> }> {
  if (!child) {
    const { app, store } = serviceFor(upstreamUrl, keyName, refreshEveryMs);
    store.start();
    if (!(await store.whenReady(10_000))) throw new Error(`not ready: ${JSON.stringify(store.status())}`);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, stop: () => app.close() };
  }
  const proc = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--serve', upstreamUrl, keyName, String(refreshEveryMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.split('\n')[0]));
    });
    proc.on('exit', (code) => reject(new Error(`load-refresh server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

interface Check {
  checked: number;
  mixed: number;
  wentBack: number;
  samples: string[];
  seen: Set<number>;
}

/** The generations an answer names; `undefined` when it is not an answer of this fixture at all. */
function generationsOf(path: string, body: string, packages: number): number[] | undefined {
  const versions: string[] = [];
  if (path.endsWith('?format=plain') || path.endsWith('/latest')) versions.push(...body.trimEnd().split('\n'));
  else {
    const json = JSON.parse(body) as { releases: Array<{ version: string }>; tags?: { latest?: string } };
    versions.push(...json.releases.map((r) => r.version));
    if (json.tags?.latest) versions.push(json.tags.latest);
  }
  const wildcard = path.startsWith('/wildcardVersion/');
  const wanted = wildcard ? undefined : Number(/gen-(\d+)/.exec(path)?.[1]);
  const gens: number[] = [];
  const indexes = new Set<number>();
  for (const v of versions) {
    const m = /^(\d+)\.(\d+)-r0$/.exec(v);
    if (!m) return undefined;
    gens.push(Number(m[1]));
    indexes.add(Number(m[2]));
    if (wanted !== undefined && Number(m[2]) !== wanted) return undefined;
  }
  // A wildcard answer lists every package: one version each, all present.
  if (wildcard && indexes.size !== packages) return undefined;
  return gens;
}

function inspect(
  check: Check,
  path: string,
  status: number,
  body: string,
  etag: string | undefined,
  context: { last?: number },
  packages: number,
): void {
  check.checked++;
  if (status !== 200) return; // counted as non-2xx by autocannon
  const bad = (why: string) => {
    check.mixed++;
    if (check.samples.length < 5) check.samples.push(`${why}: ${path} ${body.slice(0, 200)}`);
  };
  let gens: number[] | undefined;
  try {
    gens = generationsOf(path, body, packages);
  } catch {
    gens = undefined;
  }
  if (!gens || gens.length === 0) return bad('not an answer of the fixture');
  const first = gens[0]!;
  if (gens.some((g) => g !== first)) return bad(`generations ${[...new Set(gens)].join(',')} in one answer`);
  if (etag !== `"${createHash('sha1').update(body).digest('base64url')}"`)
    return bad(`ETag ${etag} is not the digest of the body`);
  check.seen.add(first);
  if (context.last !== undefined && first < context.last) {
    check.wentBack++;
    if (check.samples.length < 5)
      check.samples.push(`generation ${first} after ${context.last} on one connection: ${path}`);
  }
  context.last = Math.max(first, context.last ?? first);
}

export async function measureLoadRefresh(options: LoadRefreshOptions): Promise<LoadRefreshFigures> {
  const packages = options.packages ?? 500;
  const publishEveryMs = options.publishEveryMs ?? 1_000;
  const refreshEveryMs = options.refreshEveryMs ?? 1_000;
  const key = generateFixtureKey('load-refresh.rsa.pub');
  const upstream = await new ChangingUpstream(key, packages).start();
  const service = await startService(upstream.url, key.name, refreshEveryMs, options.child ?? false);
  const generation = async () =>
    ((await (await fetch(`${service.url}/-/status`)).json()) as { generation: number }).generation;
  const publisher = setInterval(() => upstream.publish(), publishEveryMs);
  try {
    const first = await generation();
    const check: Check = { checked: 0, mixed: 0, wentBack: 0, samples: [], seen: new Set() };
    const paths = [
      '/wildcardVersion/gen-*?format=plain',
      '/wildcardVersion/gen-*',
      ...Array.from({ length: 16 }, (_, i) => `/gen-${(i * 37) % packages}`),
      ...Array.from({ length: 8 }, (_, i) => `/gen-${(i * 53) % packages}/latest`),
      ...Array.from({ length: 8 }, (_, i) => `/gen-${(i * 71) % packages}?format=plain`),
    ];
    let n = 0;
    const result = await autocannon({
      url: service.url,
      connections: options.connections,
      duration: options.seconds,
      timeout: 10,
      requests: [
        {
          setupRequest: (req: { path: string }, context: { path?: string }) => {
            context.path = paths[n++ % paths.length]!;
            return { ...req, path: context.path };
          },
          onResponse: (
            status: number,
            body: string,
            context: { path: string; last?: number },
            headers: Record<string, string>,
          ) => inspect(check, context.path, status, String(body), headers.etag, context, packages),
        },
      ],
    } as unknown as autocannon.Options);
    const last = await generation();
    return {
      seconds: options.seconds,
      connections: options.connections,
      packages,
      requests: result.requests.total,
      rps: result.requests.average,
      latencyMs: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        p999: result.latency.p99_9,
        max: result.latency.max,
      },
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      checked: check.checked,
      mixed: check.mixed,
      wentBack: check.wentBack,
      samples: check.samples,
      published: upstream.generation - 1,
      generations: { first, last },
      seenGenerations: check.seen.size,
    };
  } finally {
    clearInterval(publisher);
    await service.stop();
    await upstream.stop();
  }
}

export function formatLoadRefresh(f: LoadRefreshFigures): string {
  const l = f.latencyMs;
  return [
    `load while refreshing: ${f.seconds} s, ${f.connections} connections, ${f.packages} packages per generation`,
    `  ${f.rps.toFixed(0)} req/s, ${f.requests} requests; latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, p99.9 ${l.p999} ms, max ${l.max} ms`,
    `  errors ${f.errors}, timeouts ${f.timeouts}, non-2xx ${f.non2xx}; answers checked ${f.checked}, mixed-generation ${f.mixed}, older than seen ${f.wentBack}`,
    `  generations published ${f.published}, service generation ${f.generations.first} -> ${f.generations.last} (${f.generations.last - f.generations.first} refreshes), ${f.seenGenerations} seen in answers`,
    ...f.samples.map((s) => `  bad answer: ${s}`),
  ].join('\n');
}

// `node dist-bench/bench/load-refresh.js --serve <upstream> <key name> <interval>`: the service as a child process.
if (process.argv[2] === '--serve' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [upstreamUrl, keyName, interval] = process.argv.slice(3) as [string, string, string];
  const { app, store } = serviceFor(upstreamUrl, keyName, Number(interval));
  store.start();
  if (!(await store.whenReady(30_000))) throw new Error('index did not load');
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${(app.server.address() as AddressInfo).port}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
