import { toRenovateBody, type RenovateBody } from '../../datasource/renovate-body.js';
import { ConfigError, UsageError } from '../../errors.js';
import { loadRepositoriesOnce, repositoriesFromOptions } from '../../config/repository-source.js';
import { VersionMap } from '../../index/version-map.js';
import { releaseFilter } from '../../datasource/filter.js';
import { flag, type FlagValues, type ParsedArgs } from '../../core/flags.js';
import { defineCommand } from '../command.js';
import type { CliIO } from '../io.js';

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
    doc: "trusted public key (path or URL), matched to signatures by file name as apk does; for every --index, and added to each --config repository's keys. With keys, unsigned or badly signed indexes are refused; without, a warning is printed.",
  }),
  arch: flag.list({
    names: ['--arch'],
    value: 'a,b',
    doc: 'arches to read from --index base URLs (default x86_64); versions are kept only when present on every listed arch. Without it, as the service answers without ?arch=: versions present on every arch of the repository that holds the name.',
  }),
  repository: flag.list({
    names: ['--repository'],
    value: 'NAME',
    doc: 'answer only from these repositories (a --config name; an --index is named by its URL). Repeat or a,b.',
  }),
};

export const command = defineCommand({
  name: 'query',
  summary: 'print the Renovate datasource answer for packages, straight from indexes',
  usage: ['NAME... (--index SRC... | --config FILE) [--key KEY...] [--arch a,b] [--repository NAME...]'],
  about: `Prints one JSON object mapping each NAME to the Renovate custom-datasource body the service answers
for it, or to null when no index holds the package.`,
  flags: FLAGS,
  exits: '0 all found, 1 some package unknown, 2 an index could not be read or verified.',
  run,
});

/** Usage mistakes and unreadable indexes are thrown: main reports them (exit 2). */
async function run(args: ParsedArgs<FlagValues<typeof FLAGS>>, io: CliIO): Promise<number> {
  const { values, positionals } = args;
  if (positionals.length === 0) throw new UsageError('name at least one package');
  if (!values.index.length && values.config === undefined) throw new UsageError('pass --index SRC or --config FILE');
  const arches = values.arch;
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
  const loaded = await loadRepositoriesOnce(sources, { warn: (m) => io.stderr.write(`warning: ${m}\n`) });
  const map = new VersionMap(loaded.map((l) => l.snapshot));
  const out: Record<string, RenovateBody | null> = {};
  let missing = false;
  for (const name of positionals) {
    const releases = map.releases(name, releaseFilter({ arches, repositories }));
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
