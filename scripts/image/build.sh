#!/usr/bin/env bash
# Builds the backend image from the repo's Dockerfile with podman, on the local base image
# (scripts/image/base.sh) since none can be pulled. Podman's layer cache makes a rebuild of an
# unchanged tree take seconds. Docker format, because the OCI format drops HEALTHCHECK.
# Usage: scripts/image/build.sh [extra podman build args]   Prints the image tag
# (BACKEND_IMAGE, default localhost/cloudmart/backend:test); the build log goes to stderr.
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "$0")/env.sh"
base=$(bash "$(dirname "$0")/base.sh")
cd "$image_root"

args=(--build-arg "NODE_IMAGE=$base" --build-arg "SERVICE_VERSION=$(node -p "require('./package.json').version")")
if sha=$(git rev-parse HEAD 2>/dev/null); then
  args+=(--build-arg "GIT_COMMIT_SHA=$sha" --build-arg "GIT_COMMIT_TIME=$(git show -s --format=%cI HEAD)")
fi
start=$SECONDS
previous=$(podman image inspect --format '{{.Id}}' "$backend_tag" 2>/dev/null || true)
podman build --format docker --network host --layers "${args[@]}" "$@" -t "$backend_tag" -f Dockerfile . >&2
# Each commit makes a new runtime stage; drop the one this tag no longer names so a CI
# machine that keeps its store does not grow by an image per run (shared layers stay).
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$backend_tag")" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
size=$(podman image inspect --format '{{.Size}}' "$backend_tag")
echo "built $backend_tag ($((size / 1000000)) MB) in $((SECONDS - start)) s" >&2
echo "$backend_tag"
