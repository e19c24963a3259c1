import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/**
 * A command as `apk-indexer NAME ...` runs it, in this process: what it throws is reported by main (one line, the
 * exit status), as the real CLI does.
 */
export const command = (name: string) => (args: string[], io: CliIO) => main([name, ...args], io);
