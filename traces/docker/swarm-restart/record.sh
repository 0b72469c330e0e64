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
run_swarm_cases "$IMG" "$ADDR" "${cmds[@]}"
cleanup
