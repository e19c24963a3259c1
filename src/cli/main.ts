import { escapeControl } from '../core/escape.js';
import { oneLine } from '../core/text.js';
import { EXIT, FileError, isSystemError, UserError } from '../errors.js';
import type { Command } from './command.js';
import { allCommands, COMMANDS } from './commands/index.js';
import type { CliIO } from './io.js';

/** `apk-indexer --help`: the commands and their one-line summaries, from their declarations. */
async function usage(): Promise<string> {
  const commands = await allCommands();
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: apk-indexer <command> [options]\n       apk-indexer -flag ...   (flags alone run serve, as hown3d/renovate-apk-indexer does)\n       apk-indexer --version   (print the version)\n\ncommands:\n${lines.join('\n')}\n\nRun \`apk-indexer <command> --help\` for a command's options.\nExit status: 0 done, 1 what the command found (its --help says), 2 a mistake in what it was given, 3 a gate that\ncould not check everything (pin, check, lock --check), 70 a bug in apk-indexer (APK_INDEXER_DEBUG=1 prints its\nstack); docs/errors.md has the table and the error codes.\n`;
}

export async function main(argv: string[], io: CliIO = process): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(await usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const { version } = await import('./version-info.js');
    io.stdout.write(`${version}\n`);
    return 0;
  }
  const commandName = commandOf(argv);
  if (commandName === undefined) {
    io.stderr.write(`apk-indexer: unknown command "${name}"\n\n${await usage()}`);
    return EXIT.user;
  }
  let command: Command | undefined;
  try {
    command = (await COMMANDS[commandName]!()).command;
    if (commandName !== 'serve' && io.stdout === process.stdout) endQuietlyOnClosedPipe();
    // hown3d/renovate-apk-indexer's image takes its flags as the whole container command, so flags alone mean `serve`.
    return await command.run(name.startsWith('-') ? argv : rest, io);
  } catch (err) {
    return report(commandName, err, io, command);
  }
}

/** The command `argv` runs: flags alone are `serve`; undefined for an unknown one. */
function commandOf(argv: string[]): string | undefined {
  const name = argv[0] ?? '';
  if (name.startsWith('-')) return 'serve';
  return Object.hasOwn(COMMANDS, name) ? name : undefined;
}

/**
 * What stopped a command, on one line: `apk-indexer <command>: <message>`. A UserError (a mistake, a file, an index or
 * a server that cannot be read) exits with its status, followed by the excerpt it points into (a YAML mistake) and,
 * when the command line was wrong, the command's usage lines; a system error (ENOENT, EACCES...) is the environment's answer, exit 2. Anything else is a bug in
 * apk-indexer, exit 70: its stack is printed only with APK_INDEXER_DEBUG=1, since a user cannot act on it.
 */
export function report(
  command: string | undefined,
  err: unknown,
  io: Pick<CliIO, 'stderr'>,
  declared?: Pick<Command, 'name' | 'usage'>,
): number {
  const prefix = command === undefined ? 'apk-indexer' : `apk-indexer ${command}`;
  const debug = /^(1|true|yes)$/i.test(process.env.APK_INDEXER_DEBUG ?? '');
  const known = err instanceof UserError ? err : isSystemError(err) ? systemError(err) : undefined;
  const stack = debug && err instanceof Error && err.stack ? `${err.stack}\n` : '';
  if (known) {
    const detail = debug ? `error code ${known.code}, exit ${known.exit}\n${stack}` : '';
    const context = known.context ? `${known.context}\n` : '';
    const usageLines =
      known.usage && declared
        ? `\n${declared.usage()}\nRun \`apk-indexer ${declared.name} --help\` for its options.\n`
        : '';
    io.stderr.write(`${prefix}: ${escapeControl(oneLine(known.message))}\n${context}${detail}${usageLines}`);
    return known.exit;
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  io.stderr.write(
    `${prefix}: internal error, a bug in apk-indexer: ${escapeControl(oneLine(what))}${debug ? '' : ' (APK_INDEXER_DEBUG=1 prints the stack)'}\n${stack}`,
  );
  return EXIT.bug;
}

/**
 * What ends the process from outside any command (an error event nobody listens for, a promise nobody awaits): the
 * same one line and status as inside one, never Node's dump. For bin/apk-indexer.js.
 */
export function reportFatal(argv: string[], err: unknown): number {
  return report(commandOf(argv), err, process);
}

function systemError(err: NodeJS.ErrnoException & { code: string }): UserError {
  if (err.path !== undefined) return FileError.of(err.path, err);
  return new UserError('file', err.message, { cause: err });
}

/**
 * `apk-indexer query ... | head -2`: once the reader has gone (EPIPE), the command ends quietly with exit 0, as Unix
 * tools do. Not for serve: a service whose log reader went away keeps serving (its logger drops the lines).
 */
function endQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
}
