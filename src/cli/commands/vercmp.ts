import { createInterface } from 'node:readline';
import { compareVersions, versionSymbol } from '../../index/version.js';
import type { CliIO } from '../io.js';

const HELP = `usage: apk-indexer vercmp [A B]

Compares apk versions like \`apk version -t A B\`: prints <, = or >.
Without arguments, reads "A B" pairs from standard input, one per line, and prints one answer per line.
A line that is not two fields prints "?" (so answers stay aligned with the input), is reported on
stderr with its line number, and makes the exit status 2. Blank lines and # comments are skipped.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(HELP);
    return 0;
  }
  if (args.length === 2) {
    io.stdout.write(`${versionSymbol(compareVersions(args[0]!, args[1]!))}\n`);
    return 0;
  }
  if (args.length !== 0) {
    io.stderr.write(`apk-indexer vercmp: expected two versions or none\n\n${HELP}`);
    return 2;
  }
  let status = 0;
  let lineNo = 0;
  const out: string[] = [];
  for await (const raw of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
    lineNo++;
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) {
      io.stderr.write(`apk-indexer vercmp: line ${lineNo}: expected "A B", got ${JSON.stringify(raw)}\n`);
      out.push('?');
      status = 2;
    } else {
      out.push(versionSymbol(compareVersions(fields[0]!, fields[1]!)));
    }
    if (out.length >= 4096) io.stdout.write(`${out.splice(0).join('\n')}\n`);
  }
  if (out.length) io.stdout.write(`${out.join('\n')}\n`);
  return status;
}
