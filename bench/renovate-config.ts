/**
 * Checks what `apk-indexer init` writes for Renovate with installed Renovate packages (see renovate-probe.ts):
 * Renovate's own `renovate-config-validator --strict` on the form meant for that Renovate, and its regex manager
 * on every scaffolded apko file, against what `apk-indexer check` believes Renovate extracts.
 *
 *   npm run build:bench && node dist-bench/bench/renovate-config.js /tmp/renovate-probe/node_modules/renovate [more...]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CURRENT_FORM_SINCE_MAJOR, DATASOURCE_NAME } from '../src/generate/renovate.js';
import { RenovateManagers } from '../src/generate/renovate-match.js';
import { scaffold, SCAFFOLD_DEFAULTS } from '../src/generate/scaffold.js';
import type { VersionSource } from '../src/generate/version-source.js';
import { installedRenovate, renovateDirs } from './renovate-probe.js';

interface ExtractedDep {
  depName?: string;
  currentValue?: string;
  datasource?: string;
}

/** Every package is known at 1.0.0-r0, so init pins the first package of every image. */
const everything: VersionSource = {
  held: [],
  versions: async () => ['1.0.0-r0'],
  answer: async () => ['1.0.0-r0'],
  dependencies: () => undefined,
};
/** Renovate reads no melange recipe: any source will do. */
const source = {
  repository: 'https://git.example.org/apk-indexer.git',
  tag: 'v0.1.0',
  expectedCommit: undefined,
  version: '0.1.0',
  from: 'the benchmark',
};

for (const dir of renovateDirs('renovate-config')) {
  const renovate = installedRenovate(dir);
  const work = await mkdtemp(join(tmpdir(), 'apk-renovate-config-'));
  try {
    const { files } = await scaffold(
      { ...SCAFFOLD_DEFAULTS, renovateMajor: renovate.major, apkIndexerSource: source },
      everything,
    );
    for (const file of files) {
      await mkdir(dirname(join(work, file.path)), { recursive: true });
      await writeFile(join(work, file.path), file.content);
    }
    const form = renovate.major >= CURRENT_FORM_SINCE_MAJOR ? 'current form' : 'older form';
    console.log(`\nRenovate ${renovate.version}, renovate.json in the ${form}`);
    console.log(`  renovate-config-validator --strict: ${await validate(renovate.dir, work)}`);

    const config = JSON.parse(files.find((f) => f.path === 'renovate.json')!.content) as {
      customManagers: Record<string, unknown>[];
    };
    const managers = RenovateManagers.from(config, 'renovate.json');
    const regex = await renovate.load<{
      extractPackageFile(content: string, file: string, config: unknown): Promise<{ deps: ExtractedDep[] } | null>;
    }>('modules/manager/custom/regex/index.js');
    let agree = 0;
    const differences: string[] = [];
    for (const file of files.filter((f) => f.path.startsWith('apko/'))) {
      const theirs = (await regex.extractPackageFile(file.content, file.path, config.customManagers[0]))?.deps ?? [];
      const ours = managers.extract(file.path, file.content);
      const a = theirs.map((d) => `${d.depName}=${d.currentValue} (${d.datasource})`).sort();
      const b = ours.map((d) => `${d.depName}=${d.currentValue} (custom.${DATASOURCE_NAME})`).sort();
      if (a.join() === b.join()) agree += a.length;
      else differences.push(`${file.path}: Renovate [${a.join(', ')}], check [${b.join(', ')}]`);
    }
    console.log(
      `  regex manager on the apko files: ${agree} pins extracted alike${differences.length ? `; differences:\n    ${differences.join('\n    ')}` : ', no difference'}`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function validate(renovateDir: string, cwd: string): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, [join(renovateDir, 'dist/config-validator.js'), '--strict'], {
      cwd,
      env: { ...process.env, LOG_LEVEL: 'info' },
    });
    return 'valid';
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}`;
    return `INVALID\n${out
      .split('\n')
      .filter((l) => /ERROR|WARN|message/.test(l))
      .join('\n')}`;
  }
}
