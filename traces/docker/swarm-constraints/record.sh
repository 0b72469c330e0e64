#!/bin/bash
# Node labels, roles and placement constraints on the Docker Engine: prints record.txt. A
# one-node swarm on this machine: `docker node update --label-add/--label-rm/--role`, and
# services whose `--constraint` the node meets or not (a task that cannot be placed waits,
# Pending, until a node meets it; swarmkit's constraint enforcer stops a running task whose
# node no longer does). The image `bbtest` is busybox-static with a few applet links,
# imported without a registry:
#   mkdir -p img/bin && cp /usr/bin/busybox img/bin/ &&
#   for a in sh sleep; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbtest:latest
IMG="bbtest sleep 100000"
HOST=$(hostname)
ADDR=$(ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p')
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker node update --label-add zone=east HOST"
"docker node inspect -f {{.Spec.Labels}} self"
"docker service create --name east --constraint node.labels.zone==east -d alpine"
"docker service create --name west --constraint node.labels.zone==west -d alpine"
"docker service create --name wrk --constraint node.role==worker -d alpine"
"docker service create --name mgr --constraint node.role!=worker --constraint node.hostname==HOST -d alpine"
"docker service ls"
"docker service ps west"
"docker node update --label-add zone=west HOST"
"docker service ls"
"docker service ps east"
"docker node update --label-rm zone HOST"
"docker node inspect -f {{.Spec.Labels}} self"
"docker node update --label-rm nosuch HOST"
"docker service create --name bad --constraint node.zone==east -d alpine"
"docker service create --name bad2 --constraint node.labels.zone -d alpine"
"docker node update --role worker HOST"
"docker node update --role manager HOST"
"docker service rm east west wrk mgr"
"docker swarm leave --force"
)
cleanup() { docker service rm east west wrk mgr bad bad2 >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1; docker network rm docker_gwbridge >/dev/null 2>&1; }
cleanup
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
echo "# image: busybox-static imported with docker import; each task runs \`sleep 100000\`; a lab writes \`alpine\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status;"
echo "# 64-hex IDs are ID, 25-char swarm IDs SWARMID, 12-hex short IDs SHORTID, this machine's address ADDR, its name HOST, times TIME"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=${c% alpine}
  [ "$real" != "$c" ] && real="$real $IMG"
  real=${real//ADDR/$ADDR}
  real=${real//HOST/$HOST}
  # shellcheck disable=SC2086
  out=$(eval "$real" 2>&1); rc=$?
  echo "$out" | sed -E "s/$ADDR/ADDR/g; s/\\b$HOST\\b/HOST/g; s/SWMTKN-[0-9a-z-]+/TOKEN/g; s/\b[0-9a-f]{64}\b/ID/g; s/\b[0-9a-z]{25}\b/SWARMID/g; s/\b[0-9a-f]{12}\b/SHORTID/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g" | grep -v '^$'
  echo "[exit $rc]"
  # Let the orchestrator converge before the next look.
  case $c in *"node update"*) sleep 12 ;; *"service create"*|*"service update"*|*"service scale"*) sleep 3 ;; esac
done
cleanup
