#!/bin/bash
# `docker stack` on a one-node swarm of Docker Engine 20.10, as a student types it: prints
# record.txt. Run from this folder on a machine whose daemon is in no swarm. The stack's
# services run `sleep 100000` in an image named `alpine` that is busybox-static imported
# without a registry (as traces/docker/compose/record.sh says).
cd "$(dirname "$0")/files" || exit 1
ADDR=$(ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p')
cmds=(
"docker stack deploy -c stack/docker-compose.yml shop"
"docker swarm init --advertise-addr ADDR"
"docker stack deploy -c stack/docker-compose.yml shop"
"docker stack ls"
"docker stack services shop"
"docker stack ps shop"
"docker network ls"
"docker service inspect -f '{{json .Spec.Labels}} {{.Spec.Mode.Replicated.Replicas}}' shop_web"
"docker service inspect -f '{{json .Spec.TaskTemplate.Networks}}' shop_db"
"docker network inspect -f '{{json .Labels}} {{.Driver}}' shop_back"
"docker stack deploy -c stack/docker-compose.yml shop"
"docker stack services nosuch"
"docker stack rm shop"
"docker stack ls"
"docker stack rm shop"
)
cleanup() { docker stack rm shop >/dev/null 2>&1; sleep 2; docker swarm leave --force >/dev/null 2>&1; docker network rm docker_gwbridge >/dev/null 2>&1; }
cleanup
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status;"
echo "# 25-char swarm IDs SWARMID, 12-hex short IDs SHORTID, this machine's address ADDR"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=${c//ADDR/$ADDR}
  out=$(eval "$real" 2>&1); rc=$?
  echo "$out" | sed -E "s/$ADDR/ADDR/g; s/SWMTKN-[0-9a-z-]+/TOKEN/g; s/\b[0-9a-f]{64}\b/ID/g; s/\b[0-9a-z]{25}\b/SWARMID/g" |
    perl -pe 's/\b(?=[0-9a-z]*[0-9])[0-9a-z]{12}\b/SHORTID/g' | grep -v '^$'
  echo "[exit $rc]"
  # Let the orchestrator converge, and the manager forget removed networks, before the next look.
  case $c in *"stack deploy"*) sleep 5 ;; *"stack rm"*) sleep 15 ;; esac
done
cleanup
