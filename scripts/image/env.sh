# Sourced by the image scripts: pins, cache paths and a podman set up for this kind of machine.
# shellcheck shell=bash
image_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../tools/versions.env
. "$image_root/tools/versions.env"
image_cache=${CLOUDMART_CACHE:-$HOME/.cache/cloudmart}/image
mkdir -p "$image_cache"

# The local stand-in for the Dockerfile's NODE_IMAGE (node:<version>-<release>-slim).
base_tag=localhost/cloudmart-node:$NODE_VERSION-$DEBIAN_RELEASE-slim
backend_tag=${BACKEND_IMAGE:-localhost/cloudmart/backend:test}

# crun refuses this sandbox's hybrid cgroups, so runc; podman's default nofile ulimit is
# above the sandbox's hard limit, so containers inherit podman's own limits instead.
export CONTAINERS_CONF=$image_cache/containers.conf
if [ ! -f "$CONTAINERS_CONF" ]; then
  printf '%s\n' '[containers]' 'default_ulimits = []' '' '[engine]' 'runtime = "runc"' >"$CONTAINERS_CONF.tmp"
  mv "$CONTAINERS_CONF.tmp" "$CONTAINERS_CONF"
fi

# Installs the Debian packages the image scripts drive, when missing.
image_need_tools() {
  local -A pkg=([podman]=podman [runc]=runc [debootstrap]=debootstrap [flock]=util-linux)
  local missing=() tool
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg[$tool]:-$tool}"); done
  ((${#missing[@]})) || return 0
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
