/** A melange recipe the Justfile builds, and the directory its recipe reads files from, if any. */
export interface JustPackage {
  name: string;
  sourceDir?: string;
}

export interface JustfileOptions {
  packages: readonly JustPackage[];
  /** apko files under apko/, without `.yaml`. */
  images: readonly string[];
  /** The bootc flavour `just disk` writes by default. */
  defaultDisk: string;
  /** APK arches the packages and images are built for. */
  arches: readonly string[];
  server: string;
}

/**
 * The Justfile recipes CI runs too (.gitlab-ci.yml calls them, for the runner's own arch), so a pipeline builds
 * with the same command lines as `just` does here.
 */
export const JUST = {
  packages: 'packages',
  publish: 'publish',
  /** Arguments that build for the machine's own arch only: melange runs foreign arches under emulation. */
  ownArch: 'arch="$(uname -m)"',
} as const;

/** The commands that build this repository, down to a bootable disk image. Deterministic text, no YAML. */
export function justfile(o: JustfileOptions): string {
  const local = '--repository-append ./packages --keyring-append melange.rsa.pub';
  const melange = o.packages.map(
    (p) =>
      `    melange build melange/${p.name}.yaml${p.sourceDir ? ` --source-dir ${p.sourceDir}` : ''} --arch {{arch}} --signing-key melange.rsa --out-dir packages`,
  );
  return [
    '# Build the packages and images defined here; `just --list` shows the recipes. Run from this directory:',
    '# apko resolves `include:` against the directory it runs in. Needs melange, apko and (for `disk`) podman;',
    '# melange builds a foreign arch under emulation (qemu-user binfmt), or pass one arch: just arch=x86_64.',
    `# .gitlab-ci.yml runs \`just ${JUST.packages}\` and \`just ${JUST.publish}\` too, for the runner's own arch.`,
    '',
    `arch := "${o.arches.join(',')}"`,
    `server := "${o.server}"`,
    '',
    '# Build every package, then every image (what `just` alone runs).',
    'build: packages images',
    '',
    '# Make melange.rsa, the key that signs the packages built here, unless it exists (keep it out of git).',
    'keygen:',
    '    test -f melange.rsa || melange keygen melange.rsa',
    '',
    '# Build the packages in melange/ into ./packages, for every arch.',
    `${JUST.packages}: keygen`,
    ...melange,
    '',
    '# Build every image in apko/ into NAME.tar.',
    `images: ${o.images.map((name) => `(image "${name}")`).join(' ')}`,
    '',
    `# Build apko/NAME.yaml into NAME.tar, with the packages built here (one of: ${o.images.join(', ')}).`,
    'image NAME: _built',
    `    apko build apko/{{NAME}}.yaml {{NAME}}:latest {{NAME}}.tar --arch {{arch}} ${local}`,
    '',
    '# Build apko/NAME.yaml and push it to REF, a registry/repository:tag (log in first: apko login REGISTRY).',
    `${JUST.publish} NAME REF: _built`,
    `    apko publish apko/{{NAME}}.yaml "{{REF}}" --arch {{arch}} ${local}`,
    '',
    '# Lint every apko file against the indexes apk-indexer serves.',
    'check:',
    '    apk-indexer check --server {{server}}',
    '',
    "# Move every pin to the newest version present on all of its image's arches.",
    'pin:',
    '    apk-indexer pin --server {{server}}',
    '',
    "# Write NAME.img, a bootable disk image of a bootc flavour for this machine's arch (root for the loop device).",
    `disk NAME="${o.defaultDisk}" SIZE="20G": _built`,
    '    #!/usr/bin/env bash',
    '    set -euo pipefail',
    `    apko build apko/{{NAME}}.yaml localhost/{{NAME}}:disk {{NAME}}-disk.tar --arch host ${local}`,
    '    image="$(sudo podman load --quiet --input {{NAME}}-disk.tar | sed -n \'s/^Loaded image[^:]*: //p\' | tail -n 1 | cut -d, -f1)"',
    '    truncate --size {{SIZE}} {{NAME}}.img',
    '    sudo podman run --rm --privileged --pid=host --security-opt label=type:unconfined_t \\',
    '        -v /dev:/dev -v /var/lib/containers:/var/lib/containers -v "$PWD:/output" \\',
    '        "$image" bootc install to-disk --composefs-backend --via-loopback /output/{{NAME}}.img \\',
    '        --filesystem ext4 --wipe --bootloader systemd',
    '',
    // Not a dependency on `packages`: CI builds them in one job and uses them in another, with other tools.
    '# The images take apk-indexer, default-user and router-config from ./packages, built by `just packages`.',
    '_built:',
    '    @test -d packages -a -f melange.rsa.pub || { echo "no ./packages or melange.rsa.pub here: run just packages first" >&2; exit 1; }',
    '',
  ].join('\n');
}
