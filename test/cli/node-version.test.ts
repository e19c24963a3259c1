import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, ensureBuilt } from '../helpers/cli-process.js';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};
const { nodeProblem } = (await import(pathToFileURL(join(ROOT, 'bin/node-version.js')).href)) as {
  nodeProblem: (version?: string, where?: string) => string | undefined;
};

/** The machine's own Node.js (Debian's, v20 on the CI machines), when it is one apk-indexer does not support. */
const machineNode = ['/usr/bin/node', '/usr/local/bin/node'].find(
  (path) =>
    existsSync(path) &&
    nodeProblem(execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()) !== undefined,
);
const machineVersion =
  machineNode && execFileSync(machineNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();

describe('the Node.js check', () => {
  it('reads the bound from package.json engines, and says which Node is needed and which was found', () => {
    expect(pkg.engines.node).toBe('>=22.19.0');
    for (const ok of ['22.19.0', '22.19.1', '22.20.0', '23.0.0', '24.11.1', '26.1.0', 'v24.0.0'])
      expect(nodeProblem(ok, '/x/node'), ok).toBeUndefined();
    for (const old of ['22.18.9', '22.9.0', '21.99.99', '20.20.2', '18.19.0'])
      expect(nodeProblem(old, '/usr/bin/node'), old).toBe(
        `apk-indexer: needs Node.js >=22.19.0, found v${old} (/usr/bin/node); README.md, "Node.js", says how to get one`,
      );
  });

  describe.skipIf(machineNode === undefined)(
    `run directly on the machine's Node.js (${machineNode} v${machineVersion})`,
    () => {
      it.each([
        [[]],
        [['--help']],
        [['--version']],
        [['serve']],
        [['serve', '--bogus']],
        [['query', 'bash', '--index', 'https://packages.wolfi.dev/os']],
        [['vercmp', '1.0', '2.0']],
        [['init', 'site']],
        [['gen', 'renovate']],
        [['pin', '--check']],
        [['check', '--help']],
        [['-apk-index-url', 'x']],
        [['nosuchcommand']],
      ])('apk-indexer %j: one line naming both Nodes, exit 2, nothing on stdout', (args) => {
        ensureBuilt();
        const run = spawnSync(machineNode!, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(
          `apk-indexer: needs Node.js >=22.19.0, found v${machineVersion} (${machineNode}); README.md, "Node.js", says how to get one\n`,
        );
        expect(run.status).toBe(2);
      });
    },
  );

  it('on a supported Node.js the command runs', () => {
    ensureBuilt();
    const run = spawnSync(process.execPath, [bin, 'vercmp', '1.0', '2.0'], { encoding: 'utf8' });
    expect([run.status, run.stdout, run.stderr]).toEqual([0, '<\n', '']);
  });
});

describe('the npm scripts that run apk-indexer or its tests', () => {
  it('run it through scripts/with-node.sh', () => {
    for (const name of ['start', 'test', 'bench', 'bench:hostile', 'docs:generate']) {
      const script = pkg.scripts[name]!;
      // Every step that needs a supported Node (node, vitest) is behind the wrapper; npm and tsc run on any.
      for (const step of script.split('&&').map((s) => s.trim()))
        if (/^(node|vitest)\b/.test(step) || /\b(node|vitest) /.test(step))
          expect(step.startsWith('sh scripts/with-node.sh '), `${name}: ${step}`).toBe(true);
    }
    expect(pkg.scripts.start).toBe('sh scripts/with-node.sh node bin/apk-indexer.js serve');
  });

  /**
   * A copy of the package whose .ci/node.sh stands for the npm registry download: it prints a folder holding this
   * test's own (supported) Node as `node`, so the wrapper's choice is seen without reaching the network.
   */
  const stage = mkdtempSync(join(tmpdir(), 'apk-indexer-with-node-'));
  afterAll(() => rmSync(stage, { recursive: true, force: true }));
  const supported = join(stage, 'supported-node');
  mkdirSync(supported);
  symlinkSync(process.execPath, join(supported, 'node'));
  for (const path of ['package.json', 'bin', 'scripts/with-node.sh'])
    cpSync(join(ROOT, path), join(stage, path), { recursive: true });
  symlinkSync(join(ROOT, 'dist'), join(stage, 'dist'));
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'));
  mkdirSync(join(stage, '.ci'));
  writeFileSync(join(stage, '.ci/node.sh'), `#!/usr/bin/env bash\n[ "$1" = 24 ] && echo '${supported}'\n`);
  chmodSync(join(stage, '.ci/node.sh'), 0o755);

  it('keep a supported node that is first on PATH', () => {
    const run = spawnSync('sh', [join(stage, 'scripts/with-node.sh'), 'node', '-p', 'process.execPath'], {
      encoding: 'utf8',
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
    });
    expect([run.status, run.stdout.trim(), run.stderr]).toEqual([0, process.execPath, '']);
  });

  it.skipIf(machineNode === undefined)(
    "npm start on the machine's older Node.js runs the service on the Node that .ci/node.sh installs",
    () => {
      ensureBuilt();
      // npm itself on the machine's Node (the stock machine's PATH), as `npm ci && npm start` runs there.
      const run = spawnSync('npm', ['start', '--', '--help'], {
        cwd: stage,
        encoding: 'utf8',
        env: { PATH: `${dirname(machineNode!)}:/usr/bin:/bin`, HOME: process.env.HOME ?? stage },
        timeout: 60_000,
      });
      expect(run.stderr).toContain(
        `with-node: node v${machineVersion} is older than apk-indexer needs; using ${process.version} from ${supported}\n`,
      );
      expect(run.stdout).toContain('usage: apk-indexer serve');
      expect(run.status).toBe(0);
    },
  );
});
