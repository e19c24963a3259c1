import { prettyFactory } from 'pino-pretty';

/**
 * The service's log lines on standard output (`text`: pino-pretty's, formatted in this thread; else pino's JSON). Once the reader has gone (`serve | head -1`
 * closes the pipe: EPIPE) lines are dropped: a log line must not crash the service, and a transport worker stuck on
 * a dead pipe would hold up shutdown (pino's "_flushSync took too long") and turn SIGTERM's exit 0 into 1.
 */
export function stdoutLogStream(format: string): { write(line: string): void } {
  watchStdout();
  const pretty =
    format === 'text' ? prettyFactory({ translateTime: 'SYS:standard', ignore: 'pid,hostname' }) : undefined;
  return {
    write(line) {
      if (!stdoutClosed) process.stdout.write(pretty ? pretty(line) : line);
    },
  };
}

let stdoutClosed = false;
let watching = false;

/** One listener for the process, however many services a process builds. */
function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stdoutClosed = true;
  });
}
