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
busybox_image bbjob sh sleep ping
swarm_record bbjob "${cmds[@]}"
