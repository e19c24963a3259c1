import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Real Renovate for the end-to-end tests: not a dependency, installed once per test run by the global setup
 * (test/setup/global.ts) into a cache, before any worker starts.
 */
export const RENOVATE_VERSION = process.env.APK_INDEXER_RENOVATE_VERSION ?? '44.121.2';
export const RENOVATE_MAJOR = Number(RENOVATE_VERSION.split('.')[0]);

const cacheDir =
  process.env.APK_INDEXER_RENOVATE_DIR ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'apk-indexer', `renovate-${RENOVATE_VERSION}`);
export const renovateDir = join(cacheDir, 'node_modules', 'renovate');
export const renovateDist = join(renovateDir, 'dist');
export const renovateBin = join(renovateDist, 'renovate.js');
export const validatorBin = join(renovateDist, 'config-validator.js');

/** Runs `renovate --version` from `dir`'s install: ok when it prints `version`, else why not. */
function prove(dir: string, version = RENOVATE_VERSION): { ok: true } | { ok: false; why: string } {
  const bin = join(dir, 'node_modules', 'renovate', 'dist', 'renovate.js');
  if (!existsSync(bin)) return { ok: false, why: `${bin} is missing` };
  const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', timeout: 120_000 });
  const printed = r.stdout.trim();
  if (r.status === 0 && printed === version) return { ok: true };
  return { ok: false, why: `renovate --version exited ${r.status}: ${tail(`${r.stdout}${r.stderr}`)}` };
}

/**
 * Whether the install in `dir` can be reused: it must carry the marker written after it was proven, and still run.
 * Undefined when whole, else the reason it is not (then it is installed again).
 */
export function cachedInstall(dir: string, version = RENOVATE_VERSION): string | undefined {
  const mark = join(dir, '.proven');
  if (!existsSync(mark)) return existsSync(dir) ? 'never proven (an install cut short?)' : 'not installed';
  if (readFileSync(mark, 'utf8') !== version) return `proven for another version (${readFileSync(mark, 'utf8')})`;
  const proof = prove(dir, version);
  return proof.ok ? undefined : proof.why;
}

/** The last lines of a command's output, for an error message that shows the tool's own words. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Makes sure a whole, working Renovate is in the cache. A cached install counts only with its marker and a
 * successful `--version`; anything else is removed and installed again, into a temporary folder beside the cache
 * that is renamed into place once it has been proven, so a half-written install is never found by a later run.
 */
export async function installRenovate(log: (line: string) => void = () => {}): Promise<void> {
  const state = cachedInstall(cacheDir);
  if (state === undefined) return;
  if (existsSync(cacheDir)) log(`renovate cache ${cacheDir} is not usable (${state}): installing it again`);
  const temp = `${cacheDir}.partial-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  log(`installing renovate@${RENOVATE_VERSION} into ${cacheDir}`);
  const npm = await new Promise<{ code: number | null; output: string }>((resolve) => {
    execFile(
      'npm',
      ['install', '--prefix', temp, '--no-audit', '--no-fund', '--omit=optional', `renovate@${RENOVATE_VERSION}`],
      { timeout: 900_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err.code as number | undefined) ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
  if (npm.code !== 0) {
    await rm(temp, { recursive: true, force: true });
    throw new Error(`npm install renovate@${RENOVATE_VERSION} failed (exit ${npm.code}):\n${tail(npm.output)}`);
  }
  const proof = prove(temp);
  if (!proof.ok) {
    await rm(temp, { recursive: true, force: true });
    throw new Error(`renovate@${RENOVATE_VERSION} installed but does not run: ${proof.why}`);
  }
  await writeFile(join(temp, '.proven'), RENOVATE_VERSION);
  await mkdir(dirname(cacheDir), { recursive: true });
  await rm(cacheDir, { recursive: true, force: true });
  await rename(temp, cacheDir);
}

/**
 * Runs Renovate (or its config validator) and returns its output. When it fails, the error carries Renovate's own
 * last lines of output, not only "Command failed".
 */
export function runRenovate(
  bin: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeout ?? 300_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const why = err.killed ? `killed after ${options.timeout ?? 300_000} ms` : `exit ${String(err.code)}`;
        reject(new Error(`${bin.split('/').pop()} ${args.join(' ')} failed (${why}):\n${tail(`${stdout}${stderr}`)}`));
      },
    );
  });
}
