// Rewrites the settings tables in docs/configuration.md from src/config/options.ts (built into dist/ first).
import { readFileSync, writeFileSync } from 'node:fs';
import { configurationTables, DOC_BEGIN, DOC_END } from '../dist/src/config/options-doc.js';

const path = new URL('../docs/configuration.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
const start = doc.indexOf(DOC_BEGIN);
const end = doc.indexOf(DOC_END);
if (start < 0 || end < start) throw new Error(`docs/configuration.md: markers not found (${DOC_BEGIN} ... ${DOC_END})`);
writeFileSync(path, doc.slice(0, start) + configurationTables() + doc.slice(end + DOC_END.length));
console.log('docs/configuration.md: settings tables rewritten');
