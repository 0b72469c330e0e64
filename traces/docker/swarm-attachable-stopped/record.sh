#!/bin/bash
# Containers that are not running and an attachable overlay, on the Docker Engine: prints
# record.txt. `docker network connect OV C` of a created or stopped container only notes the
# network (inspect lists it without an address; a second connect is no error), and the
# container joins it when it starts; `network disconnect` of a stopped one forgets it.
# A one-node swarm on this machine; the image `bbping` is this machine's statically linked
# busybox (Debian's busybox-static) imported without a registry (../busybox-image.sh); a lab
# writes `alpine`. Needs root, docker and busybox-static.
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
"docker create --name s1 alpine"
"docker network connect ov s1"
"docker inspect -f '$nets' s1"
"docker network inspect -f '$members' ov"
"docker start s1"
"sleep 1"
"docker inspect -f '$nets' s1"
"docker exec s1 ip link"
"docker exec s1 ip route"
"docker network inspect -f '$members' ov"
"docker run -d --name s2 --network ov alpine"
"docker stop -t 1 s2"
"docker network connect bridge s2"
"docker network disconnect ov s2"
"docker inspect -f '$nets' s2"
"docker start s2"
"docker inspect -f '$nets' s2"
"docker exec s2 ip link"
"docker create --name s3 --network ov alpine"
"docker network disconnect ov s3"
"docker inspect -f '$nets' s3"
"docker network connect ov s3"
"docker inspect -f '$nets' s3"
"docker network connect ov s3"
"docker start s3"
"docker inspect -f '$nets' s3"
"docker network inspect -f '$members' ov"
"docker rm -f s1 s2 s3"
"sleep 3"
"docker network rm ov"
"docker swarm leave --force"
)
busybox_image bbping sleep ping ip
swarm_record bbping "${cmds[@]}"
