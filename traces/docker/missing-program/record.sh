#!/bin/bash
# What the Docker Engine says when a lab runs a program its image does not have (alpine has
# no curl, dig or mysql; Debian's and Ubuntu's base images have no ping): `docker exec`,
# `docker run` in the foreground and detached. Prints record.txt. The image `bbmin` is this
# machine's statically linked busybox (Debian's busybox-static) with only `sh` and `sleep`,
# imported without a registry (`busybox_image` in ../busybox-image.sh).
# A lab writes `alpine`: here a container of bbmin that sleeps (or runs the command given).
# Needs root, docker and busybox-static.
set -u
. "$(dirname "$0")/../busybox-image.sh"
IMG=bbmin
cmds=(
"docker network create --subnet 10.84.0.0/24 toolnet"
"docker run -dit --name c1 --network toolnet alpine"
"docker exec c1 curl http://c1/"
"docker exec c1 dig c1"
"docker exec -it c1 mysql -h db"
"docker run --rm --network toolnet alpine curl http://c1/"
"docker run -d --name r1 --network toolnet alpine curl http://c1/"
"docker ps -a --format {{.Names}}:{{.Status}}"
"docker start r1"
"docker rm r1"
)
cleanup() { docker rm -f c1 r1 >/dev/null 2>&1; docker network rm toolnet >/dev/null 2>&1; }
cleanup
busybox_image $IMG sh sleep
engine_banner
echo "# image: $(/bin/busybox | head -1 | sed 's/ multi-call binary.//') with sh and sleep only, imported with docker import; \`alpine\` runs \`sleep 1000\` unless given a command"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
run_cases $IMG "${cmds[@]}"
cleanup
