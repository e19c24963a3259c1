// The tool's version is shared by the CLI and the generators: it lives in src/core.
export { version } from '../core/version.js';
