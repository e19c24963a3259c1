import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DependencyIndexReader, type DependencyIndex } from '../../src/index/dependency-index.js';
import { loadIndex } from '../../src/load/load-index.js';
import { UnsatisfiableError } from '../../src/errors.js';
import { solve, SolverUniverse } from '../../src/resolve/solver.js';
import { worldOf } from '../../src/resolve/arches.js';

/**
 * Install sets against apk's own resolution on a real index: Alpine 3.16's main repository (x86_64, 4929
 * packages; the index apko's testdata carries as `alpine-316`). What apk-tools 2.14.9 installs for each package
 * list was recorded with `apk add --simulate` (apk-tools built from source, an empty root, that one repository):
 * `test/data/alpine-3.16-main/apk-add-simulate.json`. apko's solver (ours) gives the same set on 31 of the 37
 * lists; the other six differ where apko's solver is not apk's, each difference written out below.
 */
const DATA = join(import.meta.dirname, '../data/alpine-3.16-main');
const recorded = JSON.parse(readFileSync(join(DATA, 'apk-add-simulate.json'), 'utf8')) as {
  lists: { world: string[]; apk: string[] }[];
};

/** Where apko's solver installs another set than apk, and why. */
const DIFFERENCES: Record<string, { onlyApk: string[]; onlyApko: string[]; why: string }> = {
  'alpine-base': {
    onlyApk: ['ifupdown-ng 0.12.1-r0'],
    onlyApko: ['busybox-ifupdown 1.35.0-r17'],
    why: 'ifupdown-any: apko prefers a provider whose origin (busybox) is already installed at that version over provider_priority (ifupdown-ng k:900, busybox-ifupdown k:200)',
  },
  'busybox openrc': {
    onlyApk: ['ifupdown-ng 0.12.1-r0'],
    onlyApko: ['busybox-ifupdown 1.35.0-r17'],
    why: 'the same ifupdown-any choice',
  },
  'alpine-base openssh curl': {
    onlyApk: ['ifupdown-ng 0.12.1-r0'],
    onlyApko: ['busybox-ifupdown 1.35.0-r17'],
    why: 'the same ifupdown-any choice',
  },
  'busybox python3 py3-setuptools': {
    onlyApk: ['ssl_client 1.35.0-r17'],
    onlyApko: [],
    why: 'install_if (ssl_client: busybox and libssl1.1): apko looks within one world entry’s dependencies, and busybox is not among python3’s',
  },
  'busybox openssl': {
    onlyApk: ['ssl_client 1.35.0-r17'],
    onlyApko: [],
    why: 'the same install_if scope',
  },
  vim: {
    onlyApk: ['vim 8.2.5000-r0'],
    onlyApko: [
      ...'at-spi2-atk 2.38.0-r0,at-spi2-core 2.44.1-r0,atk 2.38.0-r0,avahi-libs 0.8-r6,brotli-libs 1.0.9-r6,busybox 1.35.0-r17,cairo 1.17.4-r2,cairo-gobject 1.17.4-r2,cups-libs 2.4.2-r0,dbus-libs 1.14.4-r0,expat 2.5.0-r0,fontconfig 2.14.0-r0,freetype 2.12.1-r0,fribidi 1.0.12-r0,gdk-pixbuf 2.42.8-r0,glib 2.72.1-r0,gmp 6.2.1-r2,gnutls 3.7.7-r0,graphite2 1.3.14-r1,gtk+3.0 3.24.34-r1,gtk-update-icon-cache 2.24.33-r3,gvim 8.2.5000-r0,harfbuzz 4.3.0-r0,hicolor-icon-theme 0.17-r1,libblkid 2.38-r1,libbz2 1.0.8-r1,libepoxy 1.5.10-r0,libffi 3.4.2-r1,libice 1.0.10-r0,libintl 0.21-r2,libjpeg-turbo 2.1.3-r1,libmount 2.38-r1,libpng 1.6.37-r1,libsm 1.2.3-r0,libtasn1 4.18.0-r0,libunistring 1.0-r0,libuuid 2.38-r1,libwebp 1.2.3-r0,libx11 1.8-r0,libxau 1.0.9-r0,libxcb 1.15-r0,libxcomposite 0.4.5-r0,libxcursor 1.2.1-r0,libxdamage 1.1.5-r1,libxdmcp 1.1.3-r0,libxext 1.3.4-r0,libxfixes 6.0.0-r0,libxft 2.3.4-r0,libxi 1.8-r0,libxinerama 1.1.4-r1,libxkbcommon 1.4.1-r0,libxml2 2.9.14-r2,libxrandr 1.5.2-r1,libxrender 0.9.10-r3,libxt 1.2.1-r0,libxtst 1.2.3-r3,nettle 3.7.3-r0,p11-kit 0.24.1-r0,pango 1.50.7-r0,pcre 8.45-r2,pixman 0.40.0-r4,pkgconf 1.8.0-r1,shared-mime-info 2.2-r1,tiff 4.4.0-r0,wayland-libs-client 1.20.0-r0,wayland-libs-cursor 1.20.0-r0,wayland-libs-egl 1.20.0-r0,xkeyboard-config 2.35.1-r0,xz-libs 5.2.5-r1,zlib 1.2.12-r3,zstd-libs 1.5.2-r1'.split(
        ',',
      ),
    ],
    why: 'gvim provides an unversioned "vim" at the same version: apko breaks the tie by name (gvim < vim); apk takes the package named vim',
  },
};

let universe: SolverUniverse;

beforeAll(async () => {
  const reader = new DependencyIndexReader();
  const loaded = await loadIndex(
    { url: join(DATA, 'x86_64/APKINDEX.tar.gz'), arch: 'x86_64', repository: 'alpine' },
    { keys: [], also: reader },
  );
  expect(loaded.notModified).toBe(false);
  const index: DependencyIndex = reader.index!;
  // 4929 records, less the 6 whose version apk's validation refuses (aspell-ru 0.99f7-r0, five opensmtpd
  // 6.8.0p2-r4 packages): the reader skips them, as the snapshot does.
  expect(index.records.length).toBe(4923);
  universe = new SolverUniverse([{ tag: '', uri: 'alpine-3.16-main/x86_64', index }]);
});

const installed = (world: string[]) =>
  solve(universe, worldOf(world)).map((c) => `${c.record.name} ${c.record.version}`);

describe('install sets equal apk-tools 2.14.9 on Alpine 3.16 main', () => {
  const agreeing = recorded.lists.filter((l) => !(l.world.join(' ') in DIFFERENCES));

  it('covers at least 20 package lists where the solvers agree', () => {
    expect(agreeing.length).toBe(31);
  });

  it.each(agreeing.map((l) => [l.world.join(' '), l.apk] as const))('%s', (world, apk) => {
    expect(installed(world.split(' ')).sort()).toEqual([...apk].sort());
  });

  it('puts dependencies before what needs them, as apk does', () => {
    for (const list of agreeing) {
      const order = installed(list.world);
      const at = new Map(order.map((p, i) => [p.split(' ')[0]!, i]));
      // musl, which nearly everything needs, is first whenever it is installed, as in apk's order.
      if (at.has('musl')) expect(order[0]).toMatch(/^musl /);
      expect(order.at(-1)!.split(' ')[0]).toSatisfy((last: string) => list.world.includes(last) || !list.world.length);
    }
  });
});

describe("where apko's solver and apk differ (apko's choice is what an image gets)", () => {
  it.each(Object.entries(DIFFERENCES))('%s', (world, diff) => {
    const apk = recorded.lists.find((l) => l.world.join(' ') === world)!.apk;
    const ours = installed(world.split(' '));
    expect(apk.filter((p) => !ours.includes(p)).sort()).toEqual([...diff.onlyApk].sort());
    expect(ours.filter((p) => !apk.includes(p)).sort()).toEqual([...diff.onlyApko].sort());
  });

  it('picks the one provider of an unversioned virtual where apk asks for a choice', () => {
    // apk add --simulate curl: "/bin/sh (virtual): please select one of the 'provided by' packages explicitly".
    expect(installed(['curl'])).toContain('busybox 1.35.0-r17');
  });

  it('names the package, and who required it, when nothing provides it', () => {
    const err = (() => {
      try {
        installed(['busybox', 'no-such-package']);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UnsatisfiableError);
    expect((err as Error).message).toBe('no-such-package: nothing provides no-such-package (in the package list)');
  });
});
