#!/bin/bash
# `--link` on a user-defined network on Docker Engine 20.10.24: prints record.txt. There a
# link is an alias that only the linking container resolves, through the embedded DNS;
# /etc/hosts is not written. The image `bblink` is this machine's statically linked busybox
# (Debian's busybox-static) imported without a registry (../busybox-image.sh); a lab writes
# `alpine`. Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker network create --subnet 10.87.0.0/24 linknet"
"docker run -dit --name web --network linknet alpine"
"docker run -dit --name c1 --network linknet --link web:db alpine"
"docker run -dit --name c2 --network linknet alpine"
"docker exec c1 ping -c 1 db"
"docker exec c2 ping -c 1 db"
"docker exec c1 ping -c 1 web"
"docker exec c1 cat /etc/hosts"
"docker run -dit --name c3 --network linknet --link web alpine"
"docker exec c3 ping -c 1 web"
"docker run -dit --name c4 --network linknet --link nosuch:x alpine"
"docker run -dit --name c5 --link web:db alpine"
)
cleanup() { docker rm -f web c1 c2 c3 c4 c5 >/dev/null 2>&1; docker network rm linknet >/dev/null 2>&1; }
cleanup
busybox_image bblink sh sleep ping cat
engine_banner
echo "# image: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') (Debian busybox-static, glibc static) imported with docker import, CMD none: \`alpine\` at the end of a command runs \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
run_cases bblink "${cmds[@]}" | sed -E 's/^(10\.87\.0\.[0-9]+\t)[0-9a-f]{12}$/\1SHORTID/'
cleanup
