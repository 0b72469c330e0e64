#!/bin/bash
# What `docker service update --network-add/--network-rm/--publish-add/--publish-rm` does on
# the Docker Engine: prints record.txt. A network or a published port added or taken away
# gives the service a VIP there (ingress for the first published port) or takes it back, and
# replaces every task (swarmkit `orchestrator.IsTaskDirty` compares the task's networks and
# the endpoint spec); the daemon's words for an unknown network and a port in use. A one-node
# swarm on this machine; the image `bbjob` is this machine's statically linked busybox
# (Debian's busybox-static) imported without a registry (../busybox-image.sh); a lab writes
# `alpine`. Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
vips='{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}'
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker network create -d overlay --subnet 10.70.0.0/24 na"
"docker network create -d overlay --subnet 10.71.0.0/24 nb"
"docker service create --name web --network na --replicas 2 --stop-grace-period 1s -d alpine"
"sleep 3"
"docker service inspect -f '$vips' web"
"docker service update -d --network-add nb web"
"sleep 10"
"docker service ps web"
"docker service inspect -f '$vips' web"
"docker service inspect -f '{{len .Spec.TaskTemplate.Networks}} {{.UpdateStatus.State}}' web"
"docker service update -d --network-add nb web"
"docker service update -d --network-add nosuch web"
"docker service update -d --publish-add 8080:80 web"
"sleep 10"
"docker service inspect -f '$vips' web"
"docker service inspect -f '{{json .Endpoint.Ports}}' web"
"docker service ps web"
"docker service update -d --publish-add 8081:80/udp web"
"sleep 10"
"docker service inspect -f '{{json .Spec.EndpointSpec.Ports}}' web"
"docker service create --name other -p 8082:80 -d alpine"
"sleep 2"
"docker service update -d --publish-add 8082:80 web"
"docker service update -d --publish-rm 8080 web"
"docker service inspect -f '{{json .Spec.EndpointSpec.Ports}}' web"
"docker service update -d --publish-rm 80 --publish-rm 80/udp web"
"sleep 10"
"docker service inspect -f '$vips' web"
"docker service inspect -f '{{json .Endpoint.Ports}} {{json .Spec.EndpointSpec.Ports}}' web"
"docker service update -d --network-rm na web"
"sleep 10"
"docker service inspect -f '$vips' web"
"docker service ps web"
"docker service rollback -d web"
"sleep 10"
"docker service inspect -f '$vips' web"
"docker service rm web other"
"sleep 2"
"docker network rm na nb"
"docker swarm leave --force"
)
busybox_image bbjob sleep
swarm_record bbjob "${cmds[@]}"
