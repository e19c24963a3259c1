import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import type { ToolPackage } from '../core/version.js';
import { isValidVersion } from '../index/version.js';
import { UsageError, UserError } from '../errors.js';

/**
 * Where melange/apk-indexer.yaml checks this tool's source out from (melange's `git-checkout` pipeline): a clone
 * URL without credentials, a tag, the commit the tag must point to when known, and the package version.
 */
export interface ApkIndexerSource {
  repository: string;
  tag: string;
  expectedCommit: string | undefined;
  /** package.version: the tag without its `v` when the tag is a version, else the running tool's version. */
  version: string;
  /** Where each part came from, one line for init's output. */
  from: string;
}

export interface ApkIndexerSourceFlags {
  source?: string | undefined;
  ref?: string | undefined;
  commit?: string | undefined;
}

export const SOURCE_FLAG = '--apk-indexer-source';
export const REF_FLAG = '--apk-indexer-ref';
export const COMMIT_FLAG = '--apk-indexer-commit';

/**
 * The source of the apk-indexer package `init` writes a recipe for: the flags first; then package.json's
 * `repository`; then the git checkout this tool runs from (its `origin` remote, the tag at HEAD, HEAD's commit).
 * Nothing known is an error naming the flag to pass, never a recipe that cannot build.
 */
export function resolveApkIndexerSource(
  flags: ApkIndexerSourceFlags,
  tool: ToolPackage,
  warn: (m: string) => void,
): ApkIndexerSource {
  const checkout = tool.root === undefined ? undefined : gitCheckout(tool.root);
  const from: string[] = [];

  let repository: string | undefined;
  let why: string;
  if (flags.source !== undefined) {
    repository = flagUrl(flags.source, warn);
    from.push(SOURCE_FLAG);
  } else if (hasRepository(tool)) {
    const url = packageRepositoryUrl(tool.repository);
    if (url === undefined)
      throw new UserError(
        'usage',
        `package.json of this apk-indexer (${tool.root}) has a repository field that is no git URL; pass ${SOURCE_FLAG} GIT_URL`,
      );
    repository = remoteUrl(url, 'package.json repository', warn);
    if (repository === undefined)
      throw new UserError(
        'usage',
        `package.json repository ${url} is a local path, which melange's build cannot clone; pass ${SOURCE_FLAG} GIT_URL`,
      );
    from.push('package.json repository');
  } else if (checkout?.origin !== undefined) {
    repository = remoteUrl(checkout.origin, `the origin remote of ${checkout.root}`, warn);
    from.push(`the origin remote of ${checkout.root}`);
  }
  if (repository === undefined) {
    if (checkout === undefined)
      why = `this apk-indexer (${tool.root ?? 'its package.json not found'}) is no git checkout and its package.json names no repository`;
    else if (checkout.origin === undefined)
      why = `the git checkout this apk-indexer runs from (${checkout.root}) has no origin remote and its package.json names no repository`;
    else
      why = `the origin remote of the git checkout this apk-indexer runs from (${checkout.root}) is a local path (${checkout.origin}), which melange's build cannot clone`;
    const pass = flags.ref === undefined ? `${SOURCE_FLAG} GIT_URL ${REF_FLAG} TAG` : `${SOURCE_FLAG} GIT_URL`;
    throw new UserError('usage', `no source for melange/apk-indexer.yaml: ${why}; pass ${pass}`);
  }

  let tag: string;
  if (flags.ref !== undefined) {
    tag = checkedRef(flags.ref);
    from.push(REF_FLAG);
  } else if (checkout?.tagAtHead !== undefined) {
    tag = checkout.tagAtHead;
    from.push(`the tag at HEAD of ${checkout.root}`);
  } else if (checkout === undefined && hasRepository(tool)) {
    // Installed from a published package, not a checkout: the release it is, tagged as `npm version` tags it.
    tag = `v${tool.version}`;
    from.push(`package.json version ${tool.version}`);
  } else {
    const near = checkout?.nearestTag === undefined ? '' : ` (the newest tag before it is ${checkout.nearestTag})`;
    throw new UserError(
      'usage',
      `no tag for melange/apk-indexer.yaml: HEAD of ${checkout?.root ?? 'this apk-indexer'} is at no tag${near}; pass ${REF_FLAG} TAG`,
    );
  }

  let expectedCommit: string | undefined;
  if (flags.commit !== undefined) {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(flags.commit))
      throw new UsageError(`${COMMIT_FLAG} ${flags.commit}: not a full commit hash (40 or 64 lower-case hex digits)`);
    expectedCommit = flags.commit;
    from.push(COMMIT_FLAG);
  } else if (checkout !== undefined) {
    // The commit the tag names, peeled: git-checkout compares it with what it checked out, not with a tag object.
    expectedCommit = git(checkout.root, ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`]);
    if (expectedCommit !== undefined) from.push(`tag ${tag} in ${checkout.root}`);
  }

  const bare = tag.replace(/^v(?=\d)/, '');
  const version = isValidVersion(bare) && !bare.includes('-') ? bare : tool.version;
  return { repository, tag, expectedCommit, version, from: [...new Set(from)].join(', ') };
}

function hasRepository(tool: ToolPackage): boolean {
  return tool.repository !== undefined && tool.repository !== null && tool.repository !== '';
}

interface Checkout {
  root: string;
  origin: string | undefined;
  tagAtHead: string | undefined;
  nearestTag: string | undefined;
}

/** The git checkout at `root` itself: not one enclosing it (a project whose node_modules holds this tool). */
function gitCheckout(root: string): Checkout | undefined {
  const top = git(root, ['rev-parse', '--show-toplevel']);
  if (top === undefined || realpath(top) !== realpath(root)) return undefined;
  return {
    root,
    origin: git(root, ['remote', 'get-url', 'origin']),
    tagAtHead: git(root, ['describe', '--tags', '--exact-match', 'HEAD']),
    nearestTag: git(root, ['describe', '--tags', '--abbrev=0', 'HEAD']),
  };
}

function git(cwd: string, args: string[]): string | undefined {
  // Local reads only, never the network; no prompt can wait for a terminal, and no GIT_DIR set around this
  // process (a hook, say) can make git read another repository than the one at `cwd`.
  const { GIT_DIR: _dir, GIT_WORK_TREE: _tree, GIT_INDEX_FILE: _index, ...env } = process.env;
  const r = spawnSync('git', ['-C', cwd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 10_000,
    env: { ...env, GIT_TERMINAL_PROMPT: '0' },
  });
  const out = r.status === 0 ? r.stdout.trim() : '';
  return out === '' ? undefined : out;
}

function realpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** A git ref as the flag gives it: a name git accepts, so it can neither break the recipe nor read as an option. */
function checkedRef(ref: string): string {
  if (
    !/^[A-Za-z0-9_][A-Za-z0-9._/+-]*$/.test(ref) ||
    ref.includes('..') ||
    ref.endsWith('/') ||
    ref.endsWith('.lock')
  ) {
    throw new UsageError(`${REF_FLAG} ${ref}: not a tag name git accepts`);
  }
  return ref;
}

/** `--apk-indexer-source`: a URL melange's build can clone, credentials dropped. */
function flagUrl(value: string, warn: (m: string) => void): string {
  const parsed = parseGitUrl(value);
  if (parsed === undefined) throw new UsageError(`${SOURCE_FLAG} ${value}: not a git URL (https://HOST/PATH)`);
  if (parsed.kind === 'local')
    throw new UsageError(
      `${SOURCE_FLAG} ${value}: a local path, which melange's build cannot clone; give the URL it is served at`,
    );
  if (parsed.kind === 'ssh') {
    throw new UsageError(
      `${SOURCE_FLAG} ${value}: melange clones inside its build sandbox, without SSH keys; give the https:// URL (${parsed.https})`,
    );
  }
  if (parsed.credentials)
    warn(`${SOURCE_FLAG}: credentials dropped from the URL (they would be committed in melange/apk-indexer.yaml)`);
  return parsed.url;
}

/** A remote found on disk: credentials dropped, SSH rewritten to https (the build has no keys); undefined if local. */
function remoteUrl(value: string, what: string, warn: (m: string) => void): string | undefined {
  const parsed = parseGitUrl(value);
  if (parsed === undefined || parsed.kind === 'local') return undefined;
  if (parsed.kind === 'ssh') {
    warn(
      `${what} is an SSH URL; melange/apk-indexer.yaml clones ${parsed.https} instead (melange's build has no SSH keys)`,
    );
    return parsed.https;
  }
  if (parsed.credentials)
    warn(`${what}: credentials dropped from the URL (they would be committed in melange/apk-indexer.yaml)`);
  return parsed.url;
}

type ParsedUrl =
  { kind: 'remote'; url: string; credentials: boolean } | { kind: 'ssh'; https: string } | { kind: 'local' };

/** Git's URL forms: scheme://, scp-like `user@host:path`, and local paths. */
export function parseGitUrl(raw: string): ParsedUrl | undefined {
  const value = raw.trim().replace(/^git\+/, '');
  if (value === '' || /\s/.test(value)) return undefined;
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(value);
  if (scp && !/^[A-Za-z]:[\\/]/.test(value))
    return { kind: 'ssh', https: `https://${scp[1]}/${scp[2]!.replace(/^\/+/, '')}` };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { kind: 'local' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol === 'file:') return { kind: 'local' };
  if (url.protocol === 'ssh:') return { kind: 'ssh', https: `https://${url.hostname}${url.pathname}` };
  if (!['https:', 'http:', 'git:'].includes(url.protocol) || url.hostname === '') return undefined;
  const credentials = url.username !== '' || url.password !== '';
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return { kind: 'remote', url: url.toString(), credentials };
}

/** package.json `repository`: a URL, `{url}`, or npm's shorthands (`github:o/n`, `gitlab:o/n`, `o/n`). */
export function packageRepositoryUrl(field: unknown): string | undefined {
  const value =
    typeof field === 'string'
      ? field
      : typeof field === 'object' && field !== null && typeof (field as { url?: unknown }).url === 'string'
        ? (field as { url: string }).url
        : undefined;
  if (value === undefined) return undefined;
  const hosts: Record<string, string> = { github: 'github.com', gitlab: 'gitlab.com', bitbucket: 'bitbucket.org' };
  const short = /^(?:(github|gitlab|bitbucket):)?([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)$/.exec(value);
  if (short) return `https://${hosts[short[1] ?? 'github']}/${short[2]!.replace(/\.git$/, '')}.git`;
  return value;
}
