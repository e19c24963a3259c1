import type { CliIO } from './io.js';

type Command = { summary: string; load: () => Promise<{ run(args: string[], io: CliIO): Promise<number> }> };

/** One line per command; each module is loaded only when its command runs, so `vercmp` does not start Fastify. */
const COMMANDS: Record<string, Command> = {
  serve: { summary: 'run the Renovate custom datasource service (default: Wolfi on :3000)', load: () => import('./commands/serve.js') },
  query: { summary: 'print the Renovate datasource answer for packages, straight from indexes', load: () => import('./commands/query.js') },
  vercmp: { summary: 'compare "A B" version pairs from stdin like `apk version -t`', load: () => import('./commands/vercmp.js') },
  init: { summary: 'write a repository of apko images, bootc hosts, melange recipes and Renovate wiring', load: () => import('./commands/init.js') },
  gen: { summary: 'write one image, bootc flavour, melange recipe or renovate.json to stdout', load: () => import('./commands/gen.js') },
  pin: { summary: 'move name=version pins in apko files to the newest version on all their archs', load: () => import('./commands/pin.js') },
  check: { summary: 'lint apko files against the indexes: packages, pins, bootc, includes, Renovate', load: () => import('./commands/check.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: apk-indexer <command> [options]\n       apk-indexer -flag ...   (flags alone run serve, as hown3d/renovate-apk-indexer does)\n       apk-indexer --version   (print the version)\n\ncommands:\n${lines.join('\n')}\n\nRun \`apk-indexer <command> --help\` for a command's options.\n`;
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
  // hown3d/renovate-apk-indexer's image takes its flags as the whole container command, so flags alone mean `serve`.
  if (name.startsWith('-')) return (await COMMANDS.serve!.load()).run(argv, io);
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`apk-indexer: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  if (name !== 'serve' && io.stdout === process.stdout) endQuietlyOnClosedPipe();
  return module.run(rest, io);
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
