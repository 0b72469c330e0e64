#!/bin/bash
# Swarm jobs (`--mode replicated-job|global-job`), tasks that run a command and end, and
# `docker service logs`, on the Docker Engine: prints record.txt. A one-node swarm on this
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
"docker network create -d overlay --subnet 10.87.0.0/24 jobnet"
"docker service create --name web --endpoint-mode dnsrr --network jobnet -d alpine"
"docker service create --name once --mode replicated-job --network jobnet -d alpine ping -c 2 web"
"sleep 4"
"docker service ls"
"docker service ps once"
"docker service logs once"
"docker service logs --no-task-ids once"
"docker service logs --raw once"
"docker service logs --tail 1 once"
"docker service logs -n 2 --no-task-ids once"
"docker service logs --no-trunc once"
"docker service create --name three --mode replicated-job --replicas 3 --max-concurrent 2 --network jobnet -d alpine ping -c 1 web"
"sleep 6"
"docker service ps three"
"docker service ls"
"docker service create --name fails --mode replicated-job --network jobnet -d alpine ping -c 1 nosuch"
"sleep 3"
"docker service ps fails"
"docker service ls"
"docker service logs fails"
"docker service create --name g --mode global-job --network jobnet -d alpine ping -c 1 web"
"sleep 4"
"docker service ps g"
"docker service ls"
"docker service scale g=2"
"docker service create --name loop --network jobnet -d alpine ping -c 1 web"
"sleep 3"
"docker service ps loop"
"sleep 7"
"docker service ps loop"
"docker service ls"
"docker service logs loop"
"docker service logs web"
"docker service logs nosuch"
"docker service logs"
"docker service rm once three fails g loop web"
"docker swarm leave --force"
)
cleanup() { docker service rm once three fails g loop web >/dev/null 2>&1; docker network rm jobnet >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1; docker network rm docker_gwbridge >/dev/null 2>&1; }
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
