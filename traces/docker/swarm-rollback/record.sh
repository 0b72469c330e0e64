#!/bin/bash
# `docker service rollback` on the Docker Engine: prints record.txt. A one-node
# swarm on this machine. The image `bbtest` is busybox-static with a few applet links,
# imported without a registry:
#   mkdir -p img/bin && cp /usr/bin/busybox img/bin/ &&
#   for a in sh sleep; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbtest:latest
IMG="bbtest sleep 100000"
ADDR=$(ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p')
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker service create --name web --replicas 1 -d alpine"
"docker service rollback -d web"
"docker service update --replicas 3 -d web"
"docker service inspect -f '{{json .PreviousSpec.Mode}}' web"
"docker service rollback -d web"
"docker service ls"
"docker service inspect -f '{{.Spec.Mode.Replicated.Replicas}} {{json .PreviousSpec.Mode}}' web"
"docker service rollback -d web"
"docker service inspect -f '{{.Spec.Mode.Replicated.Replicas}} {{json .PreviousSpec.Mode}}' web"
"docker service rollback -d nosuch"
"docker service rollback web"
"docker service rm web"
"docker swarm leave --force"
)
cleanup() { docker service rm web >/dev/null 2>&1; docker network rm ov >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1; docker network rm docker_gwbridge >/dev/null 2>&1; }
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
  case $c in *"service create"*|*"service update"*|*"rollback"*) sleep 3 ;; esac
done
cleanup
