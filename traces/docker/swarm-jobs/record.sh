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
busybox_image bbjob sh sleep ping
swarm_record bbjob "${cmds[@]}"
