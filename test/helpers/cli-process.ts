import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuilt } from '../setup/build.js';

/** The real CLI as a child process, for the tests of signals, exit codes and logs. */

const root = fileURLToPath(new URL('../../', import.meta.url));
export const bin = join(root, 'bin', 'apk-indexer.js');

/**
 * The bin runs dist/, which the global setup (test/setup/global.ts) builds once before any worker starts; a worker
 * never builds it, so two workers cannot write dist/ at once.
 */
export function ensureBuilt(): void {
  if (!isBuilt())
    throw new Error(
      'dist/ is older than src/: run the tests through vitest (its global setup builds it) or npm run build',
    );
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
export async function serveProcess(
  args: string[],
  env: Record<string, string>,
  command: string[] = ['serve'],
  entry = bin,
): Promise<RunningService> {
  const child = spawn(process.execPath, [entry, ...command, ...args, '--host', '127.0.0.1', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
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
