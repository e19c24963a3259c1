import { toRenovateBody, type RenovateBody } from '../../datasource/renovate-body.js';
import { loadVersionMap } from '../../index/load-map.js';
import type { VersionMap } from '../../index/version-map.js';
import { splitList } from '../../config/layer.js';
import { indexLocations } from '../../source/locations.js';
import { parseCommandArgs, UsageError } from '../args.js';
import type { CliIO } from '../io.js';

export const HELP = `usage: apk-indexer query NAME... --index SRC [--index SRC...] [--key KEY...] [--arch a,b]

Prints one JSON object mapping each NAME to the Renovate custom-datasource body the service answers
for it, or to null when no index holds the package.

  --index SRC   a repository base URL (SRC/<arch>/APKINDEX.tar.gz is read for each arch), or an
                APKINDEX.tar.gz URL, file:// URL or path. Repeat for several.
  --key KEY     trusted public key (path or URL), matched to signatures by file name as apk does.
                With keys, unsigned or badly signed indexes are refused; without, a warning is printed.
  --arch a,b    arches to read from base URLs (default x86_64); versions are kept only when present
                on every listed arch.

Exit status: 0 all found, 1 some package unknown, 2 an index could not be read or verified.
70 is a bug in apk-indexer; all statuses and error codes: docs/errors.md.
`;

/** Usage mistakes and unreadable indexes are thrown: main reports them (exit 2). */
export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, {
    index: { type: 'string', multiple: true },
    key: { type: 'string', multiple: true },
    arch: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length === 0) throw new UsageError('name at least one package');
  if (!parsed.values.index?.length) throw new UsageError('--index is required');
  const arches = splitList(parsed.values.arch);
  const keyLocations = splitList(parsed.values.key);
  const locations = parsed.values.index.flatMap((url) => indexLocations({ url, arches: arches.length ? arches : undefined }));
  const map: VersionMap = await loadVersionMap(locations, keyLocations, (url) => io.stderr.write(`warning: ${url}: signature not verified (no --key given)\n`));
  const out: Record<string, RenovateBody | null> = {};
  let missing = false;
  for (const name of parsed.positionals) {
    const releases = map.releases(name, arches.length ? { arches } : {});
    if (!releases || releases.length === 0) {
      out[name] = null;
      missing = true;
    } else {
      out[name] = toRenovateBody(releases);
    }
  }
  io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return missing ? 1 : 0;
}
