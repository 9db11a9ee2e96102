#!/usr/bin/env bash
# Builds the stack's Go programs from their pinned module versions (tools/versions.env,
# tools/go/<tool>/go.mod) into a cache outside the checkout, reused while the pins are
# unchanged:  ${CLOUDMART_CACHE:-~/.cache/cloudmart}/go/<tool>-<version>/
# Usage: scripts/backends.sh [tool ...]   (default: all). Prints each binary's directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tools/versions.env
. "$root/tools/versions.env"
cache=${CLOUDMART_CACHE:-$HOME/.cache/cloudmart}/go

# tool -> "version|package ..."
declare -A spec=(
  [prometheus]="$PROMETHEUS_VERSION|github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool"
  [alertmanager]="$ALERTMANAGER_VERSION|github.com/prometheus/alertmanager/cmd/alertmanager github.com/prometheus/alertmanager/cmd/amtool"
  [jaeger]="$JAEGER_VERSION|github.com/jaegertracing/jaeger/cmd/jaeger"
  [compose]="$COMPOSE_VERSION|github.com/docker/compose/v5/cmd"
  [helm]="$HELM_VERSION|helm.sh/helm/v4/cmd/helm"
  [node-exporter]="$NODE_EXPORTER_VERSION|github.com/prometheus/node_exporter"
)
# tool -> linker flags that stamp the version into the binary (go build leaves it empty):
# `promtool --version`, `jaeger version` and the build_info metrics then name the release.
common_version=github.com/prometheus/common/version
declare -A stamp=(
  [prometheus]="-X $common_version.Version=$PROMETHEUS_VERSION -X $common_version.Branch=HEAD"
  [alertmanager]="-X $common_version.Version=$ALERTMANAGER_VERSION -X $common_version.Branch=HEAD"
  [node-exporter]="-X $common_version.Version=$NODE_EXPORTER_VERSION -X $common_version.Branch=HEAD"
  [jaeger]="-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v$JAEGER_VERSION"
)
mkdir -p "$cache"

# Alertmanager's module lacks its web UI: ui/app/dist is built by its release pipeline and
# left out of the module, yet ui/web.go embeds it, so `go build` stops there. Build from a
# copy of the module whose UI is one placeholder page, in both roots web.go serves
# (dist/elm at /, dist/mantine at /ui/); the API the tests use is unchanged.
# Prints the -modfile flag that points the build at that copy.
alertmanager_without_ui() {
  set -e
  local dir=$cache/src/alertmanager-$ALERTMANAGER_VERSION mod module=github.com/prometheus/alertmanager
  mod=$(cd "$root/tools/go/alertmanager" && go mod download "$module" && go list -m -f '{{.Dir}}' "$module")
  rm -rf "$dir" && mkdir -p "$dir"
  cp -R "$mod" "$dir/module" && chmod -R u+w "$dir/module"
  local ui
  for ui in elm mantine; do
    mkdir -p "$dir/module/ui/app/dist/$ui"
    printf '<!doctype html><title>Alertmanager</title><p>Web UI not built here; the API is at /api/v2/.\n' |
      gzip -9n >"$dir/module/ui/app/dist/$ui/index.html.gz"
  done
  cp "$root/tools/go/alertmanager/go.mod" "$dir/go.mod" && cp "$root/tools/go/alertmanager/go.sum" "$dir/go.sum"
  go mod edit -replace="$module=$dir/module" "$dir/go.mod"
  echo "-modfile=$dir/go.mod"
}
# One build at a time per cache: parallel test runs may call this together.
exec 9>"$cache/.lock"
flock 9
tools=("$@")
((${#tools[@]})) || tools=(prometheus alertmanager jaeger compose helm node-exporter)

for tool in "${tools[@]}"; do
  IFS='|' read -r version pkgs <<<"${spec[$tool]:?unknown tool $tool}"
  out="$cache/$tool-$version"
  flags=${stamp[$tool]:-}
  # .complete holds the stamp flags it was linked with: a changed stamp relinks (Go's build cache keeps that short).
  if [ -f "$out/.complete" ] && [ "$(cat "$out/.complete")" = "$flags" ]; then
    echo "$out"
    continue
  fi
  start=$SECONDS
  rm -rf "$out" && mkdir -p "$out"
  modfile=
  [ "$tool" = alertmanager ] && modfile=$(alertmanager_without_ui)
  # shellcheck disable=SC2086
  (cd "$root/tools/go/$tool" && CGO_ENABLED=0 go build -trimpath $modfile -ldflags="-s -w $flags" -o "$out/" $pkgs) >&2
  # Compose's main package is named cmd; the Docker CLI looks for it as a plugin named docker-compose.
  [ "$tool" = compose ] && mv "$out/cmd" "$out/docker-compose"
  printf '%s' "$flags" >"$out/.complete"
  echo "built $tool $version in $((SECONDS - start)) s" >&2
  echo "$out"
done
