import { fileURLToPath } from 'node:url';

/** Real APK data (see test/data/reference/README.md). */
const root = fileURLToPath(new URL('./data/reference/', import.meta.url));

export const reference = {
  wolfiRecords: `${root}wolfi-records/APKINDEX`,
  melangeRepo: `${root}melange-two-arch`,
  melangeKey: `${root}melange-two-arch/melange.rsa.pub`,
  melangeIndex: (arch: 'x86_64' | 'aarch64') => `${root}melange-two-arch/${arch}/APKINDEX.tar.gz`,
};
