import type { ArchInstall } from '../resolve/arches.js';
import { filename, type Candidate } from '../resolve/solver.js';
import type { HeadFetcher } from './head-fetch.js';
import { lockRanges, lockRepository, type Lock, type LockKeyring, type LockPackage } from './lock-file.js';

/** What a lock is made of, as apko has it once the configuration is loaded and resolved. */
export interface LockInput {
  /** The configuration path as given to apko (`config.name`). */
  name: string;
  /** apko's deep checksum of the file and its includes. */
  checksum: string;
  keyring: LockKeyring[];
  /** Repository lines as written in the include chain (included first), trailing slashes trimmed. */
  buildRepositories: readonly string[];
  runtimeRepositories: readonly string[];
  repositories: readonly string[];
  /** Each arch's install set, in apko's arch order. */
  installs: readonly ArchInstall[];
}

/** Where to read a package's head from: its URL as the lock records it, or a mirror or local copy of it. */
export type PackageLocation = (candidate: Candidate) => string;

/** The lock `apko lock` writes for this input, with every package's ranges and checksums read from its head. */
export async function buildLock(input: LockInput, fetcher: HeadFetcher, locate: PackageLocation): Promise<Lock> {
  const packages: LockPackage[] = [];
  const heads = input.installs.map((install) =>
    Promise.all(
      install.packages.map(async (c) => ({
        candidate: c,
        streams: await fetcher.streams(locate(c), c.record.checksum, c.record.size),
      })),
    ),
  );
  for (const arch of await Promise.all(heads)) {
    for (const { candidate, streams } of arch) {
      packages.push({
        name: candidate.record.name,
        url: packageUrl(candidate),
        version: candidate.record.version,
        architecture: candidate.record.arch,
        ...lockRanges(streams),
        checksum: candidate.record.checksum || `Q1${streams.control.sha1}`,
      });
    }
  }
  const perArch = (lines: readonly string[]) =>
    input.installs.flatMap(({ arch }) => lines.map((line) => lockRepository(line, arch)));
  return {
    version: 'v1',
    config: { name: input.name, checksum: input.checksum },
    contents: {
      keyring: input.keyring,
      build_repositories: perArch(input.buildRepositories),
      runtime_repositories: perArch(input.runtimeRepositories),
      repositories: perArch(input.repositories),
      packages,
    },
  };
}

/** apko's package URL: the repository as written, its arch, the file name. */
export function packageUrl(c: Candidate): string {
  return `${c.repository.uri}/${filename(c.record)}`;
}
