#!/bin/bash
# Shells as students type them (`docker run -dit … alpine ash`, the Docker docs' tutorials)
# and `--rm` containers stopped by hand, on Docker Engine 20.10.24: prints record.txt. The
# image `bbsh` is this machine's statically linked busybox (Debian's busybox-static) with
# `sh`, `ash` and `sleep` only (no bash, as alpine), imported without a registry
# (../busybox-image.sh); a lab writes `alpine`.
# Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker network create --subnet 10.87.0.0/24 shnet"
"docker run -dit --name a1 --network shnet alpine ash"
"docker run -d --name a2 --network shnet alpine ash"
"docker run -dit --name a3 --network shnet alpine bash"
"docker run -dit --name a4 --network shnet alpine /bin/sh"
"docker exec a1 sh"
"docker exec a1 bash"
"docker run --rm --network shnet alpine sh"
"sleep 1"
"docker ps -a --filter network=shnet --format '{{.Names}} {{.State}}'"
"docker run --rm -d --name r1 --network shnet alpine sleep 1000"
"docker stop -t 1 r1"
"docker ps -a --filter name=r1 --format '{{.Names}}'"
"docker run --rm -d --network host --name h1 alpine sleep 1000"
"docker network inspect host -f '{{len .Containers}}'"
"docker kill h1"
"docker network inspect host -f '{{len .Containers}}'"
"docker ps -a --filter name=h1 --format '{{.Names}}'"
"docker run -d --network host --name h2 alpine sleep 1000"
"docker stop -t 1 h2"
"docker network inspect host -f '{{len .Containers}}'"
"docker ps -a --filter name=h2 --format '{{.Names}} {{.State}}'"
)
cleanup() { docker rm -f a1 a2 a3 a4 r1 h1 h2 >/dev/null 2>&1; docker network rm shnet >/dev/null 2>&1; }
cleanup
busybox_image bbsh sh ash sleep
engine_banner
echo "# image: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') (Debian busybox-static) with sh, ash and sleep, imported with docker import; \`alpine\` at the end of a command runs \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
run_cases bbsh "${cmds[@]}"
cleanup
