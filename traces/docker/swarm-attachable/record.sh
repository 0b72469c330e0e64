#!/bin/bash
# Standalone containers on an attachable overlay, on the Docker Engine: prints record.txt.
# `docker run --network OV` and `docker network connect OV C` (to a container on the default
# bridge) give the container an endpoint on the overlay, which `inspect` lists under the
# overlay's name; `network disconnect` takes it away again and a second one is refused; a
# second `connect` is refused; `--gateway` on an overlay keeps that address for the
# network's gateway while the containers are numbered from the bottom of the subnet; a
# sandbox names its next interface by how many it has had (`ip link` in the container). A
# one-node swarm on this machine; the image `bbip` is this machine's statically linked
# busybox (Debian's busybox-static) imported without a registry (../busybox-image.sh); a lab
# writes `alpine`. Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
nets='{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} gw={{$v.Gateway}} {{end}}'
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker network create -d overlay --attachable ov"
"sleep 2"
"docker run -d --name c1 --network ov alpine"
"docker inspect -f '$nets' c1"
"docker inspect -f '{{with .NetworkSettings.Networks.ov}}{{.IPAMConfig.IPv4Address}} {{.MacAddress}} {{.IPPrefixLen}} {{len .Aliases}}{{end}} {{.HostConfig.NetworkMode}}' c1"
"docker network connect ov c1"
"docker run -d --name c2 alpine"
"docker network connect ov c2"
"docker inspect -f '$nets' c2"
"docker inspect -f '{{with .NetworkSettings.Networks.ov}}{{.IPAMConfig.IPv4Address}} {{.MacAddress}} {{.IPPrefixLen}} {{len .Aliases}}{{end}} {{.HostConfig.NetworkMode}}' c2"
"docker network inspect -f '{{range .Containers}}{{.Name}} {{.IPv4Address}} {{end}}' ov"
"docker network disconnect ov c1"
"docker network disconnect ov c1"
"docker inspect -f '$nets' c1"
"docker network connect ov c1"
"docker inspect -f '$nets' c1"
"docker network disconnect ov c2"
"docker inspect -f '$nets' c2"
"sleep 3"
"docker network rm ov"
"docker network ls -f driver=overlay --format '{{.Name}}'"
"docker network create -d overlay --attachable --subnet 10.60.0.0/24 --gateway 10.60.0.254 ov2"
"sleep 2"
"docker network inspect -f '{{json .IPAM.Config}}' ov2"
"docker run -d --name c3 --network ov2 alpine"
"docker inspect -f '$nets' c3"
"docker network connect ov2 c2"
"docker inspect -f '$nets' c2"
"docker network inspect -f '{{range .Containers}}{{.Name}} {{.IPv4Address}} {{end}}' ov2"
"docker network disconnect ov2 c2"
"docker network create nb"
"docker network connect nb c2"
"docker network disconnect nb c2"
"docker network connect nb c2"
"docker exec c2 ip link"
"docker network connect ov2 c2"
"docker exec c2 ip link"
"docker run -d --name c4 --network ov2 alpine"
"docker exec c4 ip link"
"docker network disconnect ov2 c4"
"docker exec c4 ip link"
"docker network connect ov2 c4"
"docker exec c4 ip link"
"docker rm -f c1 c2 c3 c4"
"sleep 3"
"docker network rm ov2 nb"
"docker swarm leave --force"
)
busybox_image bbip sleep ip
swarm_record bbip "${cmds[@]}"
