import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { compareVersions, versionSymbol } from '../../index/version.js';
import { UsageError } from '../../errors.js';
import { defineCommand } from '../command.js';
import type { CliIO } from '../io.js';

export const command = defineCommand({
  name: 'vercmp',
  summary: 'compare "A B" version pairs from stdin like `apk version -t`',
  usage: ['[A B]'],
  about: `Compares apk versions exactly like \`apk version -t A B\` and prints <, = or >.
Invalid versions are compared the way apk compares them, not rejected.

With two arguments, compares that pair. Without arguments, reads "A B" pairs from standard
input, one per line (fields separated by spaces or tabs), and prints one answer per line.
Blank lines and # comments are skipped and get no answer.

A line that is not exactly two fields gets "?" (so answer N still belongs to pair N), is
reported on stderr with its line number, and makes the exit status 2; the other lines are
still answered.`,
  flags: {},
  exits: '0 all answered, 2 bad usage or at least one malformed line.',
  run: async ({ positionals }, io) => {
    if (positionals.length === 2) {
      io.stdout.write(`${versionSymbol(compareVersions(positionals[0]!, positionals[1]!))}\n`);
      return 0;
    }
    if (positionals.length !== 0) throw new UsageError('expected two versions or none');
    return comparePairs(io);
  },
});

/** Reads "A B" lines from stdin and answers each. */
async function comparePairs(io: CliIO): Promise<number> {
  let status = 0;
  let lineNo = 0;
  let out = '';
  const flush = async () => {
    const ok = io.stdout.write(out);
    out = '';
    if (!ok) await once(io.stdout, 'drain');
  };
  for await (const raw of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
    lineNo++;
    const hash = raw.indexOf('#'); // never part of a version
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length === 2) {
      out += `${versionSymbol(compareVersions(fields[0]!, fields[1]!))}\n`;
    } else {
      io.stderr.write(`apk-indexer vercmp: line ${lineNo}: expected "A B", got ${JSON.stringify(raw)}\n`);
      out += '?\n';
      status = 2;
    }
    if (out.length >= 16384) await flush();
  }
  if (out) await flush();
  return status;
}
