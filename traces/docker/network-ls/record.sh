#!/bin/bash
# `docker network ls` with `--filter` (driver, name, id, label, scope, type; several values of
# one key: any of them; several keys: all of them), `--format` (a Go template over docker/cli's
# network context, `table` with a header) and `--no-trunc`, on the Docker Engine: prints
# record.txt. A one-node swarm on this machine, for an overlay among the local networks (given
# time to make docker_gwbridge, which 20.10 does some seconds after `swarm init`).
# Needs root and docker.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker swarm init --advertise-addr ADDR"
"sleep 5"
"docker network create --label team=a --internal backend"
"docker network create --label team=b frontend"
"docker network create -d overlay --attachable ov"
"docker network ls --format '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.IPv6}} {{.Labels}}'"
"docker network ls -f driver=bridge --format '{{.Name}}'"
"docker network ls -f driver=bridge -f driver=overlay --format '{{.Name}}'"
"docker network ls -f type=custom --format '{{.Name}}'"
"docker network ls -f type=builtin --format '{{.Name}}'"
"docker network ls -f scope=swarm"
"docker network ls -f scope=local --format '{{.Name}}'"
"docker network ls -f name=end --format '{{.Name}}'"
"docker network ls -f name=^ov --format '{{.Name}}'"
"docker network ls -f label=team=a --format '{{.Name}}'"
"docker network ls -f label=team --format '{{.Name}} {{.Labels}}'"
"docker network ls -f driver=overlay -f name=ov --format '{{.Name}}'"
"docker network ls --format 'table {{.Name}}\t{{.Driver}}'"
"docker network ls -f name=frontend --no-trunc --format '{{.ID}}'"
"docker network ls -f name=frontend -q"
"docker network ls -f bogus=1"
"docker network ls -f type=foo"
"docker network ls -f driver"
"docker network ls --format '{{.Nope}}'"
"docker network rm backend frontend ov"
"docker swarm leave --force"
)
swarm_record none "${cmds[@]}"
