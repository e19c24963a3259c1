import { resolve } from 'node:path';
import { checkImages, dedupeFindings, formatFindings, type Finding } from '../../generate/check.js';
import { SOURCE_HELP, TREE_HELP } from '../../generate/command-options.js';
import { localPackageNames } from '../../generate/local-packages.js';
import { CONFIG_FILE_NAMES, findRenovateConfig, RenovateManagers } from '../../generate/renovate-match.js';
import { runOnImageTree } from '../image-tree.js';
import type { CliIO } from '../io.js';

const HELP = `usage: apk-indexer check [FILE...] (--index SRC... | --config FILE | --server URL)

Lints apko files (with their includes) against the indexes and prints a table: a package missing
on one of the file's archs, a pin to a version that does not exist there, a bootc image missing a
required package, key or annotation, an include that does not resolve (apko resolves include:
against its working directory, not the including file), a pin no Renovate manager in renovate.json
would find. Stale pins are warnings (\`apk-indexer pin --check\` is the gate for those).
Without FILE, every apko file of the tree (YAML with contents: or include:; files only
included by others are judged through their includers).

  --renovate FILE  the Renovate config pins must be tracked by (default: the one Renovate reads:
                   renovate.json(c/5), .github/ or .gitlab/ ones, .renovaterc(.json), package.json).
                   Each pin is reported with the URL Renovate asks for it and whether the update it
                   proposes from that answer is the one pin --check wants.
  --melange DIR    melange recipes built here, whose packages are not in the indexes until
                   published (default: melange).
${SOURCE_HELP}
${TREE_HELP}

Exit status: 0 no errors, 1 errors found, 2 a usage error or an index that could not be read.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const options = { renovate: { type: 'string' }, melange: { type: 'string' }, json: { type: 'boolean' } } as const;
  return runOnImageTree('check', HELP, options, args, io, async ({ values, root, fallbackArches, images, failures, source }) => {
    const findings: Finding[] = failures.map((f) => ({ severity: 'error', location: f.line ? `${f.file}:${f.line}` : f.file, subject: '-', message: f.detail }));
    const renovate = await loadRenovate(root, values.renovate, findings);
    const texts = new Map(images.flatMap((image) => image.chain.map((f) => [f.path, f.text] as const)));
    const context = {
      source,
      fallbackArches: fallbackArches.length > 0 ? fallbackArches : [...(source.arches ?? [])],
      localPackages: await localPackageNames(resolve(root, values.melange ?? 'melange')),
      renovate,
      texts,
    };
    findings.push(...(await checkImages(images, context)));
    const unique = dedupeFindings(findings);
    // --json: every finding, a vulnerable pin's with its `ids`, for scripts.
    io.stdout.write(values.json ? `${JSON.stringify(unique.map((f) => ({ ...f, ids: f.ids ?? [] })), null, 2)}\n` : formatFindings(unique));
    return unique.some((f) => f.severity === 'error') ? 1 : 0;
  });
}

/**
 * Renovate's config, found where Renovate finds it (renovate.json, renovate.json5, .github/ and .gitlab/ variants,
 * .renovaterc, package.json's `renovate`) unless named; none found is a warning, an unreadable one an error.
 */
async function loadRenovate(root: string, named: string | undefined, findings: Finding[]): Promise<RenovateManagers | undefined> {
  const location = named ?? (await findRenovateConfig(root));
  if (location === undefined) {
    findings.push({ severity: 'warning', location: 'renovate.json', subject: '-', message: `no Renovate config (${CONFIG_FILE_NAMES.join(', ')}): no pin is kept fresh by Renovate` });
    return undefined;
  }
  try {
    const managers = await RenovateManagers.load(resolve(root, location), location);
    for (const warning of managers.warnings) findings.push({ severity: 'warning', location, subject: '-', message: warning });
    return managers;
  } catch (err) {
    findings.push({ severity: 'error', location, subject: '-', message: (err as Error).message });
    return undefined;
  }
}
