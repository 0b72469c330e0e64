#!/bin/bash
# `docker logs` and containers whose process is a program (`docker run [-d] IMAGE CMD`) on
# Docker Engine 20.10.24: prints record.txt. The image `bblogs` is this machine's
# statically linked busybox (Debian's busybox-static) imported without a registry
# (../busybox-image.sh); a lab writes `alpine`.
# Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker network create --subnet 10.86.0.0/24 lognet"
"docker run -d --name web --network lognet alpine sleep 1000"
"docker run -d --name pinger --network lognet alpine ping -c 3 web"
"docker logs pinger"
"sleep 3"
"docker ps -a --filter network=lognet --format '{{.Names}} {{.State}}'"
"docker inspect -f '{{.State.ExitCode}}' pinger"
"docker logs --tail 2 pinger"
"docker logs -n 1 pinger"
"docker run --name once --network lognet alpine ping -c 1 nosuch"
"docker logs once"
"docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' once"
"docker run -d --name bad --network lognet alpine ping -c x web"
"docker logs bad"
"docker logs web"
"docker logs nope"
)
cleanup() { docker rm -f web pinger once bad >/dev/null 2>&1; docker network rm lognet >/dev/null 2>&1; }
cleanup
busybox_image bblogs sh sleep ping
engine_banner
echo "# image: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') (Debian busybox-static, glibc static) imported with docker import, CMD none: \`alpine\` at the end of a command runs \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
run_cases bblogs "${cmds[@]}"
cleanup
