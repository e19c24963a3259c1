/**
 * The one errors module: every error a user can cause or fix is a UserError subclass declared here, each with a
 * stable `code` (as fastify's FST_ERR_* and undici's UND_ERR_* are), reported by the CLI in one line and by
 * docs/errors.md in one table (test/cli/errors.test.ts keeps the two together).
 *
 * What the CLI exits with, one table for every command (docs/errors.md): 0 done, 1 the command's own "found
 * something" (a package unknown, a pin stale, a lint error, files in the way), 2 a mistake in what it was given,
 * 3 a gate (`pin`, `check`) that could not check everything (an image's repository had no data), 70 a bug in
 * apk-indexer (sysexits' EX_SOFTWARE): a CI gate never reads our bug as the user's mistake or a finding, nor passes
 * on what it did not check.
 */
export const EXIT = { ok: 0, found: 1, user: 2, unchecked: 3, bug: 70 } as const;

/**
 * The stable codes of the errors a user can cause or fix (docs/errors.md lists them): scripts may match on them, so a
 * code is never renamed, only added.
 */
export type UserErrorCode =
  /** The command line itself: an unknown option, a missing argument, a value a flag cannot take. */
  | 'usage'
  /** A setting in the config file, an environment variable or a flag. */
  | 'config'
  /** An index (or its key) that could not be read or verified. */
  | 'index'
  /** An apko file apko itself would refuse. */
  | 'apko-file'
  /** A `--server` (a running apk-indexer) that cannot answer, or is not an apk-indexer. */
  | 'server'
  /** A file or directory the user named that cannot be read or written. */
  | 'file'
  /** `serve` cannot listen on its host and port. */
  | 'listen'
  /** `resolve`, `lock`: an image whose packages cannot be installed, or whose arches cannot agree (exit 1). */
  | 'resolve'
  /** `lock`: a package (.apk) or key that cannot be read, or that does not match its index. */
  | 'package';

/**
 * A mistake the user can fix, or a failure outside this tool: the CLI prints `apk-indexer <command>: <message>` on
 * one line (and the command's usage when `usage`), never a stack, and exits with `exit`.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  readonly exit: number;
  /** The command line was wrong: the command's usage follows the line. */
  readonly usage: boolean;
  /** Lines shown under the one line as they are: the excerpt of a file the mistake is in, with a pointer. */
  readonly context: string | undefined;
  constructor(
    readonly code: UserErrorCode,
    message: string,
    options: { exit?: number; usage?: boolean; cause?: unknown; context?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exit = options.exit ?? EXIT.user;
    this.usage = options.usage ?? false;
    this.context = options.context;
  }
}

/** A command-line mistake (code `usage`): reported with the command's usage lines, exit 2. */
export class UsageError extends UserError {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super('usage', message, { usage: true });
  }
}

/**
 * A configuration mistake (code `config`), naming where it was (file key, environment variable, flag, a Renovate
 * config's key) and the bad value.
 */
export class ConfigError extends UserError {
  override readonly name: string = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown; context?: string }) {
    super('config', message, options);
  }
}

/** A Renovate config this tool cannot read as Renovate would (code `config`), named by file and key. */
export class RenovateConfigError extends ConfigError {
  override readonly name = 'RenovateConfigError';
}

/** A file apko would refuse (code `apko-file`), naming the file and line: a finding in `pin` and `check`, exit 2 where it stops a command. */
export class ApkoFileError extends UserError {
  override readonly name: string = 'ApkoFileError';
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super('apko-file', `${file}${line ? `:${line}` : ''}: ${detail}`);
  }
}

/**
 * A `--server` (a running apk-indexer) that could not answer (code `server`): unreachable, not ready, or answering
 * something that is not the Renovate datasource body. The message names the URL.
 */
export class VersionSourceError extends UserError {
  override readonly name = 'VersionSourceError';
  constructor(
    readonly url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('server', `${url}: ${detail}`, options);
  }
}

/** `serve` cannot open its listener (code `listen`): exit 2 for what the user can change (host, port), else 1. */
export class ListenError extends UserError {
  override readonly name = 'ListenError';
  constructor(message: string, options: { exit: number; cause?: unknown }) {
    super('listen', message, options);
  }
}

/** A lock file apko cannot build from (code `apko-file`): not JSON, no contents, a package without what apko needs. */
export class LockFileError extends ApkoFileError {
  override readonly name = 'LockFileError';
}

/**
 * A package list that cannot be installed on one arch (code `resolve`, exit 1: what `resolve` and `lock` look for):
 * the dependency or world entry that failed, who required it (apk's "required by:"), and why.
 */
export class UnsatisfiableError extends UserError {
  override readonly name = 'UnsatisfiableError';
  constructor(
    /** The dependency or world entry that failed, as written. */
    readonly constraint: string,
    /** The package names that required it, nearest first; empty for a world entry. */
    readonly requiredBy: readonly string[],
    readonly reason: string,
    /** The candidates that exist for the name but were disqualified, with why. */
    readonly disqualified: readonly { candidate: { record: { name: string; version: string } }; why: string }[] = [],
  ) {
    super(
      'resolve',
      `${constraint}: ${reason}${requiredBy.length ? `; required by: ${requiredBy.join(' <- ')}` : ' (in the package list)'}`,
      { exit: EXIT.found },
    );
  }
}

/** An image's world cannot be installed on `arch` (code `resolve`, exit 1). */
export class ArchUnsatisfiableError extends UserError {
  override readonly name = 'ArchUnsatisfiableError';
  constructor(
    readonly arch: string,
    readonly failure: UnsatisfiableError,
  ) {
    super('resolve', `${arch}: ${failure.message}`, { exit: EXIT.found, cause: failure });
  }
}

/**
 * The arches would install different versions of a package, or only some can install the world, and no choice
 * present on every arch exists (code `resolve`, exit 1).
 */
export class ArchDisagreementError extends UserError {
  override readonly name = 'ArchDisagreementError';
  constructor(
    readonly differences: readonly { name: string; versions: { arch: string; version: string }[] }[],
    readonly failure: ArchUnsatisfiableError,
    /** The arches that resolve alone, when another does not. */
    readonly resolved: readonly string[] = [],
  ) {
    super(
      'resolve',
      differences.length > 0
        ? `the arches cannot agree: ${differences
            .map((d) => `${d.name} is ${d.versions.map((v) => `${v.version} on ${v.arch}`).join(', ')}`)
            .join('; ')}; with only versions present on every arch: ${failure.message}`
        : `the arches cannot agree: ${failure.message}; ${resolved.join(', ')} ${resolved.length === 1 ? 'resolves' : 'resolve'} it`,
      { exit: EXIT.found },
    );
  }
}

/** The head of an .apk is not (yet) a whole signature and control member (code `package`). */
export class ApkHeadError extends UserError {
  override readonly name = 'ApkHeadError';
  constructor(
    message: string,
    /** More bytes would help: the members did not end within them. */
    readonly needMore = false,
  ) {
    super('package', message);
  }
}

/** A package (.apk) whose head cannot be read, or does not match its index's `C:` (code `package`), named by URL. */
export class PackageHeadError extends UserError {
  override readonly name = 'PackageHeadError';
  constructor(
    readonly url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('package', `${url}: ${detail}`, options);
  }
}

/** A key a lock embeds that cannot be read or fetched (code `package`). */
export class KeyringError extends UserError {
  override readonly name = 'KeyringError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('package', message, options);
  }
}

/** Why reading an index failed; used as a metrics label and in logs. */
export type IndexErrorReason =
  | 'network'
  | 'http-status'
  /** A redirect loop, too many redirects, or a redirect to a scheme other than http(s): permanent, like a 404. */
  | 'redirect'
  | 'gzip'
  | 'tar'
  | 'format'
  | 'signature'
  | 'limit'
  | 'key'
  /** A bug in this tool (a TypeError and the like), not the upstream's fault: its stack is logged at error level. */
  | 'internal';

/** An index could not be read or verified. The message names the source and what was wrong. */
export class IndexError extends UserError {
  override readonly name = 'IndexError';
  /** Set when an error answer carried Retry-After (capped at 24h): the next attempt waits at least this long. */
  retryAfterMs?: number;
  /** The upstream's status, for `http-status`: a 5xx, 408 or 429 is worth waiting for, a 404 is not. */
  httpStatus?: number;
  constructor(
    readonly source: string,
    readonly reason: IndexErrorReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('index', `${source}: ${detail}`, { cause: options?.cause });
  }
}

/**
 * A programming error rather than bad input or a failing upstream: JavaScript's own error types (TypeError,
 * RangeError, ReferenceError, SyntaxError, EvalError, URIError). Readers pass these on as they are, so a bug is
 * reported as `internal` instead of being disguised as a network failure.
 */
export function isBug(err: unknown): err is Error {
  return (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError ||
    err instanceof EvalError ||
    err instanceof URIError
  );
}

/** The system errors a file operation can end in, said in words (the code alone means little to most users). */
const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EISDIR: 'is a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EBUSY: 'busy',
  EIO: 'input/output error',
  ETXTBSY: 'in use (text file busy)',
  EXDEV: 'on another file system',
  EFBIG: 'file too large',
};

/** A Node system error (ENOENT, EACCES, ECONNREFUSED...): the environment's answer, not a bug. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z0-9]+$/.test((err as NodeJS.ErrnoException).code!) &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  );
}

/** What went wrong with a path, in words; the code itself for one without words here. */
export function describeFileProblem(err: unknown, words: Record<string, string> = {}): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return err instanceof Error ? err.message : String(err);
  return words[code] ?? FILE_PROBLEMS[code] ?? code;
}

/**
 * A file or directory the user named (or one the command derives from it) could not be read or written: one line
 * naming it and the problem in words, exit 2. `what` is how the user named it (`-o x.json`), the path by default.
 */
export class FileError extends UserError {
  override readonly name = 'FileError';
  /** The system error's code (ENOENT, EROFS...), when there was one. */
  readonly errno: string | undefined;
  constructor(
    readonly path: string,
    problem: string,
    options: { errno?: string; cause?: unknown } = {},
  ) {
    super('file', `${path}: ${problem}`, { cause: options.cause });
    this.errno = options.errno;
  }

  /**
   * From a system error, with its code in words (`words` for what a code means here: ENOENT while writing is a
   * missing directory); `doing` says what was tried ("cannot write").
   */
  static of(path: string, err: unknown, doing?: string, words?: Record<string, string>): FileError {
    const problem = describeFileProblem(err, words);
    return new FileError(path, doing ? `${doing}: ${problem}` : problem, {
      errno: (err as NodeJS.ErrnoException | undefined)?.code,
      cause: err,
    });
  }
}

/**
 * Why a network request failed, in its innermost cause's words (undici and fetch wrap the system error:
 * `TypeError: fetch failed` holds `ECONNREFUSED`): the code with the message when they differ, `timed out` for a
 * timeout.
 */
export function networkReason(err: unknown): string {
  let inner: unknown = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  if (!(inner instanceof Error)) return String(inner);
  if (inner.name === 'TimeoutError') return 'timed out';
  const code = (inner as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return inner.message;
  return inner.message.includes(code) ? inner.message : `${code}: ${inner.message}`;
}
