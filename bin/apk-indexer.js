#!/usr/bin/env node
import { main, reportFatal } from '../dist/src/cli/main.js';

// Whatever escapes a command (an 'error' event nobody listens for, a rejection nobody awaits) ends as every error
// does: one line and the documented status (docs/errors.md), not Node's stack dump and exit 1.
const fatal = (err) => process.exit(reportFatal(process.argv.slice(2), err));
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

process.exitCode = await main(process.argv.slice(2));
