#!/usr/bin/env bash
# Builds an image for every service of compose/*.yaml that can be made from what this machine
# reaches, tagged exactly as the Compose files name it, so `docker compose up` finds each one
# locally and pulls nothing (docs/stack.md lists them, with the versions that differ from the
# pins). Each image keeps its upstream image's contract: entrypoint and command, user, the
# paths the Compose files mount into, ports, the environment it honours, and the tools its
# healthcheck runs. The rest:
#   - a Debian minbase of $STACK_DEBIAN_RELEASE made by debootstrap (localhost/cloudmart-debian),
#   - Prometheus, Alertmanager, Jaeger and node-exporter from their pinned Go modules, and the
#     OpenTelemetry Collector from its builder manifest (scripts/backends.sh),
#   - Postgres, Redis (Valkey), nginx and the Postgres and Redis exporters from Debian packages.
# Left out, because nothing here can make them: Grafana, Loki, Promtail, Alloy (AGPL, not to be
# built from the module proxy), Elasticsearch, Kibana, the APM server, k6, and cAdvisor (the
# proxy does not serve its cmd module).
#
# Cached while the pins and the recipes are unchanged: podman's store, and an archive per image
# under ${CLOUDMART_CACHE:-~/.cache/cloudmart}/image/stack/ that a new podman store loads.
# Usage: scripts/image/build-stack.sh [service ...]   (default: all). Prints "<service> <tag>"
# per image; build logs go to stderr. Needs root (debootstrap, podman).
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "$0")/env.sh"
image_need_tools podman runc debootstrap flock netavark aardvark-dns iptables
here=$(cd "$(dirname "$0")" && pwd)
stack_dir=$here/stack
cache=$image_cache/stack
mkdir -p "$cache"
exec 8>"$cache/.lock"
flock 8

# Every buildable service: its recipe in scripts/image/stack/, and the Go programs it copies in.
services=(backend lb postgres redis otel-collector prometheus alertmanager jaeger node-exporter postgres-exporter redis-exporter)
declare -A recipe_of=(
  [lb]=nginx [postgres]=postgres [redis]=redis [prometheus]=prometheus [alertmanager]=alertmanager
  [jaeger]=jaeger [node-exporter]=node-exporter [postgres-exporter]=postgres-exporter [redis-exporter]=redis-exporter
  [otel-collector]=otel-collector
)
declare -A go_build_of=([prometheus]=prometheus [alertmanager]=alertmanager [jaeger]=jaeger [node-exporter]=node-exporter [otel-collector]=otelcol)
declare -A go_files_of=([prometheus]="prometheus promtool" [alertmanager]="alertmanager amtool" [jaeger]=jaeger [node-exporter]=node_exporter [otel-collector]=otelcol)

# The `image:` of a service in compose/*.yaml, as Compose names it.
compose_image() {
  awk -v svc="$1" '
    /^[^ #]/ { in_services = ($0 ~ /^services:/) }
    in_services && /^  [^ #]/ { current = $1; sub(/:$/, "", current) }
    in_services && current == svc && /^    image:/ { print $2; exit }
  ' "$image_root"/compose/*.yaml
}

# The fully qualified name Docker's API resolves a Compose image name to: podman would put a
# short name under localhost/, where Compose (through the Docker API) does not look.
qualified() {
  local name=$1 first=${1%%/*}
  if [[ $name != */* ]]; then
    echo "docker.io/library/$name"
  elif [[ $first == *.* || $first == *:* || $first == localhost ]]; then
    echo "$name"
  else
    echo "docker.io/$name"
  fi
}

recipe_label() { podman image inspect --format '{{index .Config.Labels "cloudmart.stack.recipe"}}' "$1" 2>/dev/null || true; }

# The Debian base every stack image starts from (not the backend's: that one is node's).
stack_base() {
  local key tag dir work
  # Keyed by the bootstrap recipe itself, so editing this script rebuilds no base.
  key=$( (echo "$STACK_DEBIAN_RELEASE"; declare -f debian_mirror debian_minbase stack_base) | sha256sum | cut -c1-16)
  tag=localhost/cloudmart-debian:$STACK_DEBIAN_RELEASE-slim
  dir=$cache/debian-$STACK_DEBIAN_RELEASE-$key
  if [ "$(recipe_label "$tag")" = "$key" ]; then echo "$tag"; return; fi
  if [ ! -f "$dir/rootfs.tar.gz" ]; then
    work=$(mktemp -d "$cache/build.XXXXXX")
    # wget: the tool of the upstream images' healthchecks (busybox's there).
    debian_minbase "$STACK_DEBIAN_RELEASE" "$work/rootfs" wget
    mkdir -p "$dir"
    tar --numeric-owner --xattrs -C "$work/rootfs" -cf - . | gzip -1 >"$dir/rootfs.tar.gz.tmp"
    mv "$dir/rootfs.tar.gz.tmp" "$dir/rootfs.tar.gz"
    rm -rf "$work"
  fi
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL cloudmart.stack.recipe=$key" \
    "$dir/rootfs.tar.gz" "$tag" >/dev/null
  echo "$tag"
}

# The backend: scripts/image/build.sh's image (podman's layer cache), tagged as Compose names it.
# Its local node base also gets the Dockerfile's default NODE_IMAGE name, so `docker compose
# build` (or `up --build`) builds the Dockerfile as shipped.
build_backend() {
  local tag=$1 built node_base
  node_base=$(bash "$here/base.sh")
  podman tag "$node_base" "docker.io/library/node:$NODE_VERSION-$DEBIAN_RELEASE-slim"
  built=$(bash "$here/build.sh")
  podman tag "$built" "$tag"
}

build_service() {
  local service=$1 tag=$2 name containerfile key ctx archive dir file
  name=${recipe_of[$service]}
  containerfile=$stack_dir/$name.Containerfile
  ctx=$(mktemp -d "$cache/ctx.XXXXXX")
  # The build context: the recipe, its entrypoint if any, and the Go programs it copies in.
  cp "$containerfile" "$ctx/Containerfile"
  [ -f "$stack_dir/$name-entrypoint.sh" ] && cp "$stack_dir/$name-entrypoint.sh" "$ctx/entrypoint.sh"
  if [ -n "${go_build_of[$service]:-}" ]; then
    dir=${go_dirs[${go_build_of[$service]}]:?no Go build for $service}
    for file in ${go_files_of[$service]}; do cp "$dir/$file" "$ctx/$file"; done
  fi
  key=$( (echo "$base" "$tag" "$(recipe_label "$base")"; cd "$ctx" && find . -type f | sort | xargs sha256sum) | sha256sum | cut -c1-16)
  archive=$cache/$service-$key.tar
  if [ "$(recipe_label "$tag")" = "$key" ]; then
    rm -rf "$ctx"
    return
  fi
  if [ -f "$archive" ] && podman load --quiet --input "$archive" >/dev/null && [ "$(recipe_label "$tag")" = "$key" ]; then
    echo "loaded $tag from $archive" >&2
    rm -rf "$ctx"
    return
  fi
  local start=$SECONDS
  # Host network: apt inside the build reaches the machine's Debian mirror as the host does.
  podman build --format docker --network host --layers --pull=never \
    --build-arg "BASE=$base" --label "cloudmart.stack.recipe=$key" -t "$tag" "$ctx" >&2
  rm -f "$cache/$service"-*.tar
  podman save --quiet --format docker-archive --output "$archive.tmp" "$tag"
  mv "$archive.tmp" "$archive"
  rm -rf "$ctx"
  echo "built $tag in $((SECONDS - start)) s" >&2
}

wanted=("$@")
((${#wanted[@]})) || wanted=("${services[@]}")
for service in "${wanted[@]}"; do
  [[ " ${services[*]} " == *" $service "* ]] || { echo "build-stack: no image recipe for $service (buildable: ${services[*]})" >&2; exit 2; }
done

declare -A go_dirs=()
go_needed=()
for service in "${wanted[@]}"; do [ -n "${go_build_of[$service]:-}" ] && go_needed+=("${go_build_of[$service]}"); done
if ((${#go_needed[@]})); then
  mapfile -t dirs < <(bash "$image_root/scripts/backends.sh" "${go_needed[@]}")
  for i in "${!go_needed[@]}"; do go_dirs[${go_needed[$i]}]=${dirs[$i]}; done
fi
base=$(stack_base)

for service in "${wanted[@]}"; do
  image=$(compose_image "$service")
  [ -n "$image" ] || { echo "build-stack: compose/*.yaml has no image for $service" >&2; exit 1; }
  # The backend's tag carries ${SERVICE_VERSION:-dev}: the default is what `up` looks for.
  image=$(sed -E 's/\$\{[A-Z_]+:-([^}]*)\}/\1/g' <<<"$image")
  tag=$(qualified "$image")
  if [ "$service" = backend ]; then build_backend "$tag"; else build_service "$service" "$tag"; fi
  echo "$service $tag"
done
