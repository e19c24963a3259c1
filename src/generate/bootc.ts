import type { ApkoImage } from '../apko/config-model.js';
import { header, includeNote, packageNotes, type PackageLine } from './apko-image.js';
import type { CommentedValue, YamlNote } from './yaml-doc.js';

/** The label bootc reads to accept an image (apko writes annotations as labels too). */
export const BOOTC_LABEL = 'containers.bootc';
/** A label that looks right and is ignored by bootc. */
export const MISTAKEN_BOOTC_LABEL = 'containers.bootable';
/** systemd, PID 1 here, shuts down cleanly on SIGRTMIN+3; SIGTERM would make it re-execute. */
export const BOOTC_STOP_SIGNAL = 'SIGRTMIN+3';
/** Without these a bootc image does not boot or cannot be updated. */
export const BOOTC_REQUIRED_PACKAGES = ['bootc', 'ostree', 'composefs', 'systemd', 'systemd-init'] as const;

export interface BootcBaseOptions {
  include: string;
  /** The kernel package; `<kernel>-initramfs` is its prebuilt initramfs. */
  kernel: string;
  /** Also install dracut, for hosts whose initramfs is regenerated from this image (a derived Containerfile). */
  dracut: boolean;
  /** Where the file is written (`gen -o`), for its header; default apko/bootc.yaml. */
  file?: string;
}

/** The bootable base: a kernel, systemd as init, bootc and the ostree/composefs storage it deploys with. */
export function bootcBase(o: BootcBaseOptions): CommentedValue<ApkoImage> {
  const packages: PackageLine[] = [
    {
      entry: 'bootc',
      why: 'bootc installs this image to disk and updates the host from the registry (`bootc update`).',
    },
    { entry: 'bootc-baselayout', why: 'The filesystem layout bootc deploys into, on top of the base layout.' },
    { entry: 'ostree', why: 'bootc stores and deploys images with ostree, mounted through composefs.' },
    { entry: 'composefs' },
    { entry: 'systemd' },
    { entry: 'systemd-init', why: '/sbin/init, which `cmd: init` starts.' },
    { entry: 'systemd-boot', why: 'The boot loader `bootc install --bootloader systemd` writes.' },
    { entry: o.kernel, why: 'The kernel, and its initramfs built by its package: apko runs no dracut at build time.' },
    { entry: `${o.kernel}-initramfs` },
  ];
  if (o.dracut)
    packages.push({ entry: 'dracut', why: 'For a derived image that regenerates the initramfs (`RUN dracut ...`).' });
  const value: ApkoImage = {
    include: o.include,
    contents: { packages: packages.map((p) => p.entry) },
    accounts: { 'run-as': 'root' },
    cmd: 'init',
    'stop-signal': BOOTC_STOP_SIGNAL,
    annotations: { [BOOTC_LABEL]: '1' },
  };
  const notes: YamlNote[] = [
    includeNote(),
    ...packageNotes(packages),
    {
      path: ['accounts', 'run-as'],
      text: 'systemd runs as PID 1 and must be root; this overrides the included non-root default.',
    },
    { path: ['cmd'], text: 'The image boots systemd when run as a container too (podman run ... to test it).' },
    { path: ['stop-signal'], text: 'systemd shuts down cleanly on SIGRTMIN+3; on SIGTERM it would re-execute itself.' },
    {
      path: ['annotations'],
      text: `apko writes annotations as image labels too; bootc accepts only images labelled ${BOOTC_LABEL}=1\n(${MISTAKEN_BOOTC_LABEL} is a common mistake, ignored by bootc).`,
    },
  ];
  return { value, header: header('bootc', 'the bootable base the host flavours include.', o.file), notes };
}

export type BootcFlavour = 'host' | 'desktop' | 'router';
export const BOOTC_FLAVOURS: readonly BootcFlavour[] = ['host', 'desktop', 'router'];

export interface BootcFlavourOptions {
  include: string;
  /** The package with the host's first account (a melange recipe in this repository). */
  userPackage: string;
  /** The router's configuration package; other flavours ignore it. */
  configPackage: string;
  extraPackages: readonly string[];
  /** Where the file is written (`gen -o`), for its header; default apko/bootc-FLAVOUR.yaml. */
  file?: string;
}

const FLAVOURS: Record<BootcFlavour, { purpose: string; packages: (o: BootcFlavourOptions) => PackageLine[] }> = {
  host: {
    purpose: 'a headless container host: containerd with nerdctl, CNI networking and SSH.',
    packages: () => [
      { entry: 'containerd' },
      { entry: 'nerdctl', why: 'A docker-compatible CLI for containerd.' },
      { entry: 'cni-plugins', why: 'Container networking (bridge, portmap, firewall) for nerdctl.' },
      { entry: 'openssh-server' },
      { entry: 'systemd-default-network', why: 'DHCP on every wired interface through systemd-networkd.' },
    ],
  },
  desktop: {
    purpose: 'a Wayland desktop: the sway compositor, PipeWire audio and a terminal.',
    packages: () => [
      { entry: 'sway', why: 'A Wayland compositor; seatd gives it the seat without running as root.' },
      { entry: 'seatd' },
      { entry: 'foot', why: 'A Wayland-native terminal.' },
      { entry: 'mesa', why: 'OpenGL and Vulkan drivers.' },
      { entry: 'pipewire' },
      { entry: 'wireplumber', why: 'The PipeWire session manager.' },
      { entry: 'systemd-default-network' },
    ],
  },
  router: {
    purpose: 'a router whose whole configuration is one versioned package.',
    packages: (o) => [
      { entry: 'nftables', why: 'The firewall and NAT.' },
      { entry: 'dnsmasq', why: 'DHCP and DNS for the LAN.' },
      { entry: 'openssh-server' },
      { entry: 'systemd-default-network' },
      {
        entry: o.configPackage,
        why: 'Built from melange/ in this repository: the whole configuration, versioned. It replaces files\nof the packages above, so a change here is one package update, rolled back with `bootc rollback`.',
      },
    ],
  },
};

/** A bootc flavour: the bootable base plus what makes the host what it is. */
export function bootcFlavour(flavour: BootcFlavour, o: BootcFlavourOptions): CommentedValue<ApkoImage> {
  const spec = FLAVOURS[flavour];
  const packages: PackageLine[] = [
    ...spec.packages(o),
    { entry: 'sudo', why: "The first account's package installs a sudoers.d rule; sudo is what reads it." },
    { entry: o.userPackage, why: 'Built from melange/ in this repository: the first account, its sudo and SSH rules.' },
    ...o.extraPackages.map((entry) => ({ entry })),
  ];
  return {
    value: { include: o.include, contents: { packages: packages.map((p) => p.entry) } },
    header: header(flavourFileName(flavour), spec.purpose, o.file),
    notes: [includeNote(), ...packageNotes(packages)],
  };
}

export function flavourFileName(flavour: BootcFlavour): string {
  return `bootc-${flavour}`;
}

/** What a bootc image needs, as `check` reports it; the builders above satisfy it (tested). */
export interface BootcFacts {
  packages: readonly string[];
  annotations: Readonly<Record<string, string>>;
  cmd: string | undefined;
  entrypoint: string | undefined;
  stopSignal: string | undefined;
  runAs: string | undefined;
}

/** An image is treated as bootc when it installs bootc or carries either label. */
export function isBootcImage(facts: BootcFacts): boolean {
  return (
    facts.packages.includes('bootc') || BOOTC_LABEL in facts.annotations || MISTAKEN_BOOTC_LABEL in facts.annotations
  );
}

export function bootcProblems(facts: BootcFacts): string[] {
  const problems: string[] = [];
  const label = facts.annotations[BOOTC_LABEL];
  if (label !== '1') {
    problems.push(
      label === undefined
        ? `annotation ${BOOTC_LABEL}: "1" is missing; bootc refuses the image without it`
        : `annotation ${BOOTC_LABEL} is "${label}", bootc needs "1"`,
    );
  }
  if (MISTAKEN_BOOTC_LABEL in facts.annotations)
    problems.push(`annotation ${MISTAKEN_BOOTC_LABEL} is not read by bootc; the label is ${BOOTC_LABEL}: "1"`);
  for (const name of BOOTC_REQUIRED_PACKAGES) {
    if (!facts.packages.includes(name))
      problems.push(`package ${name} is missing; a bootc image needs ${BOOTC_REQUIRED_PACKAGES.join(', ')}`);
  }
  const kernels = facts.packages.filter(isKernelPackage);
  if (kernels.length === 0) problems.push('no kernel package (linux, linux-lts, ...)');
  for (const kernel of kernels) {
    if (!facts.packages.includes(`${kernel}-initramfs`) && !facts.packages.includes('dracut')) {
      problems.push(`kernel ${kernel} has no initramfs: add ${kernel}-initramfs (or dracut for a derived build)`);
    }
  }
  if (!facts.cmd && !facts.entrypoint) problems.push('cmd is missing; a bootc image starts init (cmd: init)');
  if (facts.stopSignal !== BOOTC_STOP_SIGNAL)
    problems.push(`stop-signal is ${facts.stopSignal ?? 'missing'}; systemd needs ${BOOTC_STOP_SIGNAL}`);
  if (facts.runAs !== 'root' && facts.runAs !== '0')
    problems.push(`accounts.run-as is ${facts.runAs ?? 'missing'}; systemd must run as root`);
  return problems;
}

/** `linux` or `linux-<flavour>`, not its initramfs, headers, firmware or tools. */
function isKernelPackage(name: string): boolean {
  return /^linux(-[a-z0-9]+)?$/.test(name) && !/-(initramfs|headers|firmware|tools|doc|dev|pam)$/.test(name);
}
