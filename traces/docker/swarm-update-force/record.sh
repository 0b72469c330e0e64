#!/bin/bash
# A rolling update: `docker service update --force` replaces every task of a replicated
# service, slot after slot, as its update config says (swarmkit
# `manager/orchestrator/update/updater.go`), on the Docker Engine: prints record.txt. A
# one-node swarm on this machine. The image `bbjob` is this machine's statically linked
# busybox (Debian's busybox-static) imported without a registry (../busybox-image.sh); a lab
# writes `alpine`, whose `sleep 100000` ignores SIGTERM as a PID namespace's init, so each
# old task stops when its stop grace period is over. Needs root, docker and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
IMG=bbjob
ADDR=$(ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p')
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker network create -d overlay --subnet 10.91.0.0/24 ovnet"
"docker service create --name web --replicas 3 -d alpine"
"sleep 3"
"docker service update -d --force web"
"sleep 5"
"docker service ps web"
"docker service inspect -f '{{.UpdateStatus.State}} {{.UpdateStatus.Message}}' web"
"sleep 12"
"docker service ps web"
"sleep 12"
"docker service ps web"
"docker service inspect -f '{{json .UpdateStatus}}' web"
"sleep 14"
"docker service ps web"
"docker service inspect -f '{{.UpdateStatus.State}} {{.UpdateStatus.Message}}' web"
"docker service update -d --update-parallelism 2 --update-delay 4s web"
"docker service inspect -f '{{json .Spec.UpdateConfig}} {{json .UpdateStatus}}' web"
"docker service ps web"
"docker service update -d --force web"
"sleep 5"
"docker service ps web"
"sleep 9"
"docker service ps web"
"sleep 6"
"docker service ps web"
"sleep 12"
"docker service ps web"
"docker service inspect -f '{{.UpdateStatus.State}}' web"
"sleep 8"
"docker service inspect -f '{{.UpdateStatus.State}}' web"
"docker service update -d --force --update-order start-first --update-parallelism 1 --update-delay 0s web"
"sleep 3"
"docker service ps web"
"docker service inspect -f '{{.UpdateStatus.State}}' web"
"sleep 13"
"docker service ps web"
"docker service inspect -f '{{.UpdateStatus.State}} {{json .Spec.UpdateConfig}}' web"
"docker service rollback -d web"
"sleep 5"
"docker service ps web"
"docker service inspect -f '{{json .UpdateStatus}} {{json .Spec.UpdateConfig}}' web"
"sleep 40"
"docker service inspect -f '{{.UpdateStatus.State}} {{.UpdateStatus.Message}}' web"
"docker service update -d --update-order sideways web"
"docker service update -d --update-failure-action explode --update-order sideways web"
"docker service update -d --update-max-failure-ratio 2 web"
"docker service update -d --update-delay 5 web"
"docker service create --name bad --update-order x -d alpine"
"docker service create --name ov --replicas 2 --network ovnet --stop-grace-period 2s --update-monitor 3s -d alpine"
"sleep 3"
"docker service update --force ov"
"docker service ps ov"
"docker service inspect -f '{{.UpdateStatus.State}} {{.UpdateStatus.Message}} {{.Spec.TaskTemplate.ForceUpdate}} {{json .Spec.TaskTemplate.ContainerSpec.StopGracePeriod}}' ov"
"docker service inspect --pretty ov"
"docker service rm ov web"
"sleep 2"
"docker network rm ovnet"
"docker swarm leave --force"
)
cleanup() { docker service rm ov web bad >/dev/null 2>&1; docker network rm ovnet >/dev/null 2>&1; docker swarm leave --force >/dev/null 2>&1; docker network rm docker_gwbridge >/dev/null 2>&1; }
cleanup
busybox_image $IMG sleep
run_swarm_cases "$IMG" "$ADDR" "${cmds[@]}"
cleanup
