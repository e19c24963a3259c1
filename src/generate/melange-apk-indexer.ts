import type { MelangeGitCheckout, MelangeRecipe, MelangeStep } from '../../schemas/melange-recipe.js';
import type { ApkIndexerSource } from './apk-indexer-source.js';
import { environment, type MelangeEnvironment } from './melange.js';
import type { CommentedValue } from './yaml-doc.js';

/** The Node.js package apk-indexer runs on: the major of this project's Dockerfile and its own melange.yaml. */
export const NODE_PACKAGE = 'nodejs-26';

export interface ApkIndexerPackageOptions extends MelangeEnvironment {
  source: ApkIndexerSource;
}

/**
 * How apk-indexer is built from its source: the steps of this project's own melange.yaml after its sources are in
 * the workspace (test/generate checks that the two agree), and the test it runs against the package.
 */
export const BUILD_STEPS: readonly MelangeStep[] = [
  {
    name: 'Install all dependencies',
    runs: 'rm -rf node_modules dist\nnpm ci --ignore-scripts --no-audit --no-fund\n',
  },
  { name: 'Compile TypeScript into dist/', runs: 'npm run build' },
  { name: 'Keep production dependencies only', runs: 'npm ci --omit=dev --ignore-scripts --no-audit --no-fund' },
  {
    name: 'Install into /usr/lib/apk-indexer, with /usr/bin/apk-indexer',
    runs: [
      'lib="${{targets.contextdir}}/usr/lib/apk-indexer"',
      'mkdir -p "$lib" "${{targets.contextdir}}/usr/bin"',
      'cp -R package.json bin dist config node_modules "$lib"/',
      'cat > "${{targets.contextdir}}/usr/bin/apk-indexer" <<\'EOF\'',
      '#!/bin/sh',
      '# exec: node replaces the shell, so SIGTERM reaches it directly.',
      'exec /usr/bin/node /usr/lib/apk-indexer/bin/apk-indexer.js "$@"',
      'EOF',
      'chmod 0755 "${{targets.contextdir}}/usr/bin/apk-indexer"',
      '',
    ].join('\n'),
  },
];

export const TEST_STEPS: readonly MelangeStep[] = [
  {
    name: 'The CLI starts and orders versions as apk does',
    runs: 'apk-indexer --version\ntest "$(apk-indexer vercmp 1.0_rc9 1.0_rc10)" = "<"\n',
  },
];

/**
 * apk-indexer itself as an APK, built from its source at a tag (melange's `git-checkout`), as this project's own
 * melange.yaml builds it: the package `apko/apk-indexer.yaml` installs, which no distribution repository holds.
 * Built with the others (`just packages`), so `check` counts it as built here.
 */
export function apkIndexerPackage(o: ApkIndexerPackageOptions): CommentedValue<MelangeRecipe> {
  const base = environment(o);
  const s = o.source;
  // The tag written through package.version when it is one, so `melange bump` moves both.
  const tag =
    s.tag === `v${s.version}` ? 'v${{package.version}}' : s.tag === s.version ? '${{package.version}}' : s.tag;
  const checkout: MelangeGitCheckout = {
    uses: 'git-checkout',
    with: {
      repository: s.repository,
      tag,
      ...(s.expectedCommit === undefined ? {} : { 'expected-commit': s.expectedCommit }),
    },
  };
  const value: MelangeRecipe = {
    package: {
      name: 'apk-indexer',
      version: s.version,
      epoch: 0,
      description: 'Renovate custom datasource for APK repositories, built from its source',
      copyright: [{ license: 'Apache-2.0' }],
      dependencies: { runtime: [NODE_PACKAGE, 'ca-certificates-bundle', 'busybox'] },
    },
    environment: {
      contents: { ...base.contents, packages: ['busybox', 'ca-certificates-bundle', NODE_PACKAGE, 'npm'] },
      environment: { npm_config_update_notifier: 'false' },
    },
    pipeline: [checkout, ...BUILD_STEPS.map((step) => ({ ...step }))],
    test: { pipeline: TEST_STEPS.map((step) => ({ ...step })) },
    update: {
      enabled: false,
      'exclude-reason':
        'The apk-indexer release this repository was written with: melange bump melange/apk-indexer.yaml VERSION --expected-commit SHA moves it',
    },
  };
  return {
    value,
    header: [
      'apk-indexer: the Renovate datasource the CI jobs run as a service, built from its source for',
      'apko/apk-indexer.yaml. No distribution repository holds it; `just packages` builds it into ./packages.',
      `Source: ${s.repository} at ${s.tag} (from ${s.from}).`,
      'Build: melange build melange/apk-indexer.yaml --arch x86_64 --signing-key melange.rsa --out-dir packages',
    ].join('\n'),
    notes: [
      { path: ['package', 'version'], text: "The release checked out below: the tag's version." },
      {
        path: ['pipeline'],
        text:
          s.expectedCommit === undefined
            ? "git-checkout clones the tag; with expected-commit (apk-indexer init --apk-indexer-commit) it also checks\nwhich commit the tag names. npm ci needs the npm registry; melange's default runner allows network access."
            : "git-checkout clones the tag and fails unless it names expected-commit. npm ci needs the npm registry;\nmelange's default runner allows network access.",
      },
    ],
  };
}
