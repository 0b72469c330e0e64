#!/bin/bash
# A job run again: `docker service scale` and `docker service update` on a replicated job
# start a new iteration of it (swarmkit `controlapi.UpdateService` bumps `JobIteration`), on
# the Docker Engine: prints record.txt. A one-node swarm on this machine. The image `bbjob`
# is this machine's statically linked busybox (Debian's busybox-static) imported without a
# registry (../busybox-image.sh); a lab writes `alpine`. Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker network create -d overlay --subnet 10.89.0.0/24 jobnet"
"docker service create --name web --endpoint-mode dnsrr --network jobnet -d alpine"
"docker service create --name once --mode replicated-job --network jobnet -d alpine ping -c 1 web"
"sleep 4"
"docker service scale -d once=3"
"sleep 8"
"docker service ls"
"docker service ps once"
"docker service logs --no-task-ids once"
"docker service update -d --replicas 2 once"
"docker service update -d --max-concurrent 2 once"
"docker service update -d --force once"
"sleep 8"
"docker service ls"
"docker service ps once"
"docker service scale -d once=0"
"sleep 3"
"docker service ls"
"docker service ps once"
"docker service create --name slow --mode replicated-job --replicas 2 --max-concurrent 2 --network jobnet -d alpine sleep 30"
"sleep 3"
"docker service ps slow"
"docker service ls"
"docker service scale -d slow=1"
"sleep 4"
"docker service ps slow"
"docker service ls"
"docker service scale -d web=2 once=2"
"sleep 6"
"docker service ls"
"docker service update -d --max-concurrent 2 web"
"docker service rm once slow web"
"docker swarm leave --force"
)
busybox_image bbjob sh sleep ping
swarm_record bbjob "${cmds[@]}"
