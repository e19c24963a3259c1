import { toRenovateBody, type RenovateBody } from '../../datasource/renovate-body.js';
import { nearest } from '../../core/nearest.js';
import { escapeControl } from '../../core/escape.js';
import { apkArches } from '../../config/kinds.js';
import { ConfigError, UsageError } from '../../errors.js';
import { repositoriesFromOptions } from '../../config/repository-source.js';
import { loadRepositoriesOnce } from '../../load/repositories.js';
import { VersionMap } from '../../index/version-map.js';
import { releaseFilter } from '../../datasource/filter.js';
import { flag, type FlagValues, type ParsedArgs } from '../../core/flags.js';
import { defineCommand } from '../command.js';
import { warner, type CliIO } from '../io.js';

const FLAGS = {
  index: flag.each({
    names: ['--index'],
    value: 'SRC',
    doc: 'a repository base URL (`SRC/<arch>/APKINDEX.tar.gz` is read for each arch), or an APKINDEX.tar.gz URL, `file://` URL or path. Repeat for several.',
  }),
  config: flag.one({
    names: ['--config'],
    value: 'FILE',
    doc: "the service's YAML configuration (as serve --config reads it): its repositories, each with its own arches, keys, aliases and auth (tokens from the environment variables it names; sent only to the repository's own origin). Combines with --index.",
  }),
  key: flag.list({
    names: ['--key'],
    value: 'KEY',
    doc: "trusted public key (path or URL), matched to signatures by file name as apk does; for every --index (Wolfi's URL without --key: Wolfi's key), and added to each --config repository's keys. With keys, unsigned or badly signed indexes are refused; without, a warning is printed.",
  }),
  arch: flag.list({
    names: ['--arch'],
    value: 'a,b',
    doc: "APK arches to read from --index base URLs (default: the repository's, x86_64; Wolfi's x86_64,aarch64); versions are kept only when present on every listed arch. Without it, as the service answers without ?arch=: versions present on every arch of the repository that holds the name.",
  }),
  repository: flag.list({
    names: ['--repository'],
    value: 'NAME',
    doc: "read and answer from these repositories only (a --config name; an --index is named by its URL, Wolfi's `wolfi`). Repeat or a,b.",
  }),
};

export const command = defineCommand({
  name: 'query',
  summary: 'print the Renovate datasource answer for packages, straight from indexes',
  usage: ['NAME... (--index SRC... | --config FILE) [--key KEY...] [--arch a,b] [--repository NAME...]'],
  about: `Prints one JSON object mapping each NAME to the Renovate custom-datasource body the service answers
for it, or to null when it has none; then standard error says why, as the service's 404 does (no index
holds the name, with the nearest name there is; or no version is on every arch asked for).`,
  flags: FLAGS,
  exits: '0 all found, 1 some package unknown, 2 an index could not be read or verified.',
  run,
});

/** Usage mistakes and unreadable indexes are thrown: main reports them (exit 2). */
async function run(args: ParsedArgs<FlagValues<typeof FLAGS>>, io: CliIO): Promise<number> {
  const { values, positionals } = args;
  if (positionals.length === 0) throw new UsageError('name at least one package');
  if (!values.index.length && values.config === undefined) throw new UsageError('pass --index SRC or --config FILE');
  // The arch names the service takes (`?arch=amd64` gets the same hint): APK's, not apko's.
  const arches = values.arch.length ? apkArches.parse(values.arch, '--arch') : [];
  const repositories = values.repository;
  const sources = repositoriesFromOptions({
    indexes: values.index.map((url) => ({ url, aliases: [] })),
    keys: values.key,
    config: values.config,
    arches: () => arches,
  });
  const unknown = repositories.filter((r) => !sources.some((s) => s.name === r));
  if (unknown.length > 0)
    throw new ConfigError(
      `--repository ${unknown.join(',')}: no such repository (there are: ${sources.map((s) => s.name).join(', ')})`,
    );
  // --repository narrows what is read, not only the answer: the other repositories are not downloaded.
  const chosen = repositories.length ? sources.filter((s) => repositories.includes(s.name)) : sources;
  const loaded = await loadRepositoriesOnce(chosen, { warn: warner(io) });
  const map = new VersionMap(loaded.map((l) => l.snapshot));
  // A Map, never a plain object: a package called __proto__ is a name like any other.
  const out = new Map<string, RenovateBody | null>();
  for (const name of positionals) {
    const releases = map.releases(name, releaseFilter({ arches, repositories }));
    out.set(name, releases?.length ? toRenovateBody(releases) : null);
    // Why there is no answer, as the service says it, and the name meant when it is a near miss.
    if (!releases) io.stderr.write(`apk-indexer query: ${escapeControl(unknownName(name, map))}\n`);
    else if (releases.length === 0)
      io.stderr.write(
        `apk-indexer query: ${escapeControl(name)} has no version present on every ${arches.length ? `requested arch (${arches.join(',')})` : 'arch that holds it'}\n`,
      );
  }
  io.stdout.write(`${JSON.stringify(Object.fromEntries(out), null, 2)}\n`);
  return [...out.values()].includes(null) ? 1 : 0;
}

/** `bsh is not in any index read (did you mean bash?)`. */
function unknownName(name: string, map: VersionMap): string {
  const near = nearest(name, map.names(), Math.max(1, Math.floor(name.length / 3)));
  return `${name} is not in any index read${near === undefined ? '' : ` (did you mean ${near}?)`}`;
}
