#!/bin/bash
# `docker run -p` on an attachable overlay, on the Docker Engine: prints record.txt. The
# port is published on the container's docker_gwbridge endpoint (the DNAT, ACCEPT and
# MASQUERADE rules name docker_gwbridge and its address), a second container asking for
# the same port stays `Created` with the daemon's error for the gateway endpoint, a
# stopped container's rules go and come back when it starts. A one-node swarm on this
# machine; the image `bbweb` is this machine's statically linked busybox (Debian's
# busybox-static) imported without a registry (../busybox-image.sh), with /www/index.html
# holding the page the simulator's web server serves; a lab writes `nginx` for a web server
# (busybox httpd on port 80) and `alpine`. The host's client is Debian's curl. Needs root,
# docker, curl and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
cmds=(
"docker swarm init --advertise-addr ADDR"
"docker network create -d overlay --attachable ov"
"sleep 2"
"docker run -d --name w1 --network ov -p 8080:80 nginx"
"sleep 1"
"docker port w1"
"docker ps --format '{{.Names}} {{.Ports}}'"
"iptables -t nat -S DOCKER"
"iptables -S DOCKER"
"iptables -t nat -S POSTROUTING"
"curl -s http://127.0.0.1:8080/"
"docker run -d --name w2 --network ov -p 8080:80 nginx"
"docker ps -a --format '{{.Names}} {{.State}} {{.Ports}}'"
"docker stop -t 1 w1"
"iptables -t nat -S DOCKER"
"curl -s http://127.0.0.1:8080/"
"docker start w1"
"sleep 1"
"docker port w1"
"iptables -t nat -S DOCKER"
"curl -s http://127.0.0.1:8080/"
"docker rm -f w1 w2"
"iptables -t nat -S DOCKER"
"sleep 3"
"docker network rm ov"
"docker swarm leave --force"
)
docker rmi bbweb >/dev/null 2>&1
# A one-line stand-in for nginx's welcome page (sim-core/tests read it as the simulator's page).
WWW='<html><body><h1>It works!</h1></body></html>' busybox_image bbweb sleep ip httpd
swarm_record bbweb "${cmds[@]}"
