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

/** The commands that build this repository, down to a bootable disk image. Deterministic text, no YAML. */
export function justfile(o: JustfileOptions): string {
  const local = '--repository-append ./packages --keyring-append melange.rsa.pub';
  const melange = o.packages.map(
    (p) => `    melange build melange/${p.name}.yaml${p.sourceDir ? ` --source-dir ${p.sourceDir}` : ''} --arch {{arch}} --signing-key melange.rsa --out-dir packages`,
  );
  return [
    '# Build the packages and images defined here; `just --list` shows the recipes. Run from this directory:',
    "# apko resolves `include:` against the directory it runs in. Needs melange, apko and (for `disk`) podman.",
    '',
    `arch := "${o.arches.join(',')}"`,
    `server := "${o.server}"`,
    '',
    '# Make the key that signs the packages built here (once; keep melange.rsa out of git).',
    'keygen:',
    '    melange keygen melange.rsa',
    '',
    '# Build the packages in melange/ into ./packages, for every arch.',
    'packages:',
    ...melange,
    '',
    `# Build apko/NAME.yaml into NAME.tar, with the packages built here available (one of: ${o.images.join(', ')}).`,
    'image NAME: packages',
    `    apko build apko/{{NAME}}.yaml {{NAME}}:latest {{NAME}}.tar --arch {{arch}} ${local}`,
    '',
    '# Lint every apko file against the indexes apk-indexer serves.',
    'check:',
    '    apk-indexer check --server {{server}}',
    '',
    '# Move every pin to the newest version present on all of its image\'s arches.',
    'pin:',
    '    apk-indexer pin --server {{server}}',
    '',
    '# Write NAME.img, a bootable disk image of a bootc flavour for this machine\'s arch (root for the loop device).',
    `disk NAME="${o.defaultDisk}" SIZE="20G": packages`,
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
  ].join('\n');
}
