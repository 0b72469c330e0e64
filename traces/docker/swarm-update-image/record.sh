#!/bin/bash
# A rolling update of a service's image: `docker service update --image` replaces each task
# with one of the new image, slot by slot (swarmkit `manager/orchestrator/update/updater.go`),
# and `docker service rollback` brings the old image back the same way, on the Docker Engine:
# prints record.txt. A one-node swarm on this machine. The image `bbjob` is this machine's
# statically linked busybox (Debian's busybox-static) imported without a registry
# (../busybox-image.sh) and tagged `3.19`; a lab writes `alpine` and `alpine:3.19`. Needs
# root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker service create --name web --replicas 2 --stop-grace-period 3s -d alpine"
"sleep 3"
"docker service update -d --image alpine:3.19 web"
"sleep 2"
"docker service ps web"
"sleep 4.5"
"docker service ps web"
"docker service ls"
"sleep 6"
"docker service ps web"
"docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}} {{.PreviousSpec.TaskTemplate.ContainerSpec.Image}} {{.UpdateStatus.State}}' web"
"sleep 4"
"docker service inspect -f '{{.UpdateStatus.State}} {{.UpdateStatus.Message}}' web"
"docker service rollback -d web"
"sleep 16"
"docker service ps web"
"docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}} {{.PreviousSpec.TaskTemplate.ContainerSpec.Image}} {{.UpdateStatus.State}}' web"
"docker service update -d --image alpine:3.19 --update-order start-first web"
"sleep 2"
"docker service ps web"
"sleep 6"
"docker service ps web"
"docker service ls"
"docker service update -d --image Alpine web"
"docker service update -d --image alpine web"
"sleep 1"
"docker service ps web"
"docker service rm web"
"docker swarm leave --force"
)
busybox_image bbjob sleep
docker tag bbjob:latest bbjob:3.19
swarm_record bbjob "${cmds[@]}"
