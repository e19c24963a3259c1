import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Real APK data from ../shared/reference (see its README), beside the project's root. */
const root = fileURLToPath(new URL('../../shared/reference/', import.meta.url));

export const reference = {
  available: existsSync(root),
  wolfiRecords: `${root}wolfi-records/APKINDEX`,
  melangeRepo: `${root}melange-two-arch`,
  melangeKey: `${root}melange-two-arch/melange.rsa.pub`,
  melangeIndex: (arch: 'x86_64' | 'aarch64') => `${root}melange-two-arch/${arch}/APKINDEX.tar.gz`,
};
