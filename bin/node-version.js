// Which Node.js apk-indexer runs on: package.json's `engines.node`, one `>=X.Y.Z` bound. Plain JavaScript with no
// imports beyond node:fs and node:url, so that any Node.js can run it before anything that needs a newer one loads.
//   import { nodeProblem } from './node-version.js'   the one line to print, or undefined on a supported Node
//   node bin/node-version.js                          exit 0 on a supported Node, 1 otherwise (scripts/with-node.sh)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** The range package.json declares, as written (`>=22.19.0`). */
export const NEEDED = pkg.engines.node;

const parts = (version) => version.replace(/^v/, '').split('.').map(Number);

/** The one line naming the Node.js needed and the one found, or undefined when `version` is new enough. */
export function nodeProblem(version = process.versions.node, where = process.execPath) {
  const bound = /^>=\s*(\d+\.\d+\.\d+)$/.exec(NEEDED);
  if (!bound) throw new Error(`package.json engines.node: expected ">=X.Y.Z", got ${JSON.stringify(NEEDED)}`);
  const need = parts(bound[1]);
  const have = parts(version);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > need[i]) return undefined;
    if ((have[i] ?? 0) < need[i])
      return `apk-indexer: needs Node.js ${NEEDED}, found v${version.replace(/^v/, '')} (${where}); README.md, "Node.js", says how to get one`;
  }
  return undefined;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = nodeProblem() === undefined ? 0 : 1;
