import type { MelangeRecipe, MelangeStep } from '../../schemas/melange-recipe.js';
import { UsageError } from '../errors.js';
import { environment, fileStep, localUpdate, type MelangeEnvironment } from './melange.js';
import type { CommentedValue } from './yaml-doc.js';

export interface UserPackageOptions extends MelangeEnvironment {
  packageName: string;
  version: string;
  license: string;
  user: string;
  uid: number;
  gecos: string;
  shell: string;
  /** A crypt(3) hash (`openssl passwd -6`); undefined writes `!`, a locked password, until one is set. */
  passwordHash: string | undefined;
}

const USER = /^[a-z_][a-z0-9_-]{0,30}$/;

/**
 * The host's first account as a package of static files, applied by systemd at boot: no install scripts, so
 * the package installs the same way in apko (which runs none) and on a running host.
 */
export function userPackage(o: UserPackageOptions): CommentedValue<MelangeRecipe<MelangeStep>> {
  if (!USER.test(o.user)) throw new UsageError(`not a portable user name: ${o.user}`);
  // root exists on every host as uid 0; a second line for it in sysusers.d would not make it uid 1000.
  if (o.user === 'root')
    throw new UsageError(
      '--user root: root exists on every host (uid 0); name a regular account (default admin), which gets sudo',
    );
  if (!Number.isInteger(o.uid) || o.uid < 1000 || o.uid > 60000)
    throw new UsageError(`uid ${o.uid} is outside the regular user range 1000-60000`);
  if (o.passwordHash !== undefined && !/^\$[0-9a-z]+\$[./0-9A-Za-z$=]+$/.test(o.passwordHash)) {
    throw new UsageError('the password hash must be a crypt(3) hash such as `openssl passwd -6` prints');
  }
  if (/["\n]/.test(o.gecos)) throw new UsageError('the full name must not contain quotes or newlines');
  const u = o.user;
  const hash = o.passwordHash ?? '!';
  const value: MelangeRecipe<MelangeStep> = {
    package: {
      name: o.packageName,
      version: o.version,
      epoch: 0,
      description: `The ${u} account: created at boot by systemd-sysusers, with sudo and SSH access`,
      copyright: [{ license: o.license }],
    },
    environment: environment(o),
    pipeline: [
      fileStep(
        `/usr/lib/sysusers.d/${u}.conf`,
        '0644',
        `# ${u}, created by systemd-sysusers at boot (with a group of the same name and id).\nu ${u} ${o.uid} "${o.gecos}" /home/${u} ${o.shell}\n`,
      ),
      fileStep(
        `/usr/lib/tmpfiles.d/${u}-home.conf`,
        '0644',
        `# The home directory, created at boot: on a bootc host /home lives on the writable /var.\nd /home/${u} 0700 ${u} ${u} -\n`,
      ),
      fileStep(
        `/usr/lib/systemd/system/systemd-sysusers.service.d/50-${u}-password.conf`,
        '0644',
        [
          `# The first password of ${u}, as a crypt(3) hash. systemd-sysusers uses it only when it creates`,
          '# the account, so a password changed later with passwd stays. A credential of the same name passed',
          '# at boot (systemd.set_credential=, SMBIOS type 11) takes precedence over this default.',
          ...(o.passwordHash === undefined
            ? ['# "!" locks the password: set a hash (openssl passwd -6) or pass the credential.']
            : []),
          '[Service]',
          `SetCredential=passwd.hashed-password.${u}:${hash}`,
          '',
        ].join('\n'),
      ),
      fileStep(`/etc/sudoers.d/${u}`, '0440', `# ${u} administers the host through sudo.\n${u} ALL=(ALL:ALL) ALL\n`),
      fileStep(
        `/etc/ssh/sshd_config.d/50-${u}.conf`,
        '0644',
        `# Root never logs in over SSH; ${u} does and then uses sudo. List further accounts here.\nPermitRootLogin no\nAllowUsers ${u}\n`,
      ),
    ],
    update: localUpdate('Static files'),
  };
  return {
    value,
    header: [
      `${o.packageName}: the first account of a bootc host, as static files only (no install scripts).`,
      `Build: melange build melange/${o.packageName}.yaml --arch x86_64,aarch64 --signing-key melange.rsa`,
    ].join('\n'),
    notes: [
      { path: ['package', 'version'], text: 'Bump on every change: hosts pick it up with the next `bootc update`.' },
      {
        path: ['pipeline'],
        text: 'One step per file; systemd applies them at boot (sysusers, tmpfiles), sudo and sshd read theirs.',
      },
      { path: ['update'], text: 'Nothing upstream to follow: the files are defined here.' },
    ],
  };
}
