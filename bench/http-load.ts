import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

/** What one load run measured. */
export interface LoadRun {
  requests: number;
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** The paths one run sends, in turn: `names` rotated, each with `query`. */
export interface LoadPaths {
  names: readonly string[];
  query: string;
  /** Set: every request a different query string, `&n=<counter>` counting from this. */
  distinctFrom?: number;
}

/** wrk (the tool, `apt-get install wrk`) when installed, else autocannon (a dev dependency). */
export const LOAD_TOOL: 'wrk' | 'autocannon' =
  spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined ? 'wrk' : 'autocannon';

/** Runs `wrk -t1 -c<connections>` (or autocannon alike) for `seconds` against `base`. */
export async function runLoad(
  base: string,
  paths: LoadPaths,
  options: { seconds: number; connections: number; dir: string },
): Promise<LoadRun> {
  return LOAD_TOOL === 'wrk' ? runWrk(base, paths, options) : runAutocannon(base, paths, options);
}

async function runWrk(
  base: string,
  paths: LoadPaths,
  options: { seconds: number; connections: number; dir: string },
): Promise<LoadRun> {
  const namesFile = join(options.dir, 'wrk-names.txt');
  const script = join(options.dir, 'wrk-rotate.lua');
  await writeFile(namesFile, `${paths.names.join('\n')}\n`);
  const counter = paths.distinctFrom === undefined ? '' : ` .. "&n=" .. (i + ${paths.distinctFrom})`;
  await writeFile(
    script,
    `local names = {}
for line in io.lines(${JSON.stringify(namesFile)}) do names[#names + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/" .. names[(i % #names) + 1] .. ${JSON.stringify(paths.query)}${counter})
end
`,
  );
  const { stdout } = await promisify(execFile)('wrk', [
    '-t1',
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
    '-s',
    script,
    base,
  ]);
  const ms = (text: string | undefined) => {
    const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  return {
    requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
    p50: ms(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1]),
    p99: ms(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0),
    errors: [...stdout.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce((n, m) => n + Number(m[2]), 0),
  };
}

async function runAutocannon(
  base: string,
  paths: LoadPaths,
  options: { seconds: number; connections: number },
): Promise<LoadRun> {
  let i = 0;
  const result = await autocannon({
    url: base,
    connections: options.connections,
    duration: options.seconds,
    requests: [
      {
        setupRequest: (req: { path: string }) => {
          i++;
          const name = paths.names[i % paths.names.length];
          const n = paths.distinctFrom === undefined ? '' : `&n=${i + paths.distinctFrom}`;
          return { ...req, path: `/${name}${paths.query}${n}` };
        },
      },
    ],
  } as autocannon.Options);
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
