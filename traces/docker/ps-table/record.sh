#!/bin/bash
# `docker ps` and `docker ps -a` in docker/cli's table on Docker Engine 20.10.24: prints
# record.txt. Two images stand in for the lab's, made from this machine's statically linked
# busybox (Debian's busybox-static) without a registry, each with its namesake's metadata
# (their Dockerfiles in github.com/docker-library): `nginx` with ENTRYPOINT
# ["/docker-entrypoint.sh"], CMD ["nginx", "-g", "daemon off;"] and EXPOSE 80/tcp, its
# entrypoint a script that sleeps; `alpine` with CMD ["/bin/sh"]. Both carry the label
# netsim.record, and are removed afterwards only if they carry it.
# Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker run -d --name web -p 8080:80 nginx"
"docker run -d --name plain nginx"
"docker run -d --name pair -p 8081:8081 -p 8082:8082 nginx"
"docker run -dit --name c1 alpine"
"docker run -d --name c2 alpine sleep 1000"
"docker stop c2"
"sleep 5"
"docker ps"
"docker ps -a"
)
ours() { [ "$(docker image inspect -f '{{index .Config.Labels "netsim.record"}}' "$1" 2>/dev/null)" = 1 ]; }
cleanup() { docker rm -f web plain pair c1 c2 >/dev/null 2>&1; }
stand_in() { # NAME CHANGE…
  local name=$1; shift
  if docker image inspect "$name" >/dev/null 2>&1 && ! ours "$name"; then
    echo "an image $name that is not this script's is here: not replacing it" >&2; exit 1
  fi
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/img/bin" && cp /bin/busybox "$tmp/img/bin/"
  for a in sh sleep; do ln -s busybox "$tmp/img/bin/$a"; done
  printf '#!/bin/sh\nexec sleep 100000\n' > "$tmp/img/docker-entrypoint.sh" && chmod +x "$tmp/img/docker-entrypoint.sh"
  tar -C "$tmp/img" -cf "$tmp/bb.tar" . && docker import --change 'LABEL netsim.record=1' "$@" "$tmp/bb.tar" "$name:latest" >/dev/null
  rm -rf "$tmp"
}
cleanup
stand_in nginx --change 'ENTRYPOINT ["/docker-entrypoint.sh"]' --change 'CMD ["nginx", "-g", "daemon off;"]' --change 'EXPOSE 80/tcp'
stand_in alpine --change 'CMD ["/bin/sh"]'
engine_banner
echo "# images: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') as \`nginx\` (entrypoint, command and EXPOSE of nginx's image) and \`alpine\` (CMD /bin/sh), imported with docker import"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  out=$(eval "$c" 2>&1 </dev/null); rc=$?
  echo "$out" | sed -E "s/\b[0-9a-f]{64}\b/ID/g"
  echo "[exit $rc]"
done
cleanup
for i in nginx alpine; do ours $i && docker rmi $i >/dev/null; done
