#!/bin/sh
# Entrypoint of the local nginx image, with the parts of the official image's contract the
# stack uses, when the command is nginx:
#   NGINX_ENTRYPOINT_LOCAL_RESOLVERS set: NGINX_LOCAL_RESOLVERS holds the first nameserver of
#     /etc/resolv.conf, the engine's DNS (127.0.0.11 on Docker, the network's gateway on Podman).
#     Upstream's script takes every nameserver, but Podman 4 lists the host's after its own,
#     and nginx asks its resolvers in turn: every other lookup of a service name would fail.
#   every ${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}/X.template is rendered to
#     ${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}/X, substituting only variables set in the
#     environment, so nginx's own $variables stay.
set -eu
case "$1" in nginx | nginx-debug) ;; *) exec "$@" ;; esac

if [ -n "${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}" ]; then
  NGINX_LOCAL_RESOLVERS=$(awk '$1 == "nameserver" { addr = $2; if (addr ~ /:/) addr = "[" addr "]"; print addr; exit }' /etc/resolv.conf)
  export NGINX_LOCAL_RESOLVERS
fi

template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
if [ -d "$template_dir" ]; then
  defined=$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
  find "$template_dir" -follow -type f -name "*$suffix" | while read -r template; do
    relative=${template#"$template_dir"/}
    output=$output_dir/${relative%"$suffix"}
    mkdir -p "$(dirname "$output")"
    envsubst "$defined" <"$template" >"$output"
    echo "nginx entrypoint: rendered $template to $output" >&2
  done
fi
exec "$@"
