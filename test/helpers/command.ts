import { PassThrough, Readable } from 'node:stream';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/**
 * A command as `apk-indexer NAME ...` runs it, in this process: what it throws is reported by main (one line, the
 * exit status), as the real CLI does.
 */
export const command = (name: string) => (args: string[], io: CliIO) => main([name, ...args], io);

/** Runs a command (`command(NAME)` or a module's `run`) with in-memory stdio (`input` on stdin) and collects what it prints. */
export async function capture(
  run: (args: string[], io: CliIO) => Promise<number>,
  args: string[],
  input?: string,
): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await run(args, {
    stdin: input === undefined ? new PassThrough() : Readable.from([input]),
    stdout,
    stderr,
  });
  return { code, out, err };
}
