#!/bin/bash
# The daemon's own commands on Docker Engine 20.10.24, typed with the 20.10 client the
# engine ships with (Debian's docker.io, /usr/bin/docker): prints record.txt. `docker
# version` and `docker info` (the counts of containers and images, the Swarm section before
# and after `swarm init`, `-f` templates), `docker images` and `docker image ls` (a name, a
# tag, `-q`, `--format`), and `docker pull` with no registry to reach. The
# image `alpine` is this machine's statically linked busybox (Debian's busybox-static)
# imported without a registry (../busybox-image.sh); `alpine` at the end of a command runs
# `sleep 100000` (a command that names the image last has a blank after it). `{{json .}}`
# gives the whole answer the simulator's figures of this machine are taken from. Needs
# root, docker and busybox-static; leaves the engine with no containers, no swarm and no
# images.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
# The 20.10 client: docker/cli 28 prints `docker version` and `docker info` otherwise.
PATH=/usr/bin:$PATH
cmds=(
"docker version"
"docker version -f '{{.Server.Version}} {{.Server.APIVersion}} {{.Client.APIVersion}}'"
"docker version -f '{{.Nope}}'"
"docker version extra"
"docker version -f '{{json .}}'"
"docker info"
"docker run -d --name v1 alpine"
"docker create --name v2 alpine"
"docker info -f '{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}} {{.Images}} {{.Swarm.LocalNodeState}} {{.Name}}'"
"docker info -f '{{.Nope}}'"
"docker info extra"
"docker images"
"docker images -q"
"docker image ls alpine "
"docker images alpine:latest"
"docker images alpine:3.19"
"docker images nosuch"
"docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'"
"docker images --format 'table {{.Repository}}\t{{.Tag}}'"
"docker images --format '{{.Nope}}'"
"docker images a b"
"docker pull alpine "
"docker pull nginx:1.27"
"docker image pull -q alpine "
"docker pull"
"docker pull Alpine"
"docker swarm init --advertise-addr ADDR"
"docker info"
"docker info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Managers}} {{.Swarm.Nodes}} {{.Swarm.NodeAddr}}'"
"docker rm -f v1 v2"
"docker info -f '{{json .}}'"
"docker swarm leave --force"
"docker info -f '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}.'"
)
cleanup() { docker rm -f v1 v2 >/dev/null 2>&1; }
cleanup
busybox_image alpine sleep ip ping
swarm_record alpine "${cmds[@]}"
cleanup
docker rmi alpine >/dev/null 2>&1
