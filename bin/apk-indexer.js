#!/usr/bin/env node
import { nodeProblem } from './node-version.js';

// The Node.js check comes first: the CLI is loaded only on a Node it runs on, so an older one gets one line naming
// both versions and exit 2 (a mistake in what it was given), never a failure from deep inside a module.
const problem = nodeProblem();
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 2;
} else {
  // Node's compile cache (as npm's own CLI uses it): the V8 code of apk-indexer's modules and its dependencies is
  // kept in the OS's temp folder between runs, which shortens every command's start (serve's module load 0.36 ->
  // 0.28 s here). Where that folder cannot be written (a read-only root), Node goes on without it.
  (await import('node:module')).enableCompileCache?.();
  const { main, reportFatal } = await import('../dist/src/cli/main.js');
  // Whatever escapes a command (an 'error' event nobody listens for, a rejection nobody awaits) ends as every error
  // does: one line and the documented status (docs/errors.md), not Node's stack dump and exit 1.
  const fatal = (err) => process.exit(reportFatal(process.argv.slice(2), err));
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.exitCode = await main(process.argv.slice(2));
}
