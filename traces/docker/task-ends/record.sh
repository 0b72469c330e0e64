#!/bin/bash
# Containers and swarm tasks whose program ends, on the Docker Engine: prints record.txt.
# alpine's default command is `/bin/sh`, which without a terminal reads end-of-file and exits
# 0 at once, so a service of plain `alpine` is restarted again and again unless it has `-t`;
# `sleep 2` ends after two seconds. A one-node swarm on this machine. The image `bbsh` is
# this machine's statically linked busybox (Debian's busybox-static) imported without a
# registry with alpine's `CMD ["/bin/sh"]`; a lab writes `alpine`. Needs root, docker and
# busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
IMG=bbsh
ADDR=$(ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p')
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker service create --name sh1 -d alpine"
"docker service create --name tty1 -t -d alpine"
"sleep 9"
"docker service ps sh1"
"docker service ps tty1"
"docker service create --name nap -d alpine sleep 2"
"sleep 5"
"docker service ps nap"
"docker service ls"
"docker run -d --name c1 alpine sleep 2"
"docker run -d --name c2 alpine"
"sleep 3"
"docker inspect -f '{{.Name}} {{.State.Status}} {{.State.ExitCode}}' c1 c2"
"docker service rm sh1 tty1 nap"
"docker rm -f c1 c2"
"docker swarm leave --force"
)
cleanup() { docker service rm sh1 tty1 nap >/dev/null 2>&1; docker rm -f c1 c2 >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1; docker network rm docker_gwbridge >/dev/null 2>&1; }
cleanup
if ! docker image inspect $IMG >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/img/bin" && cp /bin/busybox "$tmp/img/bin/"
  for a in sh sleep; do ln -s busybox "$tmp/img/bin/$a"; done
  tar -C "$tmp/img" -cf "$tmp/bb.tar" . && docker import --change 'CMD ["/bin/sh"]' "$tmp/bb.tar" $IMG:latest >/dev/null
  rm -rf "$tmp"
fi
# `alpine` is the image as it is, with its own command.
BARE=1 run_swarm_cases "$IMG" "$ADDR" "${cmds[@]}"
cleanup
