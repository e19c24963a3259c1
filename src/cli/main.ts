import { EXIT, FileError, isSystemError, UserError } from '../errors.js';
import type { CliIO } from './io.js';

/** A command throws what stops it (a UserError for a mistake); `main` reports it, once, the same way for all. */
type CommandModule = { run(args: string[], io: CliIO): Promise<number>; HELP: string };
type Command = { summary: string; load: () => Promise<CommandModule> };

/** One line per command; each module is loaded only when its command runs, so `vercmp` does not start Fastify. */
const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the Renovate custom datasource service (default: Wolfi on :3000)',
    load: () => import('./commands/serve.js'),
  },
  query: {
    summary: 'print the Renovate datasource answer for packages, straight from indexes',
    load: () => import('./commands/query.js'),
  },
  vercmp: {
    summary: 'compare "A B" version pairs from stdin like `apk version -t`',
    load: () => import('./commands/vercmp.js'),
  },
  init: {
    summary: 'write a repository of apko images, bootc hosts, melange recipes and Renovate wiring',
    load: () => import('./commands/init.js'),
  },
  gen: {
    summary: 'write one image, bootc flavour, melange recipe or renovate.json to stdout',
    load: () => import('./commands/gen.js'),
  },
  pin: {
    summary: 'move name=version pins in apko files to the newest version on all their archs',
    load: () => import('./commands/pin.js'),
  },
  check: {
    summary: 'lint apko files against the indexes: packages, pins, bootc, includes, Renovate',
    load: () => import('./commands/check.js'),
  },
  resolve: {
    summary: 'print what each image installs per arch, in install order, as apko resolves it',
    load: () => import('./commands/resolve.js'),
  },
  lock: {
    summary: 'write the lock file apko lock writes, or keep every lock of the tree in step (--update, --check)',
    load: () => import('./commands/lock.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: apk-indexer <command> [options]\n       apk-indexer -flag ...   (flags alone run serve, as hown3d/renovate-apk-indexer does)\n       apk-indexer --version   (print the version)\n\ncommands:\n${lines.join('\n')}\n\nRun \`apk-indexer <command> --help\` for a command's options.\nExit status: 0 done, 1 what the command found (its --help says), 2 a mistake in what it was given, 70 a bug in\napk-indexer (APK_INDEXER_DEBUG=1 prints its stack); docs/errors.md has the table and the error codes.\n`;
}

export async function main(argv: string[], io: CliIO = process): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const { version } = await import('./version-info.js');
    io.stdout.write(`${version}\n`);
    return 0;
  }
  const command = commandOf(argv);
  if (command === undefined) {
    io.stderr.write(`apk-indexer: unknown command "${name}"\n\n${usage()}`);
    return EXIT.user;
  }
  let module: CommandModule | undefined;
  try {
    module = await COMMANDS[command]!.load();
    if (command !== 'serve' && io.stdout === process.stdout) endQuietlyOnClosedPipe();
    // hown3d/renovate-apk-indexer's image takes its flags as the whole container command, so flags alone mean `serve`.
    return await module.run(name.startsWith('-') ? argv : rest, io);
  } catch (err) {
    return report(command, err, io, module?.HELP);
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
 * a server that cannot be read) exits with its status, followed by the command's usage when the command line was
 * wrong; a system error (ENOENT, EACCES...) is the environment's answer, exit 2. Anything else is a bug in
 * apk-indexer, exit 70: its stack is printed only with APK_INDEXER_DEBUG=1, since a user cannot act on it.
 */
export function report(command: string | undefined, err: unknown, io: Pick<CliIO, 'stderr'>, help?: string): number {
  const prefix = command === undefined ? 'apk-indexer' : `apk-indexer ${command}`;
  const debug = /^(1|true|yes)$/i.test(process.env.APK_INDEXER_DEBUG ?? '');
  const known = err instanceof UserError ? err : isSystemError(err) ? systemError(err) : undefined;
  const stack = debug && err instanceof Error && err.stack ? `${err.stack}\n` : '';
  if (known) {
    const detail = debug ? `error code ${known.code}, exit ${known.exit}\n${stack}` : '';
    io.stderr.write(`${prefix}: ${oneLine(known.message)}\n${detail}${known.usage && help ? `\n${help}` : ''}`);
    return known.exit;
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  io.stderr.write(
    `${prefix}: internal error, a bug in apk-indexer: ${oneLine(what)}${debug ? '' : ' (APK_INDEXER_DEBUG=1 prints the stack)'}\n${stack}`,
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

/** A message is printed on one line whatever it holds (a YAML excerpt, a server's answer). */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
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
