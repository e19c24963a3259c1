import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';

export interface QueryFigures {
  bare: { rps: number; p50: number; p99: number };
  datasource: { rps: number; p50: number; p99: number; non2xx: number };
  ratio: number;
}

async function load(url: string, names: string[], seconds: number) {
  let i = 0;
  const result = await autocannon({
    url,
    connections: 32,
    duration: seconds,
    requests: [
      { setupRequest: (req: { path: string }) => ({ ...req, path: `/${names[i++ % names.length]}?arch=x86_64` }) },
    ],
  } as autocannon.Options);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Datasource queries rotating over many names vs a constant bare route, same tool, same run. */
export async function measureQueries(
  repoDir: string,
  keyPath: string,
  names: string[],
  seconds = 10,
): Promise<QueryFigures> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./query-server.js', import.meta.url)), pathToFileURL(repoDir).href, keyPath],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const ports = await new Promise<{ service: number; bare: number }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
      child.on('exit', (code) => reject(new Error(`query server exited with ${code}`)));
    });
    const sample = names.slice(0, 2000);
    await load(`http://127.0.0.1:${ports.bare}`, sample, 2); // warm-up
    await load(`http://127.0.0.1:${ports.service}`, sample, 2);
    const bare = await load(`http://127.0.0.1:${ports.bare}`, sample, seconds);
    const datasource = await load(`http://127.0.0.1:${ports.service}`, sample, seconds);
    return { bare, datasource, ratio: datasource.rps / bare.rps };
  } finally {
    child.kill('SIGTERM');
  }
}
