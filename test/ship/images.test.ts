import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyArgs, dockerignore, execForm, stages, type Stage } from './dockerfile.js';
import { filesUnder, nodeMajorOf, read, readJson, readYaml, ROOT, VERSION } from './helpers.js';
import { apkoJsonSchema } from '../../src/apko/config-model.js';

const run = promisify(execFile);
const dockerfile = read('Dockerfile');
const all = stages(dockerfile);
const final = all.at(-1)!;
const ignored = dockerignore(read('.dockerignore'));
const apko = readYaml('apko.yaml');
const melange = readYaml('melange.yaml');
const pkg = readJson<{ version: string; engines: { node: string }; bin: Record<string, string> }>('package.json');

const argsOf = (stage: Stage, name: string) => stage.instructions.filter((i) => i.name === name).map((i) => i.args);
const stageNamed = (alias: string) => all.find((s) => s.alias === alias);

describe('Dockerfile', () => {
  it('is multi-stage, every stage on the same Node.js slim image', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(stageNamed('build')).toBeDefined();
    const majors = nodeMajorOf.dockerfile(dockerfile);
    expect(majors).toHaveLength(all.length);
    expect(new Set(majors).size).toBe(1);
    for (const s of all) expect(s.base).toMatch(/^node:\d+-slim$/);
  });

  it('uses an LTS line of Node.js that package.json allows', () => {
    const major = nodeMajorOf.dockerfile(dockerfile)[0]!;
    expect(major % 2, 'even majors are the LTS lines').toBe(0);
    const minimum = Number(/>=\s*(\d+)/.exec(pkg.engines.node)![1]);
    expect(major).toBeGreaterThanOrEqual(minimum);
  });

  it('builds with the dev dependencies, and runs with the production ones only, without install scripts', () => {
    const build = stageNamed('build')!;
    const buildRuns = argsOf(build, 'RUN').join('\n');
    expect(buildRuns).toMatch(/\bnpm ci\b/);
    expect(buildRuns).not.toContain('--omit=dev');
    expect(buildRuns).toMatch(/\bnpm run build\b/);
    // The production install: in the final stage itself, or in a stage whose node_modules the final stage copies.
    const copies = argsOf(final, 'COPY').map(copyArgs);
    const modules = copies.find((c) => c.sources.some((s) => /node_modules\/?$/.test(s)));
    const prodStage = modules?.flags.from ? stageNamed(modules.flags.from)! : final;
    const prodRuns = argsOf(prodStage, 'RUN').join('\n');
    expect(prodRuns).toMatch(/\bnpm ci\b[^\n]*--omit=dev/);
    expect(prodRuns).toMatch(/\bnpm ci\b[^\n]*--ignore-scripts/);
    expect(copies.some((c) => c.flags.from === 'build' && c.sources.some((s) => /\/dist\/?$/.test(s)))).toBe(true);
  });

  it('the runtime stage has what bin/apk-indexer.js needs: dist, node_modules, package.json, bin, config', () => {
    const dests = argsOf(final, 'COPY')
      .map(copyArgs)
      .map((c) => posix.normalize(c.dest).replace(/\/$/, ''));
    for (const need of ['dist', 'node_modules', 'bin', 'config']) expect(dests, need).toContain(need);
    expect(dests.some((d) => d === '.' || d === 'package.json')).toBe(true);
    // bin/apk-indexer.js checks the Node.js against package.json's engines, then loads the compiled CLI from dist/.
    expect(read(pkg.bin['apk-indexer']!)).toMatch(/import\('\.\.\/dist\//);
    expect(read('bin/node-version.js')).toContain("new URL('../package.json', import.meta.url)");
    expect(argsOf(final, 'WORKDIR')).toEqual(['/app']);
  });

  it('runs as a non-root user, by number', () => {
    const users = argsOf(final, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(Number(gid)).toBeGreaterThan(0);
    // Nothing after USER may need root.
    const afterUser = final.instructions.slice(final.instructions.findIndex((i) => i.name === 'USER'));
    expect(afterUser.filter((i) => ['RUN', 'COPY', 'ADD'].includes(i.name))).toEqual([]);
  });

  it('exposes 3000 and starts node directly: exec-form ENTRYPOINT and CMD serve', () => {
    expect(argsOf(final, 'EXPOSE')).toEqual(['3000']);
    const entrypoint = argsOf(final, 'ENTRYPOINT');
    expect(entrypoint).toHaveLength(1);
    expect(execForm(entrypoint[0]!)).toEqual(['node', pkg.bin['apk-indexer']]);
    expect(execForm(argsOf(final, 'CMD')[0]!)).toEqual(['serve']);
    expect(argsOf(final, 'ENV').join(' ')).toContain('NODE_ENV=production');
  });

  it('every file the build copies from the context exists and is not excluded by .dockerignore', () => {
    const sources = all.flatMap((s) =>
      argsOf(s, 'COPY')
        .map(copyArgs)
        .filter((c) => !c.flags.from)
        .flatMap((c) => c.sources),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      expect(ignored(source), `${source} is ignored by .dockerignore`).toBe(false);
    }
  });

  it('copies into the build stage every folder the TypeScript build compiles or imports', () => {
    const build = stageNamed('build')!;
    const copied = argsOf(build, 'COPY')
      .map(copyArgs)
      .flatMap((c) => c.sources.map((s) => s.replace(/\/$/, '')));
    const tsconfig = readJson<{ include: string[]; extends?: string }>('tsconfig.build.json');
    for (const folder of tsconfig.include) expect(copied, `tsconfig.build.json includes ${folder}`).toContain(folder);
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
      expect(copied).toContain(file);
    // Relative imports from src/ that leave src/ (e.g. ../../schemas/...) need their top-level folder too.
    const outside = new Set<string>();
    for (const file of filesUnder('src').filter((f) => f.endsWith('.ts'))) {
      for (const m of read(file).matchAll(/from '(\.\.?\/[^']+)'/g)) {
        const target = posix.normalize(posix.join(posix.dirname(file), m[1]!));
        const top = target.split('/')[0]!;
        if (top !== 'src' && top !== '..') outside.add(top);
      }
    }
    for (const top of outside) expect(copied, `src imports from ${top}/`).toContain(top);
  });

  it('.dockerignore keeps dependencies, build output, git metadata and signing keys out of the context', () => {
    for (const path of [
      'node_modules',
      'node_modules/yaml/package.json',
      'dist/src/cli/main.js',
      '.git/HEAD',
      'melange.rsa',
      'keys/own.rsa',
      'test/ship/images.test.ts',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
    for (const path of [
      'src/cli/main.ts',
      'package-lock.json',
      'bin/apk-indexer.js',
      'config/wolfi.yaml',
      'melange.rsa.pub',
    ]) {
      expect(ignored(path), path).toBe(false);
    }
  });

  describe('HEALTHCHECK', () => {
    const healthcheck = argsOf(final, 'HEALTHCHECK');
    const command = execForm(/\bCMD\s+(\[.*\])$/.exec(healthcheck[0] ?? '')?.[1] ?? '');
    let server: Server;
    let port = 0;
    let status = 200;
    beforeAll(async () => {
      server = createServer((req, res) => res.writeHead(req.url === '/livez' ? status : 404).end());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const probe = async (env: NodeJS.ProcessEnv) => {
      expect(command?.[0]).toBe('node');
      try {
        await run(process.execPath, command!.slice(1), { env: { ...process.env, ...env }, timeout: 10_000 });
        return 0;
      } catch (err) {
        return (err as { code: number }).code;
      }
    };

    it('is one exec-form command with an interval, a timeout and a start period', () => {
      expect(healthcheck).toHaveLength(1);
      expect(healthcheck[0]).toMatch(/--interval=\d+s/);
      expect(healthcheck[0]).toMatch(/--timeout=\d+s/);
      expect(healthcheck[0]).toMatch(/--start-period=\d+s/);
      expect(command).toBeDefined();
      expect(command!.join(' ')).toContain('/livez');
    });

    it('succeeds when /livez answers 200 on APK_INDEXER_PORT', async () => {
      status = 200;
      expect(await probe({ APK_INDEXER_PORT: String(port) })).toBe(0);
    });

    it('asks the management port when APK_INDEXER_MANAGEMENT_PORT is set', async () => {
      status = 200;
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const unused = (closed.address() as { port: number }).port;
      await new Promise<void>((r) => closed.close(() => r()));
      expect(await probe({ APK_INDEXER_PORT: String(unused), APK_INDEXER_MANAGEMENT_PORT: String(port) })).toBe(0);
    });

    it('fails when /livez answers an error', async () => {
      status = 503;
      expect(await probe({ APK_INDEXER_PORT: String(port) })).toBe(1);
    });

    it('fails when nothing listens', async () => {
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const unused = (closed.address() as { port: number }).port;
      await new Promise<void>((r) => closed.close(() => r()));
      expect(await probe({ APK_INDEXER_PORT: String(unused) })).toBe(1);
    });
  });
});

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
// apko's schema, from the project's one model of it (src/apko/config-model.ts); apko.yaml must say what it runs.
const apkoSchema = ajv.compile(
  apkoJsonSchema({ ImageConfiguration: ['contents', 'entrypoint'], ImageEntrypoint: ['command'] }),
);
const melangeSchema = ajv.compile(readJson('test/ship/schemas/melange-configuration.subset.schema.json'));

describe('apko.yaml', () => {
  it('validates against apko’s schema', () => {
    expect(apkoSchema(apko), ajv.errorsText(apkoSchema.errors)).toBe(true);
  });

  it('the schema rejects what apko rejects: unknown keys, a misspelt field', () => {
    expect(apkoSchema({ ...apko, arch: ['amd64'] })).toBe(false);
    expect(apkoSchema({ ...apko, entrypoint: { cmd: '/usr/bin/apk-indexer' } })).toBe(false);
    expect(apkoSchema({ ...apko, contents: { ...apko.contents, package: ['x'] } })).toBe(false);
  });

  it('builds for amd64 and arm64', () => {
    expect(apko.archs).toEqual(['amd64', 'arm64']);
  });

  it('runs as a non-root account it defines', () => {
    const runAs = apko.accounts['run-as'];
    const user = apko.accounts.users.find((u: any) => String(u.uid) === runAs || u.username === runAs);
    expect(user, `run-as ${runAs} is one of the users`).toBeDefined();
    expect(user.uid).toBeGreaterThan(0);
    expect(apko.accounts.groups.map((g: any) => g.gid)).toContain(user.gid);
  });

  it('installs this repository’s APK from the local melange output, and Node.js from Wolfi', () => {
    const packages: string[] = apko.contents.packages;
    expect(packages).toContain(`${melange.package.name}@local`);
    expect(apko.contents.repositories).toContain('@local ./packages');
    expect(apko.contents.repositories).toContain('https://packages.wolfi.dev/os');
    expect(apko.contents.keyring).toContain('https://packages.wolfi.dev/os/wolfi-signing.rsa.pub');
    expect(apko.contents.keyring.some((k: string) => k.endsWith('melange.rsa.pub'))).toBe(true);
    expect(packages).toContain('ca-certificates-bundle');
  });

  it('has the same Node.js line as the Dockerfile and the melange package', () => {
    const docker = nodeMajorOf.dockerfile(dockerfile)[0];
    expect(nodeMajorOf.packages(apko.contents.packages)).toEqual([docker]);
    expect(nodeMajorOf.packages(melange.package.dependencies.runtime)).toEqual([docker]);
    expect(nodeMajorOf.packages(melange.environment.contents.packages)).toEqual([docker]);
  });

  it('starts /usr/bin/apk-indexer serve, which the melange package installs', () => {
    expect(apko.entrypoint.command).toBe('/usr/bin/apk-indexer');
    expect(apko.cmd).toBe('serve');
    const install = melange.pipeline.map((p: any) => p.runs ?? '').join('\n');
    expect(install).toContain('"${{targets.contextdir}}/usr/bin/apk-indexer"');
  });
});

describe('melange.yaml', () => {
  it('validates against the subset of melange’s published schema', () => {
    expect(melangeSchema(melange), ajv.errorsText(melangeSchema.errors)).toBe(true);
  });

  it('the schema rejects what melange rejects: unknown keys, updates off without a reason', () => {
    expect(melangeSchema({ ...melange, packages: melange.package })).toBe(false);
    expect(melangeSchema({ ...melange, update: { enabled: false } })).toBe(false);
    expect(melangeSchema({ ...melange, pipeline: [{ run: 'make' }] })).toBe(false);
  });

  it('packages apk-indexer at package.json’s version', () => {
    expect(melange.package.name).toBe('apk-indexer');
    expect(melange.package.version).toBe(VERSION);
    expect(melange.package.copyright.map((c: any) => c.license)).toEqual([
      readJson<{ license: string }>('package.json').license,
    ]);
  });

  it('builds with npm ci, compiles, drops the dev dependencies, then installs', () => {
    const steps = melange.pipeline.map((p: any) => p.runs as string);
    const index = (re: RegExp) => steps.findIndex((s: string) => re.test(s));
    const ci = index(/\bnpm ci\b(?![^\n]*--omit=dev)/);
    const build = index(/\bnpm run build\b/);
    const prune = index(/\bnpm (?:prune|ci)\b[^\n]*--omit=dev/);
    const install = index(/\/usr\/lib\/apk-indexer/);
    expect([ci, build, prune, install].every((i) => i >= 0)).toBe(true);
    expect(ci < build && build < prune && prune < install).toBe(true);
    expect(melange.environment.contents.packages).toEqual(expect.arrayContaining(['npm', 'busybox']));
  });

  describe('the install step, run on a stand-in workspace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'apk-indexer-melange-'));
    const workspace = join(dir, 'workspace');
    const dest = join(dir, 'dest');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const installStep = melange.pipeline.find((p: any) => /\/usr\/lib\/apk-indexer/.test(p.runs ?? '')).runs as string;

    beforeAll(async () => {
      const files: Record<string, string> = {
        'package.json': '{"name":"apk-indexer","type":"module"}',
        'bin/apk-indexer.js': 'console.log(JSON.stringify(process.argv.slice(2)));\n',
        'dist/src/cli/main.js': 'export {};\n',
        'config/wolfi.yaml': 'repositories: []\n',
        'node_modules/yaml/package.json': '{}',
        'src/index.ts': 'not packaged',
      };
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(workspace, path)), { recursive: true });
        writeFileSync(join(workspace, path), content);
      }
      await run('sh', ['-e', '-c', installStep.replaceAll('${{targets.contextdir}}', dest)], { cwd: workspace });
    });

    it('installs the runtime files into /usr/lib/apk-indexer, and no sources', () => {
      for (const path of [
        'package.json',
        'bin/apk-indexer.js',
        'dist/src/cli/main.js',
        'config/wolfi.yaml',
        'node_modules/yaml/package.json',
      ]) {
        expect(existsSync(join(dest, 'usr/lib/apk-indexer', path)), path).toBe(true);
      }
      expect(existsSync(join(dest, 'usr/lib/apk-indexer/src'))).toBe(false);
    });

    it('writes an executable /usr/bin/apk-indexer that execs node with every argument intact', async () => {
      const wrapper = join(dest, 'usr/bin/apk-indexer');
      const text = readFileSync(wrapper, 'utf8');
      expect(text.startsWith('#!/bin/sh\n')).toBe(true);
      expect(text).toContain('exec /usr/bin/node /usr/lib/apk-indexer/bin/apk-indexer.js "$@"');
      expect(
        execFileSync('sh', ['-c', `test -x '${wrapper}' && echo yes`])
          .toString()
          .trim(),
      ).toBe('yes');
      // The same script pointed at this machine's node and the stand-in install.
      const local = join(dir, 'apk-indexer-local');
      writeFileSync(
        local,
        text
          .replace('/usr/bin/node', process.execPath)
          .replace('/usr/lib/apk-indexer', join(dest, 'usr/lib/apk-indexer')),
      );
      chmodSync(local, 0o755);
      const args = ['serve', 'two words', '"quoted"', '$HOME', '--config=/a b.yaml'];
      const { stdout } = await run(local, args);
      expect(JSON.parse(stdout)).toEqual(args);
    });
  });

  const cli = join(ROOT, 'dist/src/cli/main.js');
  it.skipIf(!existsSync(cli))(
    'its test pipeline passes against this repository’s CLI (needs dist/: npm run build)',
    async () => {
      const bin = mkdtempSync(join(tmpdir(), 'apk-indexer-bin-'));
      try {
        writeFileSync(
          join(bin, 'apk-indexer'),
          `#!/bin/sh\nexec '${process.execPath}' '${join(ROOT, 'bin/apk-indexer.js')}' "$@"\n`,
        );
        chmodSync(join(bin, 'apk-indexer'), 0o755);
        for (const step of melange.test.pipeline) {
          const { stdout } = await run('sh', ['-e', '-c', step.runs], {
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
          });
          expect(stdout).toContain(VERSION);
        }
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    },
  );
});
