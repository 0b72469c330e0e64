#!/bin/bash
# The options of `docker service ps`, `docker service ls` and `docker node ls` (`-q`,
# `--no-trunc`, `--filter`, `--format`) on Docker Engine 20.10.24, typed with its own 20.10
# client: prints record.txt. A one-node swarm on this machine, two services, one of which has
# a task replaced (`update --force`), so that `service ps` has a Shutdown task to filter.
# Needs root and docker; leaves the engine with no swarm.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
PATH=/usr/bin:$PATH
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker service create --name web --replicas 2 -d alpine"
"docker service create --name db -d alpine"
"docker service update --force -d db"
"sleep 14"
"docker service ps db"
"docker service ps -q web"
"docker service ps -q --no-trunc db"
"docker service ps --format '{{.Name}} {{.Image}} {{.DesiredState}} {{.Error}}' web db"
"docker service ps --format 'table {{.Name}}\t{{.DesiredState}}' db"
"docker service ps -f desired-state=running db"
"docker service ps --filter desired-state=shutdown --format '{{.Name}} {{.DesiredState}}' db"
"docker service ps -f name=web.2 --format '{{.Name}}' web"
"docker service ps -f desired-state=bogus db"
"docker service ps -f bogus=1 web"
"docker service ps --format '{{.Nope}}' web"
"docker service ls -q"
"docker service ls --format '{{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}'"
"docker service ls --format 'table {{.Name}}\t{{.Replicas}}'"
"docker service ls -f name=we"
"docker service ls -f mode=global"
"docker service ls --format '{{.Nope}}'"
"docker node ls -q"
"docker node ls --format '{{.Status}} {{.Availability}} {{.ManagerStatus}} {{.Self}}'"
"docker node ls -f role=worker"
"docker service rm web db"
"docker swarm leave --force"
)
busybox_image bbjob sleep
swarm_record bbjob "${cmds[@]}"
