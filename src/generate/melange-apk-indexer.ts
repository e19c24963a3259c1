import type { MelangeRecipe } from '../../schemas/melange-recipe.js';
import { environment, type MelangeEnvironment } from './melange.js';
import type { CommentedValue } from './yaml-doc.js';

/** The Node.js package apk-indexer runs on: the major of this project's Dockerfile and its own melange.yaml. */
export const NODE_PACKAGE = 'nodejs-26';

export interface ApkIndexerPackageOptions extends MelangeEnvironment {
  /** The apk-indexer release to package, as published to npm (this tool's own version by default). */
  version: string;
}

/**
 * apk-indexer itself as an APK, from its released npm package: the package `apko/apk-indexer.yaml` installs, which
 * no distribution repository holds. Built with the others (`just packages`), so `check` counts it as built here.
 */
export function apkIndexerPackage(o: ApkIndexerPackageOptions): CommentedValue<MelangeRecipe> {
  const base = environment(o);
  const value: MelangeRecipe = {
    package: {
      name: 'apk-indexer',
      version: o.version,
      epoch: 0,
      description: 'Renovate custom datasource for APK repositories, from its released npm package',
      copyright: [{ license: 'Apache-2.0' }],
      dependencies: { runtime: [NODE_PACKAGE, 'ca-certificates-bundle', 'busybox'] },
    },
    environment: { contents: { ...base.contents, packages: ['busybox', 'ca-certificates-bundle', NODE_PACKAGE, 'npm'] } },
    pipeline: [
      {
        name: 'Install the released npm package into /usr/lib/apk-indexer, with /usr/bin/apk-indexer',
        runs: [
          'lib="${{targets.destdir}}/usr/lib/apk-indexer"',
          'mkdir -p "$lib" "${{targets.destdir}}/usr/bin"',
          'npm install --prefix "$lib" --omit=dev --ignore-scripts --no-audit --no-fund --no-save "apk-indexer@${{package.version}}"',
          'cat > "${{targets.destdir}}/usr/bin/apk-indexer" <<\'EOF\'',
          '#!/bin/sh',
          'exec /usr/bin/node /usr/lib/apk-indexer/node_modules/apk-indexer/bin/apk-indexer.js "$@"',
          'EOF',
          'chmod 0755 "${{targets.destdir}}/usr/bin/apk-indexer"',
          '',
        ].join('\n'),
      },
    ],
    update: { enabled: false, 'exclude-reason': 'The apk-indexer release this repository was written with: bump package.version to move to another one' },
  };
  return {
    value,
    header: [
      'apk-indexer: the Renovate datasource the CI jobs run as a service, packaged from its npm release for',
      'apko/apk-indexer.yaml. No distribution repository holds it; `just packages` builds it into ./packages.',
      'Build: melange build melange/apk-indexer.yaml --arch x86_64 --signing-key melange.rsa --out-dir packages',
    ].join('\n'),
    notes: [
      { path: ['package', 'version'], text: 'The npm release installed below (npm verifies it against the registry\'s integrity hash).' },
      { path: ['pipeline'], text: 'Needs the npm registry at build time; melange\'s default runner allows network access.' },
    ],
  };
}
