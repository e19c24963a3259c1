import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { compareVersions, isValidVersion, versionSymbol } from '../../index/version.js';
import { escapeControl } from '../../core/escape.js';
import { UsageError, UserError } from '../../errors.js';
import { defineCommand } from '../command.js';
import type { CliIO } from '../io.js';

export const command = defineCommand({
  name: 'vercmp',
  summary: 'compare "A B" version pairs from stdin like `apk version -t`',
  usage: ['[A B]'],
  about: `Compares apk versions exactly like \`apk version -t A B\` and prints <, = or >.
A version apk does not accept (\`banana\`, \`1.0-foo\`) is refused, as \`apk version -t\` refuses it
(apk-tools since 2025-09 validates both versions before it compares them).

With two arguments, compares that pair. Without arguments, reads "A B" pairs from standard
input, one per line (fields separated by spaces or tabs), and prints one answer per line.
Blank lines and # comments are skipped and get no answer.

A line that is not exactly two valid versions gets "?" (so answer N still belongs to pair N), is
reported on stderr with its line number, and makes the exit status 2; the other lines are
still answered.`,
  flags: {},
  exits: '0 all answered, 2 bad usage, a version apk does not accept, or at least one malformed line.',
  run: async ({ positionals }, io) => {
    if (positionals.length === 2) {
      const invalid = positionals.find((v) => !isValidVersion(v));
      // A value, not the command line's shape: one line, no usage after it.
      if (invalid !== undefined) throw new UserError('usage', notAVersion(invalid));
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
    const invalid = fields.length === 2 ? fields.find((v) => !isValidVersion(v)) : undefined;
    if (fields.length === 2 && invalid === undefined) {
      out += `${versionSymbol(compareVersions(fields[0]!, fields[1]!))}\n`;
    } else {
      const why = invalid === undefined ? `expected "A B", got ${shown(raw)}` : notAVersion(invalid);
      io.stderr.write(`apk-indexer vercmp: line ${lineNo}: ${why}\n`);
      out += '?\n';
      status = 2;
    }
    if (out.length >= 16384) await flush();
  }
  if (out) await flush();
  return status;
}

/** One line naming a version apk refuses. */
function notAVersion(version: string): string {
  return `not a version apk accepts: ${shown(version)}`;
}

/** A value quoted in a one-line message, safe on a terminal. */
function shown(value: string): string {
  return `"${escapeControl(value)}"`;
}
