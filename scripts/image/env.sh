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
# netavark with aardvark-dns, not CNI: containers on one Compose network resolve each other
# by service name, as on Docker.
export CONTAINERS_CONF=$image_cache/containers.conf
containers_conf=$(printf '%s\n' '[containers]' 'default_ulimits = []' '' '[engine]' 'runtime = "runc"' '' '[network]' 'network_backend = "netavark"')
if [ "$(cat "$CONTAINERS_CONF" 2>/dev/null)" != "$containers_conf" ]; then
  printf '%s\n' "$containers_conf" >"$CONTAINERS_CONF.tmp.$$"
  mv "$CONTAINERS_CONF.tmp.$$" "$CONTAINERS_CONF"
fi

# Installs the Debian packages the image scripts drive, when missing.
image_need_tools() {
  local -A pkg=([podman]=podman [runc]=runc [debootstrap]=debootstrap [flock]=util-linux [netavark]=netavark [aardvark-dns]=aardvark-dns [iptables]=iptables)
  local missing=() tool
  # netavark and aardvark-dns live in podman's helper directory, not on PATH.
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/lib/podman/$tool" ] || missing+=("${pkg[$tool]:-$tool}")
  done
  ((${#missing[@]})) || return 0
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian mirror this machine's apt already uses for release $1: the stanza carrying the
# release, else any main-archive stanza (a mirror serves every release); deb822 sources first,
# then one-line.
debian_mirror() {
  local rel=$1 mirror
  mirror=$(
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v rel="$rel" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && uri != "") {
          if ((" " suites " ") ~ (" " rel " ") && found == "") found = uri
          if (suites !~ /-security/ && any == "") any = uri
        }
        types = suites = uri = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^Types:/  { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^URIs:/   { sub(/^URIs:[ \t]*/, ""); split($0, u, /[ \t]+/); uri = u[1] }
      END { flush(); print (found != "" ? found : any) }'
  )
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i; exit }')
  fi
  [ -n "$mirror" ] || { echo "no Debian apt source in /etc/apt: cannot pick a mirror for $rel" >&2; return 1; }
  echo "$mirror"
}

# A Debian minbase of release $1 in directory $2 (with the packages in $3, comma-separated),
# trimmed like debian:<release>-slim: no docs, man pages or translations (copyright files
# stay), and dpkg told to leave them out of anything installed later. Needs root.
debian_minbase() {
  local rel=$1 rootfs=$2 include=${3:-} mirror log
  mirror=$(debian_mirror "$rel")
  log=$(mktemp)
  echo "debootstrap --variant=minbase $rel from the machine's Debian mirror" >&2
  debootstrap --variant=minbase --arch=amd64 ${include:+--include="$include"} "$rel" "$rootfs" "$mirror" >"$log" 2>&1 ||
    { tail -n 30 "$log" >&2; rm -f "$log"; return 1; }
  rm -f "$log"
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/groff/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
CFG
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,info,groff,linda,lintian}/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/*
  : >"$rootfs/etc/machine-id"
  # The container engine supplies these at run time.
  rm -f "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"
}
