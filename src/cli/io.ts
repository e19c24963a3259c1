import { escapeControl } from '../core/escape.js';

export interface CliIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** How a command warns: `warning: <message>` on standard error, safe for a terminal (a message may quote an index). */
export function warner(io: Pick<CliIO, 'stderr'>): (message: string) => void {
  return (message) => io.stderr.write(`warning: ${escapeControl(message)}\n`);
}
