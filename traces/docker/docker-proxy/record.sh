#!/bin/bash
# docker-proxy on Docker Engine 20.10.24 (userland-proxy on, the default): what reaches a
# published port over the paths iptables leaves to the proxy (the host to 127.0.0.1, a
# container to its bridge's gateway address), what the server sees as its client, and what
# a client gets when the container does not answer or has stopped. Prints record.txt.
# The image `bbncl` is busybox 1.35.0 built from its own source (../nc-listen/record.sh
# says how), with /www/index.html holding a one-line stand-in page (`<html><body><h1>It works!</h1></body></html>`,
# which sim-core/tests read as nginx's welcome page, the simulator's nginx's); a lab writes `nginx` for a web
# server (here busybox httpd on port 80) and `alpine` for the image (at the end of a
# command, a container that only sleeps). The host's client is Debian's curl.
# Each command is followed by a second's pause. Needs root and docker.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
IMG=bbncl
cmds=(
"docker network create --subnet 10.82.0.0/24 pnet"
"docker run -d --name web -p 8080:80 --network pnet nginx"
"docker run -d --name lo -p 127.0.0.1:8081:80 --network pnet nginx"
"docker run -dit --name idle -p 8082:80 --network pnet alpine"
"docker run -dit --name cli --network pnet alpine"
"docker run -d --name who -p 9090:9090 --network pnet alpine nc -lkvn -p 9090 -e echo hi"
"curl -s http://127.0.0.1:8080/"
"curl -s http://localhost:8080/"
"curl -s http://127.0.0.1:8081/"
"docker exec cli wget -qO- http://10.82.0.1:8080/"
"docker exec cli wget -qO- http://10.82.0.1:8081/"
"docker exec cli nc 10.82.0.1 9090"
"docker exec cli nc who 9090"
"docker logs who"
"curl -s http://127.0.0.1:8082/"
"docker stop web"
"curl -s http://127.0.0.1:8080/"
"docker exec cli wget -qO- http://10.82.0.1:8080/"
)
cleanup() {
  docker rm -f web lo idle cli who >/dev/null 2>&1
  docker network rm pnet >/dev/null 2>&1
}
cleanup
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), Linux $(uname -r), $(curl --version | head -1 | cut -d' ' -f1-2)"
echo "# image: busybox $(docker run --rm $IMG sh -c 'busybox --help' 2>&1 | sed -nE '1s/.*(v[0-9.]+[a-z.]*).*/\1/p') (glibc static) imported with docker import; \`nginx\` runs busybox httpd on port 80 serving the page the simulator's web server serves, \`alpine\` at the end \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID, a client's ephemeral port EPH"
run_server_cases "$IMG" "${cmds[@]}"
cleanup
