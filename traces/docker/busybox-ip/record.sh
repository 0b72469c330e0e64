#!/bin/bash
# busybox's `ip addr`, `ip link` and `ip neigh` (the applet alpine's image runs as `ip`) in
# containers on Docker Engine 20.10.24: prints record.txt. Alpine builds busybox against
# musl, whose <net/if.h> defines IFF_DORMANT, so its `ip` prints each link's operational
# state (`state UP`); Debian's busybox-static is built against glibc, whose header does not,
# and prints none (busybox networking/libiproute/ipaddress.c, `print_linkinfo`). So the
# image `bbip` holds a static busybox built with musl-gcc (Debian's musl-tools) from
# busybox's source (github.com/mirror/busybox at 371fe9f, on the way to 1.37.0, the release
# alpine 3.21 to 3.24 ship), configured with `make allnoconfig` and then STATIC, ASH, SLEEP,
# CAT, PING and IP with its address, link, route and neigh parts, the kernel's UAPI headers
# given with EXTRA_CFLAGS; BUSYBOX names it. A lab writes `alpine`: here a container of bbip
# that sleeps. Needs root, docker and that busybox.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
: "${BUSYBOX:?give BUSYBOX, a static busybox built with musl (see above)}"
IMG=bbip
cmds=(
"docker network create --subnet 10.85.0.0/24 ipnet"
"docker run -dit --name b1 --network ipnet alpine"
"docker run -dit --name b2 --network ipnet alpine"
"docker run -dit --name lone --network none alpine"
"docker exec b1 ip addr"
"docker exec b1 ip link"
"docker exec b1 ip addr show eth0"
"docker exec b1 ip -4 addr"
"docker exec b1 ip -o addr"
"docker exec b1 ip neigh"
"docker exec b1 ping -c 1 b2"
"docker exec b1 ip neigh"
"docker exec lone ip addr"
"docker exec lone ip link"
"docker network connect bridge b1"
"docker exec b1 ip addr"
"docker exec b1 ip route"
"docker exec b1 ip addr show nosuch"
"docker exec b1 ip link show eth1"
"docker rm -f b1 b2 lone"
"docker network rm ipnet"
)
cleanup() {
  docker rm -f b1 b2 lone >/dev/null 2>&1
  docker network rm ipnet >/dev/null 2>&1
}
cleanup
busybox_image "$IMG" sleep ip ping sh
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
echo "# image: $(strings "$BUSYBOX" | grep -m1 -o 'BusyBox v[^ ]*') built with musl-gcc (Debian musl-tools $(dpkg-query -W -f '${Version}' musl-tools)), imported with docker import; \`alpine\` at the end \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
run_cases "$IMG" "${cmds[@]}"
cleanup
docker rmi "$IMG" >/dev/null 2>&1
