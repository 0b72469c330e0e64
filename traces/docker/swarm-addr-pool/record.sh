#!/bin/bash
# `docker swarm init --default-addr-pool … --default-addr-pool-mask-length …` on Docker
# Engine 20.10.24, typed with its own 20.10 client: prints record.txt. The overlays'
# subnets, ingress's first, come from the pools given, in subnets of the size given; a size
# smaller than a pool is refused; `docker info` shows the pools and the size. No container
# runs (the banner's image line is the shared script's). Needs root
# and docker; leaves the engine with no swarm.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
PATH=/usr/bin:$PATH
cfg="{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}"
cmds=(
"docker swarm init --advertise-addr ADDR --default-addr-pool 10.20.0.0/16 --default-addr-pool-mask-length 8"
"docker swarm init --advertise-addr ADDR --default-addr-pool 10.20.0.0/16 --default-addr-pool-mask-length 26"
"docker network inspect ingress -f '$cfg'"
"docker network create -d overlay ov1"
"docker network create -d overlay ov2"
"docker network inspect ov1 ov2 -f '$cfg'"
"docker info -f '{{json .Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}}'"
"docker network rm ov1 ov2"
"docker swarm leave --force"
"docker network rm docker_gwbridge"
"docker swarm init --advertise-addr ADDR --default-addr-pool 10.20.0.0/16 --default-addr-pool 10.30.0.0/16"
"docker network inspect ingress -f '$cfg'"
"docker info -f '{{json .Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}}'"
)
swarm_record none "${cmds[@]}"
