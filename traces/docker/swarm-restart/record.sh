#!/bin/bash
# Restart policies of a service whose tasks end (`--restart-condition none|on-failure|any`,
# `--restart-max-attempts`, `--restart-delay`), on the Docker Engine: prints record.txt. A one-node swarm on this
# machine. The image `bbjob` is this machine's statically linked busybox (Debian's
# busybox-static) imported without a registry (../busybox-image.sh); a lab writes `alpine`.
# Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
IMG=bbjob
ADDR=$(ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p')
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker network create -d overlay --subnet 10.88.0.0/24 rsnet"
"docker service create --name web --endpoint-mode dnsrr --network rsnet -d alpine"
"docker service create --name none --restart-condition none --network rsnet -d alpine ping -c 1 web"
"docker service create --name okfail --restart-condition on-failure --network rsnet -d alpine ping -c 1 web"
"docker service create --name tries --restart-condition on-failure --restart-max-attempts 1 --restart-delay 1s --network rsnet -d alpine ping -c 1 nosuch"
"docker service create --name bad --restart-condition sometimes -d alpine ping -c 1 web"
"docker service create --name slow --restart-delay 5x -d alpine ping -c 1 web"
"sleep 8"
"docker service ps none"
"docker service ps okfail"
"docker service ps tries"
"docker service ls"
"docker service logs --no-task-ids tries"
"docker service rm none okfail tries web"
"docker swarm leave --force"
)
cleanup() { docker service rm none okfail tries web bad slow >/dev/null 2>&1; docker network rm rsnet >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1; docker network rm docker_gwbridge >/dev/null 2>&1; }
cleanup
busybox_image $IMG sh sleep ping
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
echo "# image: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') (Debian busybox-static) imported with docker import: \`alpine\` at the end of a command runs \`sleep 100000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status;"
echo "# 64-hex IDs are ID, 25-char swarm IDs SWARMID, 12-char task IDs SHORTID, this machine's address ADDR, times TIME"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=$c
  case $c in
    *" alpine") real="${c% alpine} $IMG sleep 100000" ;;
    *" alpine "*) real="${c/ alpine / $IMG }" ;;
  esac
  real=${real//ADDR/$ADDR}
  out=$(eval "$real" 2>&1 </dev/null); rc=$?
  # An ID has a digit and a letter ("instructions" is no ID), or begins a table row.
  echo "$out" | A=$ADDR I=$IMG perl -pe 's/\Q$ENV{A}\E/ADDR/g; s/SWMTKN-[0-9a-z-]+/TOKEN/g; s/\b[0-9a-f]{64}\b/ID/g;
    s/\b(?=[0-9a-z]{25}\b)(?=[a-z]*[0-9])(?=[0-9]*[a-z])[0-9a-z]{25}\b/SWARMID/g;
    s/\b(?=[0-9a-z]{12}\b)(?=[a-z]*[0-9])(?=[0-9]*[a-z])[0-9a-z]{12}\b/SHORTID/g;
    s/^[0-9a-z]{12}(?= )/SHORTID/;
    s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g; s/\Q$ENV{I}\E:latest/alpine:latest/g' | grep -v '^$'
  echo "[exit $rc]"
  case $c in *"service create"*) sleep 1 ;; esac
done
cleanup
