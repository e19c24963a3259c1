#!/bin/sh
# Runs a command with a Node.js that apk-indexer supports (package.json's engines) first on PATH: the `node` already
# on PATH when it is new enough, else Node.js 24 (LTS) from the npm registry, installed once into .ci/.node/24 by
# .ci/node.sh, as CI does. The npm scripts that run apk-indexer or its tests go through it, so that `npm ci && npm
# start` and `npm ci && npm test` work as written on a machine whose own Node.js is older. Usage (package.json):
#   sh scripts/with-node.sh node bin/apk-indexer.js serve
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! node "$root/bin/node-version.js"; then
  bin="$(bash "$root/.ci/node.sh" 24)"
  echo "with-node: node $(node --version) is older than apk-indexer needs; using $("$bin/node" --version) from $bin" >&2
  PATH="$bin:$PATH"
  export PATH
fi
exec "$@"
