import { describe, expect, it } from 'vitest';
import { DependencyIndex, type DependencyRecord } from '../../src/index/dependency-index.js';
import { resolveArches } from '../../src/resolve/arches.js';
import { UnsatisfiableError } from '../../src/errors.js';
import { solve, SolverUniverse } from '../../src/resolve/solver.js';

/** Records as an index holds them; only what the solver reads. */
const r = (name: string, version: string, o: Partial<DependencyRecord> = {}): DependencyRecord => ({
  name,
  version,
  depends: [],
  provides: [],
  installIf: [],
  origin: name,
  providerPriority: 0,
  checksum: '',
  size: 0,
  arch: 'x86_64',
  ...o,
});

const universe = (repos: { tag?: string; records: DependencyRecord[] }[]) =>
  new SolverUniverse(
    repos.map((repo, i) => ({ tag: repo.tag ?? '', uri: `repo${i}/x86_64`, index: new DependencyIndex(repo.records) })),
  );

const names = (u: SolverUniverse, world: string[]) =>
  solve(u, [...world].sort()).map((c) => `${c.record.name}-${c.record.version}`);

describe("apko's solver, rule by rule", () => {
  it('the newest satisfying version wins, dependencies first', () => {
    const u = universe([
      {
        records: [
          r('libz', '1.2-r0', { provides: ['so:libz.so.1=1.2'] }),
          r('libz', '1.3-r0', { provides: ['so:libz.so.1=1.3'] }),
          r('curl', '8.1-r0', { depends: ['so:libz.so.1'] }),
          r('curl', '8.2-r0', { depends: ['so:libz.so.1'] }),
        ],
      },
    ]);
    expect(names(u, ['curl'])).toEqual(['libz-1.3-r0', 'curl-8.2-r0']);
    expect(names(u, ['curl<8.2'])).toEqual(['libz-1.3-r0', 'curl-8.1-r0']);
    expect(names(u, ['curl', 'libz=1.2-r0'])).toEqual(['libz-1.2-r0', 'curl-8.2-r0']);
  });

  it('provider_priority chooses among providers of a virtual; a versioned virtual takes the newest it provides', () => {
    const u = universe([
      {
        records: [
          r('mawk', '1.3-r0', { provides: ['awk'], providerPriority: 10 }),
          r('gawk', '5.3-r0', { provides: ['awk'], providerPriority: 20 }),
          r('openjdk-17', '17.0.9-r0', { provides: ['java=17.0.9'] }),
          r('openjdk-21', '21.0.1-r0', { provides: ['java=21.0.1'] }),
        ],
      },
    ]);
    expect(names(u, ['awk'])).toEqual(['gawk-5.3-r0']);
    expect(names(u, ['java'])).toEqual(['openjdk-21-21.0.1-r0']);
    expect(names(u, ['java<18'])).toEqual(['openjdk-17-17.0.9-r0']);
  });

  it('a package of an @tag repository comes only for name@tag, and what it pulls in', () => {
    const u = universe([
      { records: [r('tool', '1.0-r0'), r('lib', '1.0-r0')] },
      {
        tag: 'local',
        records: [r('tool', '2.0-r0', { depends: ['lib', 'helper'] }), r('lib', '9.0-r0'), r('helper', '1-r0')],
      },
    ]);
    expect(names(u, ['tool'])).toEqual(['tool-1.0-r0']);
    // Its dependencies may come from the tagged repository (helper), but an untagged build is preferred (lib 1.0).
    expect(names(u, ['tool@local'])).toEqual(['helper-1-r0', 'lib-1.0-r0', 'tool-2.0-r0']);
    expect(() => names(u, ['helper'])).toThrow(
      'helper: only in a tagged repository (write helper@tag) (in the package list)',
    );
  });

  it('!name in a dependency excludes what provides name; install_if joins once its conditions are installed', () => {
    const u = universe([
      {
        records: [
          r('busybox', '1.36-r0', { provides: ['cmd:sh=1.36-r0'] }),
          r('bash', '5.2-r0', { provides: ['cmd:sh=5.2-r0'] }),
          r('app', '1.0-r0', { depends: ['!busybox', 'cmd:sh', 'openssl'] }),
          r('openssl', '3.3-r0'),
          r('sh-openssl', '1.0-r0', { installIf: ['bash', 'openssl'] }),
          r('app-openssl', '1.0-r0', { installIf: ['app', 'openssl'] }),
        ],
      },
    ]);
    // install_if looks at the list entry's dependencies only: not at app itself (apk would add app-openssl too).
    expect(names(u, ['app'])).toEqual(['bash-5.2-r0', 'openssl-3.3-r0', 'sh-openssl-1.0-r0', 'app-1.0-r0']);
  });

  it('an unsatisfiable dependency names the package and its requirers', () => {
    const u = universe([
      {
        records: [
          r('app', '1.0-r0', { depends: ['lib>=2'] }),
          r('lib', '1.0-r0'),
          r('wrap', '1-r0', { depends: ['app'] }),
        ],
      },
    ]);
    let error: unknown;
    try {
      names(u, ['wrap']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsatisfiableError);
    expect((error as UnsatisfiableError).requiredBy).toEqual(['app-1.0-r0', 'wrap-1-r0', 'world[wrap]']);
    expect((error as Error).message).toBe(
      'lib>=2: no version satisfies >=2 (there: lib-1.0-r0); required by: app-1.0-r0 <- wrap-1-r0 <- world[wrap]',
    );
  });

  it('arches ahead of each other agree on the versions every arch has', () => {
    const x86 = universe([{ records: [r('curl', '8.1-r0'), r('curl', '8.2-r0')] }]);
    const arm = universe([{ records: [r('curl', '8.1-r0', { arch: 'aarch64' })] }]);
    const arches = new Map([
      ['x86_64', x86],
      ['aarch64', arm],
    ]);
    const resolved = resolveArches(arches, ['curl']);
    expect(resolved.how).toBe('common');
    expect(resolved.arches.map((a) => `${a.arch} ${a.packages.map((p) => p.record.version).join()}`)).toEqual([
      'x86_64 8.1-r0',
      'aarch64 8.1-r0',
    ]);
  });
});
