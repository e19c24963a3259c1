import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { scaffold, SCAFFOLD_DEFAULTS } from '../../src/generate/scaffold.js';
import { LOCK_AUTHOR, LOCK_BRANCH } from '../../src/generate/lock-ci.js';
import { gitlabCiErrors } from '../helpers/ci-schemas.js';

type Job = {
  script: string[];
  rules: { if: string; exists?: string[] }[];
  needs: string[];
  variables?: Record<string, string>;
};

let ci: Record<string, Job & Record<string, unknown>>;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'apk-lock-ci-'));
  const { files } = await scaffold({
    ...SCAFFOLD_DEFAULTS,
    apkIndexerSource: {
      repository: 'https://git.example.org/you/apk-indexer.git',
      tag: 'v0.1.0',
      expectedCommit: undefined,
      version: '0.1.0',
      from: 'test',
    },
  });
  ci = parse(files.find((f) => f.path === '.gitlab-ci.yml')!.content) as typeof ci;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the lock jobs init writes into .gitlab-ci.yml', () => {
  it("is valid for GitLab's own CI schema", () => {
    expect(gitlabCiErrors(ci)).toBe('');
  });

  it('gates merge requests, moves locks on Renovate merge requests, and proposes maintenance on the schedule', () => {
    const renovateMr =
      '$CI_PIPELINE_SOURCE == "merge_request_event" && $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME =~ /^renovate\\//';
    expect(ci.locks!.script).toEqual(['apk-indexer lock --check']);
    expect(ci.locks!.rules.map((r) => r.if)).toEqual([
      '$CI_PIPELINE_SOURCE == "merge_request_event" && $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME !~ /^renovate\\//',
      '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
    ]);
    expect(ci['lock-update']!.script).toEqual([
      'apk-indexer lock --update --markdown > lock-report.md',
      'cat lock-report.md',
    ]);
    expect(ci['lock-update']!.rules.map((r) => r.if)).toEqual([renovateMr]);
    expect(ci['lock-push']!.needs).toEqual(['lock-update']);
    expect(ci['lock-push']!.image).toBe('ghcr.io/renovatebot/renovate:44');
    expect(ci['lock-maintenance-mr']!.needs).toEqual(['lock-maintenance']);
    expect(ci['lock-maintenance']!.rules.map((r) => r.if)).toEqual([
      '$CI_PIPELINE_SOURCE == "schedule"',
      '$CI_PIPELINE_SOURCE == "web"',
    ]);
    // A tree without a lock has no lock jobs: every rule of every lock job asks for one.
    for (const name of ['locks', 'lock-update', 'lock-push', 'lock-maintenance', 'lock-maintenance-mr'])
      for (const rule of ci[name]!.rules) expect(rule.exists, `${name} ${rule.if}`).toEqual(['**/*.lock.json']);
    // The CLI jobs run the image the pipeline builds, once it is built.
    expect(ci.locks!.needs).toEqual(['apk-indexer-image']);
    expect((ci.renovate!.variables as Record<string, string>).RENOVATE_GIT_IGNORED_AUTHORS).toBe(LOCK_AUTHOR.email);
  });
});

/** A GitLab stand-in: a bare repository that records the push options it receives. */
function bareRepository(): { bare: string; options: () => string[] } {
  const bare = join(dir, `remote-${Math.random().toString(36).slice(2)}.git`);
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  execFileSync('git', ['-C', bare, 'config', 'receive.advertisePushOptions', 'true']);
  const log = join(bare, 'push-options.log');
  writeFileSync(
    join(bare, 'hooks', 'pre-receive'),
    `#!/bin/sh\ni=0\nwhile [ "$i" -lt "\${GIT_PUSH_OPTION_COUNT:-0}" ]; do eval "echo \\"\\$GIT_PUSH_OPTION_$i\\"" >> "${log}"; i=$((i+1)); done\n`,
  );
  chmodSync(join(bare, 'hooks', 'pre-receive'), 0o755);
  return { bare, options: () => readFileSync(log, 'utf8').trim().split('\n') };
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8' }).trim();

/** A clone of the remote at `branch`, as GitLab's runner checks a job out: detached at the commit. */
function checkout(bare: string, branch: string): string {
  const work = join(dir, `job-${Math.random().toString(36).slice(2)}`);
  execFileSync('git', ['clone', '--quiet', '--branch', branch, bare, work]);
  git(work, 'checkout', '--quiet', '--detach');
  return work;
}

/**
 * Runs a job's script as GitLab's shell would, with its variables and the pipeline's; asynchronously, so the API
 * stand-in in this process can answer it. Bounded in time.
 */
async function runJob(job: Job, cwd: string, env: Record<string, string>) {
  const child = spawn('bash', ['-c', job.script.join('\n')], {
    cwd,
    env: { PATH: process.env.PATH!, HOME: dir, ...job.variables, ...env },
    timeout: 30_000,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, out, err };
}

function seed(bare: string): string {
  const seedDir = join(dir, `seed-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(seedDir, 'apko'), { recursive: true });
  writeFileSync(join(seedDir, 'apko/host.yaml'), 'contents:\n  packages:\n    - curl=8.1.0-r0\n');
  writeFileSync(join(seedDir, 'apko/host.lock.json'), '{"old": true}\n');
  git(seedDir, 'init', '--quiet', '--initial-branch=main');
  git(seedDir, 'add', '.');
  git(seedDir, '-c', 'user.name=dev', '-c', 'user.email=dev@example.org', 'commit', '--quiet', '-m', 'seed');
  git(seedDir, 'push', '--quiet', bare, 'main');
  return seedDir;
}

describe('lock-push, on a Renovate merge request (against a local bare repository)', () => {
  it("commits the moved locks to the merge request's branch as the lock author, then nothing more", async () => {
    const { bare } = bareRepository();
    const seedDir = seed(bare);
    // Renovate's branch: the pin moved.
    git(seedDir, 'checkout', '--quiet', '-b', 'renovate/curl-8.x');
    writeFileSync(join(seedDir, 'apko/host.yaml'), 'contents:\n  packages:\n    - curl=8.2.0-r0\n');
    git(
      seedDir,
      '-c',
      'user.name=Renovate Bot',
      '-c',
      'user.email=bot@renovateapp.com',
      'commit',
      '--quiet',
      '-am',
      'Update curl',
    );
    git(seedDir, 'push', '--quiet', bare, 'renovate/curl-8.x');
    const env = { LOCK_PUSH_URL: bare, CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'renovate/curl-8.x' };

    const work = checkout(bare, 'renovate/curl-8.x');
    // lock-update's artifacts: the new lock and the report.
    writeFileSync(join(work, 'apko/host.lock.json'), '{"new": true}\n');
    writeFileSync(join(work, 'lock-report.md'), '## apko lock maintenance\n\nRebuild 1 image(s): `apko/host.yaml`.\n');
    const run = await runJob(ci['lock-push']!, work, env);
    // git push says where it pushed, on stderr.
    expect(run.err).toMatch(/^To .*\n {3}\w+\.\.\w+ +HEAD -> renovate\/curl-8\.x\n$/);
    expect(run.code).toBe(0);
    expect(git(bare, 'log', '--format=%an <%ae>|%s', '-2', 'renovate/curl-8.x').split('\n')).toEqual([
      `${LOCK_AUTHOR.name} <${LOCK_AUTHOR.email}>|Move apko locks with the pins`,
      'Renovate Bot <bot@renovateapp.com>|Update curl',
    ]);
    expect(git(bare, 'show', 'renovate/curl-8.x:apko/host.lock.json')).toBe('{"new": true}');
    expect(git(bare, 'show', '-s', '--format=%b', 'renovate/curl-8.x')).toBe(
      '## apko lock maintenance\n\nRebuild 1 image(s): `apko/host.yaml`.',
    );

    // The pipeline of that push: the locks are current, nothing is pushed.
    const again = checkout(bare, 'renovate/curl-8.x');
    writeFileSync(
      join(again, 'lock-report.md'),
      '## apko lock maintenance\n\nEvery lock is current: nothing to rebuild.\n',
    );
    const second = await runJob(ci['lock-push']!, again, env);
    expect(second).toMatchObject({ code: 0, out: 'the locks are current\n' });
    expect(git(bare, 'rev-list', '--count', 'renovate/curl-8.x')).toBe('3');
  });
});

describe('lock-maintenance-mr, on the schedule (a bare repository and a GitLab API stand-in)', () => {
  let api: Server;
  let apiUrl: string;
  const calls: { method: string; url: string; token: string | undefined; body: string }[] = [];
  beforeAll(async () => {
    api = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        calls.push({ method: req.method!, url: req.url!, token: req.headers['private-token'] as string, body });
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET') res.end(JSON.stringify([{ iid: 7 }]));
        else res.end('{}');
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/v4`;
  });
  afterAll(() => new Promise<void>((r) => api.close(() => r())));

  it('force-pushes the locks to its branch, opens the merge request by push options, and describes it with the report', async () => {
    const { bare, options } = bareRepository();
    seed(bare);
    const work = checkout(bare, 'main');
    const report =
      '## apko lock maintenance\n\nRebuild 1 image(s): `apko/host.yaml`.\n\n| arch | package | from | to | fixes |\n';
    writeFileSync(join(work, 'apko/host.lock.json'), '{"maintained": true}\n');
    writeFileSync(join(work, 'lock-report.md'), report);
    const env = {
      LOCK_PUSH_URL: bare,
      CI_DEFAULT_BRANCH: 'main',
      CI_API_V4_URL: apiUrl,
      CI_PROJECT_ID: '42',
      RENOVATE_TOKEN: 'glpat-test',
    };
    const run = await runJob(ci['lock-maintenance-mr']!, work, env);
    expect(run.err).toMatch(/^To .*\n \* \[new branch\] +HEAD -> apk-indexer\/lock-maintenance\n$/);
    expect(run.code).toBe(0);
    expect(git(bare, 'log', '--format=%an|%s', '-1', LOCK_BRANCH)).toBe(`${LOCK_AUTHOR.name}|Update apko locks`);
    expect(git(bare, 'show', `${LOCK_BRANCH}:apko/host.lock.json`)).toBe('{"maintained": true}');
    expect(options()).toEqual([
      'merge_request.create',
      'merge_request.target=main',
      'merge_request.title=Update apko locks',
      'merge_request.remove_source_branch',
    ]);
    expect(calls).toEqual([
      {
        method: 'GET',
        url: '/api/v4/projects/42/merge_requests?state=opened&source_branch=apk-indexer%2Flock-maintenance',
        token: 'glpat-test',
        body: '',
      },
      {
        method: 'PUT',
        url: '/api/v4/projects/42/merge_requests/7',
        token: 'glpat-test',
        body: JSON.stringify({ description: report }),
      },
    ]);

    // A later schedule with every lock current pushes nothing and leaves the merge request alone.
    calls.length = 0;
    const quiet = checkout(bare, 'main');
    writeFileSync(
      join(quiet, 'lock-report.md'),
      '## apko lock maintenance\n\nEvery lock is current: nothing to rebuild.\n',
    );
    expect(await runJob(ci['lock-maintenance-mr']!, quiet, env)).toMatchObject({
      code: 0,
      out: 'every lock is current\n',
    });
    expect(calls).toEqual([]);
  });
});
