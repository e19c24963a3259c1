import { toRenovateBody, type RenovateBody } from '../../datasource/renovate-body.js';
import { ConfigError } from '../../config/errors.js';
import { repositoriesFromOptions } from '../../config/repository-source.js';
import { loadRepositoriesOnce } from '../../load/repositories.js';
import { VersionMap } from '../../index/version-map.js';
import { splitList } from '../../config/layer.js';
import { parseCommandArgs, UsageError } from '../args.js';
import type { CliIO } from '../io.js';

export const HELP = `usage: apk-indexer query NAME... (--index SRC... | --config FILE) [--key KEY...] [--arch a,b]
                          [--repository NAME...]

Prints one JSON object mapping each NAME to the Renovate custom-datasource body the service answers
for it, or to null when no index holds the package.

  --index SRC        a repository base URL (SRC/<arch>/APKINDEX.tar.gz is read for each arch), or an
                     APKINDEX.tar.gz URL, file:// URL or path. Repeat for several.
  --config FILE      the service's YAML configuration (as serve --config reads it): its repositories,
                     each with its own arches, keys, aliases and auth (tokens from the environment
                     variables it names; sent only to the repository's own origin). Combines with --index.
  --key KEY          trusted public key (path or URL), matched to signatures by file name as apk does;
                     for every --index, and added to each --config repository's keys. With keys,
                     unsigned or badly signed indexes are refused; without, a warning is printed.
  --arch a,b         arches to read from --index base URLs (default x86_64); versions are kept only when
                     present on every listed arch. Without it, as the service answers without ?arch=:
                     versions present on every arch of the repository that holds the name.
  --repository NAME  answer only from these repositories (a --config name; an --index is named by its
                     URL). Repeat or a,b.

Exit status: 0 all found, 1 some package unknown, 2 an index could not be read or verified.
70 is a bug in apk-indexer; all statuses and error codes: docs/errors.md.
`;

/** Usage mistakes and unreadable indexes are thrown: main reports them (exit 2). */
export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, {
    index: { type: 'string', multiple: true },
    key: { type: 'string', multiple: true },
    arch: { type: 'string', multiple: true },
    config: { type: 'string' },
    repository: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length === 0) throw new UsageError('name at least one package');
  if (!parsed.values.index?.length && parsed.values.config === undefined)
    throw new UsageError('pass --index SRC or --config FILE');
  const arches = splitList(parsed.values.arch);
  const repositories = splitList(parsed.values.repository);
  const sources = repositoriesFromOptions({
    indexes: (parsed.values.index ?? []).map((url) => ({ url, aliases: [] })),
    keys: splitList(parsed.values.key),
    config: parsed.values.config,
    arches: () => arches,
  });
  const unknown = repositories.filter((r) => !sources.some((s) => s.name === r));
  if (unknown.length > 0)
    throw new ConfigError(
      `--repository ${unknown.join(',')}: no such repository (there are: ${sources.map((s) => s.name).join(', ')})`,
    );
  const loaded = await loadRepositoriesOnce(sources, { warn: (m) => io.stderr.write(`warning: ${m}\n`) });
  const map = new VersionMap(loaded.map((l) => l.snapshot));
  const out: Record<string, RenovateBody | null> = {};
  let missing = false;
  for (const name of parsed.positionals) {
    const releases = map.releases(name, {
      ...(arches.length ? { arches } : { everyArchHolding: true }),
      ...(repositories.length && { repositories }),
    });
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
