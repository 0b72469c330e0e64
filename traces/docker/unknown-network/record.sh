#!/bin/bash
# A network the daemon does not know, on Docker Engine 20.10.24: prints record.txt. The
# container of `docker run --network` is made and its start fails; `network connect` of a
# running container fails, of a stopped one notes the name for a start that fails. The
# words depend on the daemon's past: after a swarm it left (or none) `network X not found`;
# after a `docker swarm join` it refused, which leaves the daemon a cluster provider with no
# node, `invalid cluster node while attaching to network`, until a swarm is joined and left
# again. The record begins with a swarm made and left, so that the daemon's past is known.
# The image `bbping` is this machine's statically linked busybox (Debian's busybox-static)
# imported without a registry (../busybox-image.sh); a lab writes `alpine`. Needs root,
# docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker swarm leave --force"
"docker run -d --name u1 --network nosuch alpine"
"docker run -d --name u2 alpine"
"docker network connect nosuch u2"
"docker stop -t 1 u2"
"docker network connect nosuch u2"
"docker start u2"
"docker swarm join --token SWMTKN-1-x ADDR:2377"
"docker run -d --name u3 --network nosuch alpine"
"docker run -d --name u4 alpine"
"docker network connect nosuch u4"
"docker swarm init --advertise-addr ADDR"
"docker swarm leave --force"
"docker run -d --name u5 --network nosuch alpine"
"docker ps -a --format '{{.Names}} {{.Status}}'"
"docker rm -f u1 u2 u3 u4 u5"
)
busybox_image bbping sleep ping ip
swarm_record bbping "${cmds[@]}"
