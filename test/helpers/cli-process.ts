import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real CLI as a child process, for the tests of signals, exit codes and logs. */

const root = fileURLToPath(new URL('../../', import.meta.url));
export const bin = join(root, 'bin', 'apk-indexer.js');

function newest(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
}

/** The bin runs dist/; build it when the sources are newer (`npm test` builds first anyway). */
export function ensureBuilt(): void {
  const built = join(root, 'dist', 'src', 'cli', 'commands', 'serve.js');
  let builtAt = 0;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    // not built yet
  }
  if (builtAt >= newest(join(root, 'src'))) return;
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { encoding: 'utf8' });
  if (result.status !== 0 || result.error) throw new Error(`build failed: ${result.stdout}${result.stderr}`);
}

export interface RunningService {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the exit code; listened for from the start so an early exit is not missed. */
  exited: Promise<number | null>;
  port: number;
  output: () => string;
}

/**
 * Starts `apk-indexer serve` (or `command`, `[]` for flags alone) on 127.0.0.1 and waits for its listen line.
 * `entry` is the bin to run (another copy of the package, say).
 */
export async function serveProcess(args: string[], env: Record<string, string>, command: string[] = ['serve'], entry = bin): Promise<RunningService> {
  const child = spawn(process.execPath, [entry, ...command, ...args, '--host', '127.0.0.1', '--port', '0'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listen line in: ${log}`));
    }, 20_000);
    const look = () => {
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/i.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before listening: ${log}`));
    });
  });
  return { child, exited, port, output: () => log };
}
