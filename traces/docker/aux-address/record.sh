#!/bin/bash
# `--aux-address` on Docker Engine 20.10.24: prints record.txt. The reserved addresses show in
# the network's IPAM config (`AuxiliaryAddresses`, by name) and no container is given one;
# an aux address outside the subnet is refused in libnetwork's words. The image `bbtest` is
# this machine's statically linked busybox (Debian's busybox-static) imported without a
# registry (../busybox-image.sh); a lab writes `alpine` for it (at the end of a command, a
# container that only sleeps). Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
IMG=bbtest
cmds=(
"docker network create --subnet 10.84.0.0/24 --aux-address router=10.84.0.2 --aux-address printer=10.84.0.3 auxnet"
"docker network inspect -f '{{json .IPAM.Config}}' auxnet"
"docker run -dit --name a1 --network auxnet alpine"
"docker inspect -f '{{.NetworkSettings.Networks.auxnet.IPAddress}}' a1"
"docker network create --subnet 10.85.0.0/24 --gateway 10.85.0.254 --aux-address gw2=10.85.0.1 auxgw"
"docker network inspect -f '{{json .IPAM.Config}}' auxgw"
"docker run -dit --name a2 --network auxgw alpine"
"docker inspect -f '{{.NetworkSettings.Networks.auxgw.IPAddress}}' a2"
"docker network create --subnet 10.86.0.0/24 --aux-address far=10.87.0.1 auxbad"
"docker network create -d overlay --subnet 10.88.0.0/24 --aux-address r=10.88.0.2 auxov"
)
cleanup() { docker rm -f a1 a2 >/dev/null 2>&1; docker network rm auxnet auxgw auxbad >/dev/null 2>&1; }
cleanup
busybox_image "$IMG" sh sleep
engine_banner
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status"
run_cases "$IMG" "${cmds[@]}"
cleanup
