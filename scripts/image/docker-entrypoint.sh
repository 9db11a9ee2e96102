#!/bin/sh
# Entrypoint of the local base image, behaving as the official node image's: arguments that are
# node options or a script run under node, anything else (the Dockerfile's CMD ["node", ...])
# is exec'd as given, so that program becomes PID 1 and receives the stop signal itself.
set -e
case "$1" in
  -*) set -- node "$@" ;;
  *)
    if ! command -v "$1" >/dev/null 2>&1 || { [ -f "$1" ] && [ ! -x "$1" ]; }; then
      set -- node "$@"
    fi
    ;;
esac
exec "$@"
