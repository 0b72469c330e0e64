#!/bin/bash
# `docker ps --filter` on the Docker Engine: by name (text and anchors), status, exit code,
# network, label and image, a bad status, an unknown key and a filter without `=`. Prints
# record.txt. The containers are this machine's busybox (Debian's busybox-static), imported
# without a registry (`busybox_image` in ../busybox-image.sh).
# A lab writes `alpine`: here bbmin running `sleep 1000`.
# Needs root, docker and busybox-static.
set -u
. "$(dirname "$0")/../busybox-image.sh"
IMG=bbmin
cmds=(
"docker network create --subnet 10.86.0.0/24 pfnet"
"docker run -dit --name pf-web --network pfnet --label tier=web alpine"
"docker run -dit --name pf-db --network pfnet --label tier=db alpine"
"docker run -dit --name other alpine"
"docker kill pf-db"
"docker run -d --name pf-new --network pfnet alpine curl"
"docker ps --format {{.Names}}"
"docker ps --filter name=pf --format {{.Names}}"
"docker ps -a --filter name=pf --format {{.Names}}"
"docker ps -a --filter name=^pf-web$ --format {{.Names}}"
"docker ps -a --filter name=b$ --format {{.Names}}"
"docker ps --filter status=exited --format {{.Names}}"
"docker ps --filter status=created --format {{.Names}}"
"docker ps -a --filter exited=137 --format {{.Names}}"
"docker ps -a --filter network=pfnet --format {{.Names}}"
"docker ps -a --filter label=tier --format {{.Names}}"
"docker ps -a --filter label=tier=db --format {{.Names}}"
"docker ps -a --filter name=pf --filter status=running --format {{.Names}}"
"docker ps -a --filter status=running --filter status=created --format {{.Names}}"
"docker ps -a --filter ancestor=alpine --format {{.Names}}"
"docker ps --filter status=bogus"
"docker ps --filter colour=red"
"docker ps --filter name"
)
cleanup() { docker rm -f pf-web pf-db pf-new other >/dev/null 2>&1; docker network rm pfnet >/dev/null 2>&1; }
cleanup
busybox_image $IMG sh sleep
engine_banner
echo "# image: $(/bin/busybox | head -1 | sed 's/ multi-call binary.//') with sh and sleep only; \`alpine\` runs \`sleep 1000\` unless given a command"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
run_cases $IMG "${cmds[@]}"
cleanup
