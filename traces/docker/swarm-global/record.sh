#!/bin/bash
# A global service (`--mode global`) on the Docker Engine: prints record.txt. A one-node
# swarm on this machine. The image `bbtest` is busybox-static with a few applet links,
# imported without a registry:
#   mkdir -p img/bin && cp /usr/bin/busybox img/bin/ &&
#   for a in sh sleep; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbtest:latest
IMG="bbtest sleep 100000"
ADDR=$(ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p')
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker network create -d overlay ov"
"docker service create --name g --mode global --network ov -d alpine"
"docker service create --name bad --mode global --replicas 2 -d alpine"
"docker service ls"
"docker service ps g"
"docker ps --format {{.Names}}"
"docker service inspect -f '{{json .Spec.Mode}}' g"
"docker service inspect --pretty g"
"docker service scale g=2"
"docker service update --replicas 2 -d g"
"docker node ps"
"docker service rm g"
"docker swarm leave --force"
)
cleanup() { docker service rm g bad >/dev/null 2>&1; docker network rm ov >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1; docker network rm docker_gwbridge >/dev/null 2>&1; }
cleanup
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
echo "# image: busybox-static imported with docker import; each task runs \`sleep 100000\`; a lab writes \`alpine\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status;"
echo "# 64-hex IDs are ID, 25-char swarm IDs SWARMID, 12-hex short IDs SHORTID, this machine's address ADDR, times TIME"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=${c% alpine}
  [ "$real" != "$c" ] && real="$real $IMG"
  real=${real//ADDR/$ADDR}
  # shellcheck disable=SC2086
  out=$(eval "$real" 2>&1); rc=$?
  echo "$out" | sed -E "s/$ADDR/ADDR/g; s/SWMTKN-[0-9a-z-]+/TOKEN/g; s/\b[0-9a-f]{64}\b/ID/g; s/\b[0-9a-z]{25}\b/SWARMID/g; s/\b[0-9a-f]{12}\b/SHORTID/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g" | grep -v '^$'
  echo "[exit $rc]"
  # Let the orchestrator converge before the next look.
  case $c in *"service create"*|*"service update"*) sleep 3 ;; esac
done
cleanup
