import type { MelangeRecipe, MelangeStep } from '../../schemas/melange-recipe.js';
import { environment, localUpdate, type MelangeEnvironment } from './melange.js';
import type { CommentedValue, YamlNote } from './yaml-doc.js';

export interface ConfigPackageOptions extends MelangeEnvironment {
  packageName: string;
  version: string;
  license: string;
  description: string;
  /** Packages whose files this one may overwrite (apk `replaces`): the single files it takes over. */
  replaces: readonly string[];
}

/**
 * A host's configuration as one versioned package: the `vendor/` tree beside the recipe, copied as is. Files that
 * other packages also ship are claimed with `replaces`, so apk lets this package own them instead of failing.
 */
export function configPackage(o: ConfigPackageOptions): CommentedValue<MelangeRecipe<MelangeStep>> {
  const value: MelangeRecipe<MelangeStep> = {
    package: {
      name: o.packageName,
      version: o.version,
      epoch: 0,
      description: o.description,
      copyright: [{ license: o.license }],
      ...(o.replaces.length > 0 ? { dependencies: { replaces: [...o.replaces] } } : {}),
    },
    environment: environment(o),
    pipeline: [
      {
        name: 'Copy the vendor/ tree into the package',
        runs: 'mkdir -p "${{targets.destdir}}"\ncp -a vendor/. "${{targets.destdir}}/"\n',
      },
    ],
    update: localUpdate('Configuration files'),
  };
  const notes: YamlNote[] = [
    {
      path: ['package', 'version'],
      text: 'Bump on every change to vendor/: the host takes it with `bootc update`, and `bootc rollback` undoes it.',
    },
    {
      path: ['pipeline'],
      text: `vendor/ is read from the source directory: melange build ... --source-dir melange/${o.packageName}`,
    },
    { path: ['update'], text: 'Nothing upstream to follow: the files are defined here.' },
  ];
  if (o.replaces.length > 0) {
    notes.push({
      path: ['package', 'dependencies'],
      text: 'Files in vendor/ that these packages also ship are taken over by this package instead of\nfailing the install; everything else of theirs stays as they ship it.',
    });
  }
  return {
    value,
    header: [
      `${o.packageName}: ${o.description}.`,
      `Build: melange build melange/${o.packageName}.yaml --source-dir melange/${o.packageName} --arch x86_64,aarch64 --signing-key melange.rsa`,
    ].join('\n'),
    notes,
  };
}

/** The sample tree `init` writes beside the router's recipe: uplink, LAN, DHCP/DNS and forwarding. */
export const ROUTER_VENDOR_FILES: Readonly<Record<string, string>> = {
  'etc/systemd/network/20-wan.network': [
    '# The uplink: addressed by the upstream network. Lower numbers win over distribution defaults.',
    '[Match]',
    'Name=eth0',
    '',
    '[Network]',
    'DHCP=yes',
    'IPv6AcceptRA=yes',
    '',
  ].join('\n'),
  'etc/systemd/network/30-lan.network': [
    '# The LAN: a fixed address, and NAT of its traffic out through the uplink.',
    '[Match]',
    'Name=eth1',
    '',
    '[Network]',
    'Address=192.168.1.1/24',
    'IPMasquerade=ipv4',
    '',
  ].join('\n'),
  'etc/dnsmasq.conf': [
    '# DHCP and DNS for the LAN only. dnsmasq ships its own /etc/dnsmasq.conf: this package replaces it.',
    'interface=eth1',
    'bind-interfaces',
    'dhcp-range=192.168.1.100,192.168.1.199,12h',
    '',
  ].join('\n'),
  'usr/lib/sysctl.d/50-router.conf': ['# Forward packets between the interfaces.', 'net.ipv4.ip_forward = 1', ''].join(
    '\n',
  ),
};
