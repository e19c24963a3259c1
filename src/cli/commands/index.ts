import type { Command } from '../command.js';

/**
 * Every command, by name, each module loaded only when its command runs (`vercmp` does not load Fastify). A command
 * is a module here exporting `command = defineCommand({...})` (../command.ts) and one line in this table.
 */
export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  serve: () => import('./serve.js'),
  query: () => import('./query.js'),
  vercmp: () => import('./vercmp.js'),
  init: () => import('./init.js'),
  gen: () => import('./gen.js'),
  pin: () => import('./pin.js'),
  check: () => import('./check.js'),
  images: () => import('./images.js'),
  resolve: () => import('./resolve.js'),
  lock: () => import('./lock.js'),
};

/** Every command's declaration, in the table's order (for `apk-indexer --help` and the docs). */
export async function allCommands(): Promise<Command[]> {
  return Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).command));
}
