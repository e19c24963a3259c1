import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LOAD_TOOL, runLoad, type LoadPaths, type LoadRun } from './http-load.js';
import { topOfProfile, type CpuProfile, type ProfileEntry } from './profile.js';

/** One load run with the server's CPU time per request over it. */
export interface QueryRun extends LoadRun {
  cpuMicrosPerRequest: number;
}

export interface QueryFigures {
  tool: 'wrk' | 'autocannon';
  connections: number;
  seconds: number;
  names: number;
  /** Each round runs the bare route, then the datasource (or the other way round, every other round). */
  rounds: Array<{ bare: QueryRun; datasource: QueryRun; ratio: number }>;
  /** Medians over the rounds. */
  bare: { rps: number; p50: number; p99: number; cpuMicrosPerRequest: number };
  datasource: { rps: number; p50: number; p99: number; cpuMicrosPerRequest: number; non2xx: number; errors: number };
  /** Median of the rounds' datasource / bare request rates. */
  ratio: number;
  /** Bare CPU time per request / datasource CPU time per request (medians): the share contention cannot move. */
  cpuRatio: number;
  /** With BENCH_PROFILE: the datasource run's top entries by self time. */
  profile?: ProfileEntry[];
}

interface Stats {
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  cacheBytes: number;
  cacheEntries: number;
  cacheEvictions: number;
}

/** The query server (query-server.ts) in a child process. */
class QueryServer {
  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, null>,
    readonly service: string,
    readonly bare: string,
  ) {}

  static async start(repoDir: string, keyPath: string, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}) {
    const child = spawn(
      process.execPath,
      [...nodeArgs, fileURLToPath(new URL('./query-server.js', import.meta.url)), pathToFileURL(repoDir).href, keyPath],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
    );
    const ports = await new Promise<{ service: number; bare: number }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
      child.on('exit', (code) => reject(new Error(`query server exited with ${code}`)));
    });
    return new QueryServer(child, `http://127.0.0.1:${ports.service}`, `http://127.0.0.1:${ports.bare}`);
  }

  async stats(gc = false): Promise<Stats> {
    return (await (await fetch(`${this.bare}/__stats${gc ? '?gc=1' : ''}`)).json()) as Stats;
  }

  /** SIGTERM, and wait for the exit (a --cpu-prof profile is written then). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Datasource queries rotating over `names` (the first 2,000) against a bare Fastify route returning a constant
 * JSON body in the same process, in alternating rounds with the same tool (`wrk -t1 -c32`, else autocannon).
 * Request rates depend on what else the machine runs; the ratio within a round and the server's CPU time per
 * request much less.
 */
export async function measureQueries(
  repoDir: string,
  keyPath: string,
  names: readonly string[],
  options: { seconds?: number; rounds?: number; connections?: number; profile?: boolean } = {},
): Promise<QueryFigures> {
  const seconds = options.seconds ?? 10;
  const rounds = options.rounds ?? 3;
  const connections = options.connections ?? 32;
  const dir = await mkdtemp(join(repoDir, 'queries-'));
  const paths: LoadPaths = { names: names.slice(0, 2000), query: '?arch=x86_64' };
  const server = await QueryServer.start(repoDir, keyPath);
  const measured = async (base: string, s: number): Promise<QueryRun> => {
    const before = await server.stats();
    const run = await runLoad(base, paths, { seconds: s, connections, dir });
    const after = await server.stats();
    return { ...run, cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / run.requests };
  };
  const results: QueryFigures['rounds'] = [];
  let profile: ProfileEntry[] | undefined;
  try {
    // Warm-up: the JIT, and every rotated answer in the cache.
    await measured(server.bare, 2);
    await measured(server.service, 2);
    for (let r = 0; r < rounds; r++) {
      const first = r % 2 === 0 ? 'bare' : 'datasource';
      const a = await measured(first === 'bare' ? server.bare : server.service, seconds);
      const b = await measured(first === 'bare' ? server.service : server.bare, seconds);
      const [bare, datasource] = first === 'bare' ? [a, b] : [b, a];
      results.push({ bare, datasource, ratio: datasource.rps / bare.rps });
    }
    if (options.profile) profile = await profileQueries(server, paths, seconds, connections, dir);
  } finally {
    await server.stop();
  }
  const pick = (which: 'bare' | 'datasource', key: keyof QueryRun) => median(results.map((r) => r[which][key]));
  const figures: QueryFigures = {
    tool: LOAD_TOOL,
    connections,
    seconds,
    names: paths.names.length,
    rounds: results,
    bare: {
      rps: pick('bare', 'rps'),
      p50: pick('bare', 'p50'),
      p99: pick('bare', 'p99'),
      cpuMicrosPerRequest: pick('bare', 'cpuMicrosPerRequest'),
    },
    datasource: {
      rps: pick('datasource', 'rps'),
      p50: pick('datasource', 'p50'),
      p99: pick('datasource', 'p99'),
      cpuMicrosPerRequest: pick('datasource', 'cpuMicrosPerRequest'),
      non2xx: results.reduce((n, r) => n + r.datasource.non2xx, 0),
      errors: results.reduce((n, r) => n + r.datasource.errors, 0),
    },
    ratio: median(results.map((r) => r.ratio)),
    cpuRatio: 0,
  };
  figures.cpuRatio = figures.bare.cpuMicrosPerRequest / figures.datasource.cpuMicrosPerRequest;
  if (profile) figures.profile = profile;
  return figures;
}

/** The datasource under the same load, profiled (after a warm-up, loading left out): where its time goes. */
async function profileQueries(
  server: QueryServer,
  paths: LoadPaths,
  seconds: number,
  connections: number,
  dir: string,
): Promise<ProfileEntry[]> {
  await fetch(`${server.bare}/__profile/start`, { method: 'POST' });
  await runLoad(server.service, paths, { seconds, connections, dir });
  const profile = (await (await fetch(`${server.bare}/__profile/stop`, { method: 'POST' })).json()) as CpuProfile;
  return topOfProfile(profile, 20);
}

export interface AnswerMemoryFigures {
  names: number;
  answerCacheBytes: number | undefined;
  /** After the load, after a full GC. */
  loaded: { rssMiB: number; heapMiB: number };
  /** After `GET /<name>` of every name once, through the service. */
  allRead: { rssMiB: number; heapMiB: number; cacheMiB: number; entries: number };
  /** After each step of distinct query strings: how many so far, RSS, what the cache holds. */
  distinct: Array<{
    requests: number;
    rssMiB: number;
    heapMiB: number;
    heapTotalMiB: number;
    externalMiB: number;
    cacheMiB: number;
    evictions: number;
  }>;
}

const mib = (bytes: number) => bytes / 2 ** 20;

/**
 * The service's memory over a large index: once loaded, after every name was asked once, and under a flood of
 * distinct query strings (`/<name>?arch=x86_64&n=<counter>`, each a new cache key), sampled every `stepSeconds`
 * until `distinct` requests were sent. The cache bound (answerCacheBytes) is what should hold it level.
 */
export async function measureAnswerMemory(
  repoDir: string,
  keyPath: string,
  names: readonly string[],
  options: { distinct?: number; stepSeconds?: number; connections?: number } = {},
): Promise<AnswerMemoryFigures> {
  const distinct = options.distinct ?? 1_000_000;
  const dir = await mkdtemp(join(repoDir, 'memory-'));
  const cacheBytes = process.env.BENCH_ANSWER_CACHE_BYTES;
  const server = await QueryServer.start(repoDir, keyPath, ['--expose-gc']);
  try {
    const loaded = await server.stats(true);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < names.length) {
          const res = await fetch(`${server.service}/${encodeURIComponent(names[next++]!)}`);
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`GET /${names[next - 1]}: ${res.status}`);
        }
      }),
    );
    const allRead = await server.stats(true);
    const steps: AnswerMemoryFigures['distinct'] = [];
    let sent = 0;
    while (sent < distinct) {
      const run = await runLoad(
        server.service,
        { names, query: '?arch=x86_64', distinctFrom: sent },
        { seconds: options.stepSeconds ?? 15, connections: options.connections ?? 32, dir },
      );
      if (run.non2xx || run.errors) throw new Error(`distinct queries: ${run.non2xx} non-2xx, ${run.errors} errors`);
      sent += run.requests;
      const s = await server.stats(true);
      steps.push({
        requests: sent,
        rssMiB: mib(s.rss),
        heapMiB: mib(s.heapUsed),
        heapTotalMiB: mib(s.heapTotal),
        externalMiB: mib(s.external),
        cacheMiB: mib(s.cacheBytes),
        evictions: s.cacheEvictions,
      });
    }
    return {
      names: names.length,
      answerCacheBytes: cacheBytes === undefined ? undefined : Number(cacheBytes),
      loaded: { rssMiB: mib(loaded.rss), heapMiB: mib(loaded.heapUsed) },
      allRead: {
        rssMiB: mib(allRead.rss),
        heapMiB: mib(allRead.heapUsed),
        cacheMiB: mib(allRead.cacheBytes),
        entries: allRead.cacheEntries,
      },
      distinct: steps,
    };
  } finally {
    await server.stop();
  }
}
