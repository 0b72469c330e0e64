#!/bin/bash
# `docker create` and `docker start` on Docker Engine 20.10.24: prints record.txt. The
# container is made and not started: `Created`, no address on its networks, no published
# port; `network connect` only notes a network for the start; what 20.10 finds only as a
# container starts (a port taken, a network that is not there) fails `docker start`, not
# `docker create`; a created client's program runs when it starts, into its log, and again
# when it restarts, after the first run's lines. The image
# `bbweb` is this machine's statically linked busybox (Debian's busybox-static) imported
# without a registry (../busybox-image.sh), with /www/index.html holding the page the
# simulator's web server serves; a lab writes `nginx` for a web server (busybox httpd on
# port 80) and `alpine` for the image (at the end of a command, a container that only
# sleeps). The host's client is Debian's curl. Each command is followed by a second's
# pause. Needs root, docker, curl and busybox-static.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
IMG=bbweb
nets='{{.State.Status}} {{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}'
cmds=(
"docker network create --subnet 10.83.0.0/24 cnet"
"docker create -it --name c1 alpine"
"docker ps -a --format '{{.Names}} {{.Status}}'"
"docker inspect -f '$nets' c1"
"docker create -it --name c1 alpine"
"docker create -d --name c2 alpine"
"docker create --name web --network cnet -p 8080:80 nginx"
"docker port web"
"docker network connect --alias box cnet c1"
"docker inspect -f '$nets' c1"
"docker start c1 web"
"docker inspect -f '$nets' c1"
"docker port web"
"curl -s http://127.0.0.1:8080/"
"docker create --name p1 --network cnet alpine ping -c 2 box"
"docker start p1"
"docker logs p1"
"docker restart p1"
"sleep 2"
"docker logs p1"
"docker logs --tail 1 p1"
"docker create --name p2 -p 8080:80 nginx"
"docker start p2"
"docker create --name n1 --network nosuch alpine"
"docker start n1"
"docker ps -a --format '{{.Names}} {{.Status}}'"
"docker rm -f c1 web p1 p2 n1"
"docker network rm cnet"
)
cleanup() {
  docker rm -f c1 c2 web p1 p2 n1 >/dev/null 2>&1
  docker network rm cnet >/dev/null 2>&1
}
cleanup
# A one-line stand-in for nginx's welcome page (sim-core/tests read it as the simulator's page).
WWW='<html><body><h1>It works!</h1></body></html>' busybox_image "$IMG" sleep ip httpd ping
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r), $(curl --version | head -1 | cut -d' ' -f1-2)"
echo "# image: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') (Debian busybox-static) imported with docker import; \`nginx\` runs busybox httpd on port 80 serving the page the simulator's web server serves, \`alpine\` at the end \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID, a client's ephemeral port EPH"
run_server_cases "$IMG" "${cmds[@]}"
cleanup
