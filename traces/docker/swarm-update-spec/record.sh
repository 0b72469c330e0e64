#!/bin/bash
# What an update of a service's spec replaces: `--constraint-add`/`--constraint-rm` leave a
# task whose node still meets the constraints alone and replace one whose node does not
# (swarmkit `orchestrator.IsTaskDirty`), `--env-add`/`--env-rm` replace every task, on the
# Docker Engine: prints record.txt. A one-node swarm on this machine. The image `bbjob` is
# this machine's statically linked busybox (Debian's busybox-static) imported without a
# registry (../busybox-image.sh); a lab writes `alpine`. Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker node update --label-add zone=a HOST"
"docker service create --name web --replicas 2 --stop-grace-period 1s -d alpine"
"sleep 3"
"docker service update -d --constraint-add node.labels.zone==a web"
"sleep 1"
"docker service ps web"
"docker service inspect -f '{{json .Spec.TaskTemplate.Placement}} {{json .UpdateStatus}}' web"
"docker service update -d --constraint-add node.labels.zone==b web"
"sleep 5"
"docker service ps web"
"docker service inspect -f '{{json .Spec.TaskTemplate.Placement}} {{.UpdateStatus.State}}' web"
"docker service ls"
"docker service update -d --constraint-rm node.labels.zone==b web"
"sleep 4"
"docker service ps web"
"docker service inspect -f '{{json .Spec.TaskTemplate.Placement}} {{.UpdateStatus.State}}' web"
"docker service update -d --constraint-add node.labels.zone=a web"
"docker service update -d --env-add GREETING=hi web"
"sleep 8"
"docker service ps web"
"docker service inspect -f '{{json .Spec.TaskTemplate.ContainerSpec.Env}} {{.UpdateStatus.State}}' web"
"docker service update -d --env-add GREETING=hello web"
"sleep 8"
"docker service inspect -f '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' web"
"docker service update -d --env-rm GREETING web"
"sleep 8"
"docker service ps web"
"docker service inspect -f '{{json .Spec.TaskTemplate.ContainerSpec.Env}} {{.UpdateStatus.State}}' web"
"docker service inspect --pretty web"
"docker service rm web"
"docker swarm leave --force"
)
busybox_image bbjob sleep
swarm_record bbjob "${cmds[@]}"
