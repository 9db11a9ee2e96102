#!/bin/sh
# Entrypoint of the local redis image, with the official image's contract: options alone (or a
# .conf file first) run redis-server with them; redis-server runs as the redis user, owning
# /data; protected mode is off, since the upstream image builds its server that way and the
# container's network, not the loopback check, is what keeps it private.
set -eu
case "$1" in -* | *.conf) set -- redis-server "$@" ;; esac
[ "$1" = redis-server ] || exec "$@"
if [ "$(id -u)" = 0 ]; then
  find . \! -user valkey -exec chown valkey '{}' +
  exec setpriv --reuid=valkey --regid=valkey --init-groups "$0" "$@"
fi
shift
exec redis-server --protected-mode no "$@"
