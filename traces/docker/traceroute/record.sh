#!/bin/bash
# busybox `traceroute` (the applet alpine's and busybox's images run) on the Docker Engine:
# prints record.txt. The image `bbtr` is this machine's statically linked busybox (Debian's
# busybox-static) imported without a registry (../busybox-image.sh); a lab writes `alpine`
# for a container of it that sleeps.
#
# The lab has a second host, `far`, on the Docker host's LAN: here a network namespace
# joined to the root namespace by a veth pair, 192.168.99.101/24 on the Docker host's side
# and 192.168.99.102/24 in `far` (the lab's hosts are 192.168.99.101 and .102 on one LAN).
# Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker network create --subnet 10.81.0.0/24 trnet"
"docker network create --subnet 10.83.0.0/24 other"
"docker run -dit --name tgt --network trnet alpine"
"docker run -dit --name cli --network trnet alpine"
"docker run -dit --name iso --network other alpine"
"docker run -dit --name dflt alpine"
"docker run -dit --name lone --network none alpine"
"docker exec cli traceroute tgt"
"docker exec cli traceroute -n 10.81.0.2"
"docker exec cli traceroute 192.168.99.102"
"docker exec dflt traceroute -n 192.168.99.102"
"docker exec cli traceroute -n -m 1 192.168.99.102"
"docker exec cli traceroute -n -f 2 192.168.99.102"
"docker exec cli traceroute -n -q 1 192.168.99.102"
"docker exec cli traceroute -l -n tgt"
"docker exec cli traceroute -n -p 40000 -q 2 tgt"
"docker exec cli traceroute -n tgt 100"
"docker exec cli traceroute -n -m 3 -q 1 -w 1 10.83.0.2"
"docker exec cli traceroute -n -q 1 -w 5 192.168.99.77"
"docker exec cli traceroute -n -q 1 tgt.trnet"
"docker exec cli traceroute nosuch"
"docker exec cli traceroute"
"docker exec cli traceroute -m 0 tgt"
"docker exec cli traceroute -q x tgt"
"docker exec cli traceroute -n tgt 10"
"docker exec lone traceroute -n 10.9.9.9"
)
cleanup() {
  docker rm -f tgt cli iso dflt lone >/dev/null 2>&1; docker network rm trnet other >/dev/null 2>&1
  ip netns del far 2>/dev/null; ip link del trv0 2>/dev/null
}
cleanup
busybox_image bbtr sh sleep traceroute
ip netns add far && ip link add trv0 type veth peer name eth0 netns far &&
  ip addr add 192.168.99.101/24 dev trv0 && ip link set trv0 up &&
  ip -n far addr add 192.168.99.102/24 dev eth0 && ip -n far link set eth0 up && ip -n far link set lo up &&
  ip -n far route add default via 192.168.99.101
engine_banner
echo "# image: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') (Debian busybox-static, glibc static) imported with docker import; \`alpine\` runs \`sleep 1000\`"
echo "# far: a network namespace at 192.168.99.102/24, the Docker host 192.168.99.101/24 on a veth pair"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
run_cases bbtr "${cmds[@]}"
cleanup
