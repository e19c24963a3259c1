import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileConstraints } from '../../apko/tree.js';
import { checkTree, dedupeFindings, type Finding } from '../../generate/check.js';
import { checkDockerfile } from '../../generate/check-dockerfile.js';
import { EXIT, UsageError, UserError } from '../../errors.js';
import { resolveInstallSets } from '../../generate/install-set.js';
import { flag } from '../../core/flags.js';
import { GATE_FLAGS, SOURCE_FLAGS, TREE_FLAGS } from '../../generate/command-options.js';
import { localPackageNames } from '../../generate/local-packages.js';
import {
  CONFIG_FILE_NAMES,
  findRenovateConfigs,
  RenovateManagers,
  strayRenovateFiles,
} from '../../generate/renovate-match.js';
import { defineCommand } from '../command.js';
import { formatFindings } from '../findings.js';
import { uncheckedGate, uncheckedLine } from '../gate.js';
import { styleOf } from '../terminal.js';
import { openImageTree } from '../image-tree.js';

export const command = defineCommand({
  name: 'check',
  summary: 'lint apko files and Dockerfiles against the indexes: packages, pins, bootc, includes, Renovate',
  usage: ['[FILE...] (--index SRC... | --config FILE | --server URL)'],
  about: `Lints apko files as apko reads them and prints what it found, one line per cause: each error, and
warnings of one kind (stale pins, entries not checked) once with the files they cover (--verbose: every
finding). Each image is judged from its own
repositories (its include chain's, plus --repository-append) on the arches it builds for: a key
apko refuses, a package or pin missing on an arch, a constraint no version satisfies, duplicate or
conflicting pins, what \`apko build\` would fail on resolving the install set per arch (a dependency
nothing provides, no version on every arch), a bootc image missing what bootc needs (counted after
dependencies), a lock file whose config checksum no longer matches, an include that does not
resolve, a pin no Renovate manager in renovate.json would find. Stale pins are warnings
(\`apk-indexer pin --check\` is the gate for those). A repository no index was given for makes its
images' entries "not checked", never judged from another repository. The RUN apk add packages of
Dockerfiles and Containerfiles are judged for the image each stage builds on (see pin --help).

Without FILE, every apko file and Dockerfile under the directory (any folder). A named file is still
judged for every image of the tree that includes it.`,
  flags: {
    renovate: flag.one({
      names: ['--renovate'],
      value: 'FILE',
      doc: 'the Renovate config pins must be tracked by. Each pin is reported with the URL Renovate asks for it and whether the update it proposes from that answer is the one pin --check wants.',
      defaultText:
        'the one Renovate reads: renovate.json(c/5), .github/ or .gitlab/ ones, .renovaterc(.json), package.json',
    }),
    melange: flag.one({
      names: ['--melange'],
      value: 'DIR',
      doc: 'melange recipes built here, whose packages are not in the indexes until published.',
      defaultText: 'melange',
    }),
    json: flag.switch({
      names: ['--json'],
      doc: "print every finding (a vulnerable pin's with the security IDs a newer version fixes) as JSON.",
    }),
    verbose: flag.switch({
      names: ['--verbose', '-v'],
      doc: 'list every finding on its own line, instead of one line per cause with the files it covers.',
    }),
    ...GATE_FLAGS,
    ...SOURCE_FLAGS,
    ...TREE_FLAGS,
  },
  exits: `0 no errors, 1 errors found, 2 a usage error or an index that could not be read, 3 no errors but
entries not checked: an image's repository had no data (no index given for it, or none for one of its arches) and
was not named with --allow-unchecked.`,
  run: async (args, io) => {
    const { values } = args;
    const { root, fallbackArches, tree, dockerfiles, source } = await openImageTree(args, io, {
      dependencies: true,
      // A mistyped --melange is a usage mistake, reported before the indexes are read.
      precheck: (at) => {
        if (values.melange !== undefined && !existsSync(resolve(at, values.melange)))
          throw new UsageError(`--melange ${values.melange}: no such folder`);
      },
    });
    const findings: Finding[] = dockerfiles.failures.map((message) => ({
      severity: 'error' as const,
      location: message.slice(0, message.indexOf(': ')),
      subject: '-',
      message: message.slice(message.indexOf(': ') + 2),
    }));
    const renovate = await loadRenovate(root, values.renovate, findings);
    const constraints = fileConstraints(tree, fallbackArches);
    const melangeDir = resolve(root, values.melange ?? 'melange');
    const localPackages = await localPackageNames(melangeDir);
    const context = {
      source,
      constraints,
      localPackages,
      renovate,
      installSets: resolveInstallSets(tree.images, constraints, source, localPackages),
      texts: new Map([
        ...tree.images.flatMap((image) => image.chain.map((f) => [f.path, f.text] as const)),
        ...dockerfiles.files.map((d) => [d.file.path, d.file.text] as const),
      ]),
    };
    if (!context.installSets)
      findings.push({
        severity: 'warning',
        location: '-',
        subject: '-',
        message:
          'install sets not resolved: --server holds no dependency data (pass --index or --config to resolve them as apko does)',
      });
    findings.push(...(await checkTree(tree, context)));
    for (const d of dockerfiles.files) findings.push(...(await checkDockerfile(d, context)));
    const unique = dedupeFindings(findings);
    // --json: every finding, a vulnerable pin's with its `ids`, for scripts.
    io.stdout.write(
      values.json
        ? `${JSON.stringify(
            unique.map((f) => ({ ...f, ids: f.ids ?? [] })),
            null,
            2,
          )}\n`
        : formatFindings(unique, styleOf(io.stdout), values.verbose),
    );
    const gate = uncheckedGate(
      unique.flatMap((f) => (f.unchecked ? [f.unchecked] : [])),
      values.allowUnchecked,
      root,
    );
    if (!values.json && gate.failing > 0) io.stderr.write(`${uncheckedLine(gate)}\n`);
    return unique.some((f) => f.severity === 'error') ? EXIT.found : gate.failing > 0 ? EXIT.unchecked : EXIT.ok;
  },
});

/**
 * Renovate's config, found where Renovate finds it (renovate.json, renovate.json5, .github/ and .gitlab/ variants,
 * .renovaterc, package.json's `renovate`) unless named; none found is a warning, an unreadable one an error.
 */
async function loadRenovate(
  root: string,
  named: string | undefined,
  findings: Finding[],
): Promise<RenovateManagers | undefined> {
  const found = await findRenovateConfigs(root);
  const location = named ?? found[0];
  // Renovate reads one config file: the others it finds are ignored, and some names it never reads at all.
  for (const ignored of found.filter((f) => f !== found[0]))
    findings.push({
      severity: 'warning',
      location: ignored,
      subject: '-',
      message: `Renovate ignores this file: it reads ${found[0]} (the first of its config file names it finds)`,
    });
  for (const stray of await strayRenovateFiles(root))
    findings.push({
      severity: 'warning',
      location: stray,
      subject: '-',
      message: `Renovate never reads a config by this name (it reads ${CONFIG_FILE_NAMES.slice(0, 3).join(', ')}, ...)`,
    });
  if (location === undefined) {
    findings.push({
      severity: 'warning',
      location: 'renovate.json',
      subject: '-',
      message: `no Renovate config (${CONFIG_FILE_NAMES.join(', ')}): no pin is kept fresh by Renovate`,
    });
    return undefined;
  }
  try {
    const managers = await RenovateManagers.load(resolve(root, location), location);
    for (const warning of managers.warnings)
      findings.push({ severity: 'warning', location, subject: '-', message: warning });
    return managers;
  } catch (err) {
    // A config Renovate would refuse is a finding; a bug of ours is not disguised as one.
    if (!(err instanceof UserError)) throw err;
    findings.push({ severity: 'error', location, subject: '-', message: err.message });
    return undefined;
  }
}
