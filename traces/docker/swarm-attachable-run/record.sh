#!/bin/bash
# `docker run` on an attachable overlay, on the Docker Engine: prints record.txt. A container
# with no name, in the foreground with `--rm`, or detached running a program, is made as on
# any network and attached to the overlay; one that stops gives its address back and gets a
# new one when it starts again (`docker stop`, `start`, `restart`); ingress takes no
# standalone container. A one-node swarm on this machine; the image `bbping` is this
# machine's statically linked busybox (Debian's busybox-static) imported without a registry
# (../busybox-image.sh); a lab writes `alpine`. Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
nets='{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}{{.HostConfig.NetworkMode}}'
members="{{range .Containers}}{{.Name}} {{.IPv4Address}} {{end}}"
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker network create -d overlay --attachable ov"
"sleep 2"
"docker run -d --name a1 --network ov alpine"
"docker run --rm --network ov alpine ping -c 1 a1"
"docker run -d --name p1 --network ov alpine ping -c 1 a1"
"sleep 2"
"docker logs p1"
"docker ps -a --format '{{.Names}} {{.Command}} {{.State}}'"
"docker inspect -f '$nets' a1"
"docker network inspect -f '$members' ov"
"docker stop -t 1 a1"
"docker network inspect -f '$members' ov"
"docker inspect -f '$nets' a1"
"docker start a1"
"docker inspect -f '$nets' a1"
"docker exec a1 ip link"
"docker restart -t 1 a1"
"docker exec a1 ip link"
"docker inspect -f '$nets' a1"
"docker network inspect -f '$members' ov"
"docker run -d --name bad --network ingress alpine"
"docker rm -f a1 p1 bad"
"sleep 3"
"docker network rm ov"
"docker swarm leave --force"
)
busybox_image bbping sleep ping ip
swarm_record bbping "${cmds[@]}"
