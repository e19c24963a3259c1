import type { CommentedValue, YamlNote } from './yaml-doc.js';

/**
 * The CI that keeps apko locks in step without apko, beside Renovate (GitLab). apk-indexer's image computes the locks
 * (`apk-indexer lock`), and Renovate's official image, which has git, commits them:
 *
 * - `locks`: the gate on merge requests and the default branch: `apk-indexer lock --check` fails when a lock is stale.
 * - `lock-update` + `lock-push`, on a Renovate merge request: the locks re-resolved with its pins and committed to
 *   its branch as the lock author. Renovate names that author in `gitIgnoredAuthors`, so it keeps rebasing and
 *   updating its branch (and each new commit of its gets its locks again, from this pipeline); without it, Renovate
 *   would leave a branch alone once another author committed to it. The push starts a new pipeline, which finds the
 *   locks current and pushes nothing.
 * - `lock-maintenance` + `lock-maintenance-mr`, on the schedule: every lock re-resolved (`apk-indexer lock --update`),
 *   committed to one branch (force-pushed anew from the default branch each time) and proposed by
 *   `git push -o merge_request.create`; the merge request's description is then set to the report through GitLab's
 *   API (push options cannot carry a multi-line text).
 */
export const LOCK_AUTHOR = { name: 'apk-indexer lock', email: 'apk-indexer-lock@noreply.invalid' } as const;
export const LOCK_BRANCH = 'apk-indexer/lock-maintenance';
export const LOCK_REPORT = 'lock-report.md';

export interface LockJobsOptions {
  /** The apk-indexer image (with the CLI), as the `pins` job runs it. */
  image: string;
  /** Renovate's image, which has git and Node.js. */
  renovateImage: string;
  /** Jobs the apk-indexer image's jobs need first (the job that builds it, when the pipeline does). */
  needs: string[];
}

const RENOVATE_MR =
  '$CI_PIPELINE_SOURCE == "merge_request_event" && $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME =~ /^renovate\\//';
const OTHER_MR =
  '$CI_PIPELINE_SOURCE == "merge_request_event" && $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME !~ /^renovate\\//';
const SCHEDULED = [{ if: '$CI_PIPELINE_SOURCE == "schedule"' }, { if: '$CI_PIPELINE_SOURCE == "web"' }];

/**
 * Every lock job runs only where the tree has a lock: a tree without one has no lock jobs (rather than a gate that
 * fails on nothing checked, as `lock --check` does there). GitLab's `**` also matches the top folder.
 */
const LOCKS_EXIST = ['**/*.lock.json'];
const withLocks = (rules: ReadonlyArray<{ if: string }>) => rules.map((r) => ({ ...r, exists: [...LOCKS_EXIST] }));

/** The lock files and the report, handed from the job that computes them to the job that commits them. */
const HANDOVER = { paths: ['**/*.lock.json', LOCK_REPORT], expire_in: '1 day', when: 'always' } as const;

/** Git as the lock author, over HTTPS with the token Renovate already has (api and write_repository scopes). */
const GIT_VARIABLES = {
  GIT_AUTHOR_NAME: LOCK_AUTHOR.name,
  GIT_AUTHOR_EMAIL: LOCK_AUTHOR.email,
  GIT_COMMITTER_NAME: LOCK_AUTHOR.name,
  GIT_COMMITTER_EMAIL: LOCK_AUTHOR.email,
  LOCK_PUSH_URL:
    '${CI_SERVER_PROTOCOL}://oauth2:${RENOVATE_TOKEN}@${CI_SERVER_HOST}:${CI_SERVER_PORT}/${CI_PROJECT_PATH}.git',
};

/**
 * Commits the lock files the job before changed (its artifacts) to the merge request's branch. Nothing changed:
 * nothing pushed. A branch that moved meanwhile refuses the push; the pipeline of that newer commit locks it.
 */
export const PUSH_SCRIPT = `set -eu
git add --all -- '*.lock.json'
if git diff --cached --quiet; then echo "the locks are current"; exit 0; fi
git commit --quiet -m "Move apko locks with the pins" -m "$(cat ${LOCK_REPORT})"
git push "$LOCK_PUSH_URL" "HEAD:refs/heads/$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"
`;

/**
 * The maintenance merge request: the changed locks on LOCK_BRANCH, made anew from this commit of the default
 * branch, pushed with GitLab's push options to open (or update) the merge request, whose description is then set
 * to the report through the API.
 */
export const MAINTENANCE_SCRIPT = `set -eu
git checkout --quiet -B "${LOCK_BRANCH}"
git add --all -- '*.lock.json'
if git diff --cached --quiet; then echo "every lock is current"; exit 0; fi
git commit --quiet -m "Update apko locks" -m "$(cat ${LOCK_REPORT})"
git push --force -o merge_request.create -o "merge_request.target=$CI_DEFAULT_BRANCH" -o "merge_request.title=Update apko locks" -o merge_request.remove_source_branch "$LOCK_PUSH_URL" "HEAD:refs/heads/${LOCK_BRANCH}"
node -e '${describeMergeRequest()}'
`;

/** Node (in Renovate's image) sets the open merge request's description to the report. */
function describeMergeRequest(): string {
  return [
    'const fs = require("node:fs");',
    'const api = `${process.env.CI_API_V4_URL}/projects/${process.env.CI_PROJECT_ID}/merge_requests`;',
    'const headers = { "PRIVATE-TOKEN": process.env.RENOVATE_TOKEN, "content-type": "application/json" };',
    '(async () => {',
    `  const open = await (await fetch(\`\${api}?state=opened&source_branch=${encodeURIComponent(LOCK_BRANCH)}\`, { headers })).json();`,
    '  if (!Array.isArray(open) || open.length === 0) throw new Error("no open merge request for the lock branch");',
    `  const description = fs.readFileSync("${LOCK_REPORT}", "utf8");`,
    '  const r = await fetch(`${api}/${open[0].iid}`, { method: "PUT", headers, body: JSON.stringify({ description }) });',
    '  if (!r.ok) throw new Error(`setting the description: HTTP ${r.status}`);',
    '})().catch((e) => { console.error(e.message); process.exit(1); });',
  ].join('\n');
}

/** The lock jobs of `.gitlab-ci.yml`, and the comments that explain them. */
export function lockJobs(o: LockJobsOptions): { jobs: Record<string, unknown>; notes: YamlNote[] } {
  const cli = { name: o.image, entrypoint: [''] };
  const needs = o.needs;
  const shared: Record<string, unknown> = {
    locks: {
      stage: 'pins',
      image: cli,
      needs,
      script: ['apk-indexer lock --check'],
      rules: withLocks([{ if: OTHER_MR }, { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }]),
    },
    'lock-update': {
      stage: 'pins',
      image: cli,
      needs,
      script: [`apk-indexer lock --update --markdown > ${LOCK_REPORT}`, `cat ${LOCK_REPORT}`],
      artifacts: HANDOVER,
      rules: withLocks([{ if: RENOVATE_MR }]),
    },
    'lock-push': {
      stage: 'pins',
      image: o.renovateImage,
      needs: ['lock-update'],
      variables: GIT_VARIABLES,
      script: [PUSH_SCRIPT],
      rules: withLocks([{ if: RENOVATE_MR }]),
    },
    'lock-maintenance': {
      stage: 'pins',
      image: cli,
      needs,
      script: [`apk-indexer lock --update --markdown > ${LOCK_REPORT}`, `cat ${LOCK_REPORT}`],
      artifacts: HANDOVER,
      rules: withLocks(SCHEDULED),
    },
    'lock-maintenance-mr': {
      stage: 'pins',
      image: o.renovateImage,
      needs: ['lock-maintenance'],
      variables: GIT_VARIABLES,
      script: [MAINTENANCE_SCRIPT],
      rules: withLocks(SCHEDULED),
    },
  };
  // Each job its own objects: the YAML stays free of anchors and aliases.
  const jobs = Object.fromEntries(Object.entries(shared).map(([k, v]) => [k, structuredClone(v)]));
  const notes: YamlNote[] = [
    {
      path: ['locks'],
      text: 'The lock gate: fails when an apko lock (FILE.lock.json beside FILE) is stale. apk-indexer lock FILE writes one.',
    },
    {
      path: ['lock-update'],
      text: "On Renovate's merge requests: the locks re-resolved with its pins, handed to lock-push (no apko needed).",
    },
    {
      path: ['lock-push'],
      text: `Renovate's image has git: commits the locks to the merge request's branch as "${LOCK_AUTHOR.name}" with RENOVATE_TOKEN.\nRenovate ignores that author (gitIgnoredAuthors), so it goes on updating its branch.`,
    },
    {
      path: ['lock-maintenance'],
      text: 'On the schedule: every lock re-resolved; the report (moves, security fixes, images to rebuild) is the\nmerge request description.',
    },
    {
      path: ['lock-maintenance-mr'],
      text: `Pushes the locks to ${LOCK_BRANCH} (anew from the default branch each time), opens or updates its merge\nrequest with git push -o merge_request.create, and sets its description to the report through the API.`,
    },
  ];
  return { jobs, notes };
}

/**
 * `.gitlab-ci.yml` with the lock jobs: inserted after its `pins` job, and Renovate told to ignore the lock author
 * (`RENOVATE_GIT_IGNORED_AUTHORS`) so that it keeps managing branches the lock jobs committed to.
 */
export function withLockJobs(
  ci: CommentedValue<Record<string, unknown>>,
  o: LockJobsOptions,
): CommentedValue<Record<string, unknown>> {
  const { jobs, notes } = lockJobs(o);
  const value: Record<string, unknown> = {};
  for (const [key, job] of Object.entries(ci.value)) {
    if (key === 'renovate' && typeof job === 'object' && job !== null) {
      const renovate = job as { variables?: Record<string, string> };
      value[key] = {
        ...renovate,
        variables: { ...renovate.variables, RENOVATE_GIT_IGNORED_AUTHORS: LOCK_AUTHOR.email },
      };
    } else value[key] = job;
    if (key === 'pins') Object.assign(value, jobs);
  }
  if (!('pins' in ci.value)) Object.assign(value, jobs);
  return {
    ...ci,
    value,
    notes: [
      ...(ci.notes ?? []),
      ...notes,
      {
        path: ['renovate', 'variables', 'RENOVATE_GIT_IGNORED_AUTHORS'],
        text: 'Commits of the lock jobs do not stop Renovate from updating its branches.',
      },
    ],
  };
}
