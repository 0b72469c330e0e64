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
IMAGE_CMD='["/bin/sh"]' busybox_image bbsh sh sleep
docker rm -f c1 c2 >/dev/null 2>&1
# `alpine` is the image as it is, with its own command.
BARE=1 swarm_record bbsh "${cmds[@]}"
