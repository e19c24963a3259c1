import { appendedSources, PUBLISH_IMAGES, PUBLISH_VARIABLES, shellWord, type PublishOptions } from './publish-ci.js';
import type { CommentedValue } from './yaml-doc.js';

export interface GithubPublishOptions extends PublishOptions {
  /** The branch whose pushes publish. */
  branch: string;
}

const NULL_SHA = '0000000000000000000000000000000000000000';

/**
 * `.github/workflows/images.yml`: a job asks apk-indexer which images the push rebuilds (every image on the weekly
 * schedule and on runs by hand), and a matrix job publishes each with apko. git runs on the runner; apk-indexer runs
 * from its image with the checkout mounted, reading the changed paths on stdin (`images --changed-files -`).
 */
export function githubPublish(o: GithubPublishOptions): CommentedValue<Record<string, unknown>> {
  const v = PUBLISH_VARIABLES;
  const images = [
    // -C, not docker's -w: the image's entrypoint may name its CLI by a path relative to its own working directory.
    'docker run -i --rm -v "$PWD:/repo:ro" "$INDEXER_IMAGE" images -C /repo --json',
    ...o.imagesArgs.map(shellWord),
  ].join(' ');
  const publish = [
    `prefix="$(printf '%s' "$${v.prefix}" | tr '[:upper:]' '[:lower:]')"`,
    'set --',
    'for tag in $TAGS; do set -- "$@" "$prefix/$NAME:$tag"; done',
    [
      'apko publish "$FILE" "$@"',
      '${ARCHES:+--arch "$ARCHES"}',
      '${LOCK:+--lockfile "$LOCK"}',
      ...appendedSources(o),
      `\${${v.buildRepositories}:+--build-repository-append "$${v.buildRepositories}"}`,
      `\${${v.keyring}:+--keyring-append "$${v.keyring}"}`,
    ].join(' '),
  ];
  const prefix = o.imagePrefix ?? 'ghcr.io/${{ github.repository_owner }}';
  const registry = prefix.split('/')[0]!;
  const ownRegistry = registry === 'ghcr.io';
  const steps: unknown[] = [
    { uses: 'actions/checkout@v4' },
    {
      name: 'Log in to the registry',
      env: {
        [v.registry]: registry,
        [v.user]: ownRegistry ? '${{ github.actor }}' : `\${{ secrets.${v.user} }}`,
        [v.password]: ownRegistry ? '${{ secrets.GITHUB_TOKEN }}' : `\${{ secrets.${v.password} }}`,
      },
      run: `echo "$${v.password}" | apko login "$${v.registry}" --username "$${v.user}" --password-stdin`,
    },
  ];
  steps.push({
    name: 'Publish ${{ matrix.image.name }}',
    env: {
      FILE: '${{ matrix.image.file }}',
      NAME: '${{ matrix.image.name }}',
      TAGS: '${{ matrix.image.tags }}',
      ARCHES: '${{ matrix.image.arches }}',
      LOCK: '${{ matrix.image.lock }}',
      [v.prefix]: prefix,
      [v.buildRepositories]: `\${{ secrets.${v.buildRepositories} }}`,
      [v.keyring]: `\${{ secrets.${v.keyring} }}`,
      [v.httpAuth]: `\${{ secrets.${v.httpAuth} }}`,
    },
    run: `${publish.join('\n')}\n`,
  });
  return {
    value: {
      name: 'Images',
      on: {
        push: { branches: [o.branch] },
        schedule: [{ cron: '17 4 * * 1' }],
        workflow_dispatch: null,
      },
      permissions: { contents: 'read' },
      jobs: {
        images: {
          'runs-on': 'ubuntu-latest',
          outputs: { matrix: '${{ steps.images.outputs.matrix }}' },
          steps: [
            { uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } },
            {
              id: 'images',
              name: 'Images to publish',
              env: {
                BEFORE: "${{ github.event_name == 'push' && github.event.before || '' }}",
                INDEXER_IMAGE: o.apkIndexerImage,
              },
              run: [
                `if [ -n "$BEFORE" ] && [ "$BEFORE" != ${NULL_SHA} ]; then`,
                `  git diff --name-only --no-renames "$BEFORE" HEAD | ${images} --changed-files - > images.json`,
                'else',
                `  ${images} > images.json`,
                'fi',
                'matrix="$(jq -c \'[.images[] | {name, file, tags: (.tags | join(" ")), arches: (.arches | join(",")), lock: (.lock // "")}]\' images.json)"',
                'echo "matrix=$matrix" >> "$GITHUB_OUTPUT"',
                'echo "$matrix" | jq -r \'.[] | "publishes \\(.name): \\(.tags)"\'',
                '',
              ].join('\n'),
            },
          ],
        },
        publish: {
          needs: 'images',
          if: "needs.images.outputs.matrix != '[]'",
          'runs-on': 'ubuntu-latest',
          permissions: { contents: 'read', packages: 'write' },
          strategy: { 'fail-fast': false, matrix: { image: '${{ fromJSON(needs.images.outputs.matrix) }}' } },
          container: { image: PUBLISH_IMAGES.apko },
          steps,
        },
      },
    },
    header: [
      'Publishes each apko image when anything it is built from changes: a file of its include chain, its lock',
      '(FILE.lock.json), or a melange recipe of a package it installs; every image weekly and on a run by hand, so',
      'unpinned packages are picked up. `apk-indexer images --changed-since REV` gives the same list on a laptop.',
      'Written by `apk-indexer gen ci --github`; run it again when the options change.',
      `Secrets: ${v.buildRepositories} (comma-separated private APK repositories, apko -b), ${v.keyring} (their`,
      `keys), ${v.httpAuth} (basic:HOST:USER:PASSWORD, apko's login to them)${ownRegistry ? '' : `, ${v.user} and ${v.password}`}.`,
    ].join('\n'),
    notes: [],
  };
}
