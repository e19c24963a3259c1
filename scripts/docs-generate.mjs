// Rewrites the docs made from declarations (built into dist/ first): the settings tables of docs/configuration.md
// (src/config/options.ts), its reason codes (src/datasource/reasons.ts) and the whole of docs/commands.md (the
// commands in src/cli/commands/).
import { readFileSync, writeFileSync } from 'node:fs';
import { configurationTables, DOC_BEGIN, DOC_END } from '../dist/src/config/options-doc.js';
import { reasonsTable, REASONS_BEGIN, REASONS_END } from '../dist/src/datasource/reasons-doc.js';
import { allCommands } from '../dist/src/cli/commands/index.js';
import { commandsReference } from '../dist/src/cli/reference.js';

const configuration = new URL('../docs/configuration.md', import.meta.url);
let doc = readFileSync(configuration, 'utf8');
// The begin marker as any earlier version wrote it (it names the script that writes it).
const start = doc.search(/<!-- options table: generated from src\/config\/options\.ts by `npm run [\w:]+` -->/);
const end = doc.indexOf(DOC_END);
if (start < 0 || end < start) throw new Error(`docs/configuration.md: markers not found (${DOC_BEGIN} ... ${DOC_END})`);
doc = doc.slice(0, start) + configurationTables() + doc.slice(end + DOC_END.length);
const reasonsStart = doc.indexOf(REASONS_BEGIN);
const reasonsEnd = doc.indexOf(REASONS_END);
if (reasonsStart < 0 || reasonsEnd < reasonsStart)
  throw new Error(`docs/configuration.md: markers not found (${REASONS_BEGIN} ... ${REASONS_END})`);
doc = doc.slice(0, reasonsStart) + reasonsTable() + doc.slice(reasonsEnd + REASONS_END.length);
writeFileSync(configuration, doc);
console.log('docs/configuration.md: settings tables and reason codes rewritten');

writeFileSync(new URL('../docs/commands.md', import.meta.url), commandsReference(await allCommands()));
console.log('docs/commands.md: rewritten');
