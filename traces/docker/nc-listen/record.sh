#!/bin/bash
# busybox `nc` as a server (`-l`, `-lk -e PROG`) and as a client that reads no input
# (`nc HOST PORT` from `docker exec` without -i) on Docker Engine 20.10.24: prints
# record.txt. The image `bbncl` is busybox 1.35.0 built from its own source with its
# defconfig (CONFIG_NC_110_COMPAT=y: networking/nc_bloaty.c, the applet alpine ships) and
# linked statically, imported without a registry:
#   make defconfig && sed -i 's/# CONFIG_STATIC is not set/CONFIG_STATIC=y/' .config && make
#   mkdir -p img/bin img/www && cp busybox img/bin/ && echo "<html><body><h1>It works!</h1></body></html>" > img/www/index.html &&
#   for a in sh sleep nc httpd echo hostname wget; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbncl:latest
# A lab writes `nginx` for a web server (here busybox httpd on port 80) and `alpine` for
# the image; `alpine` at the end of a command is a container that only sleeps.
# Each command is followed by a second's pause, as a student types, so that a server's
# reverse lookup is done before its log is read. Needs root and docker.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
IMG=bbncl
cmds=(
"docker network create --subnet 10.81.0.0/24 lnet"
"docker run -dit --name cli --network lnet alpine"
"docker run -d --name one --network lnet alpine nc -l -p 8080"
"docker exec cli nc -zv one 8080"
"docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' one"
"docker logs one"
"docker exec cli nc -zv one 8080"
"docker run -d --name vl --network lnet alpine nc -lv -p 8080"
"docker logs vl"
"docker exec cli nc -z vl 8080"
"docker logs vl"
"docker run -d --name vn --network lnet alpine nc -lvvn -p 8080"
"docker exec cli nc vn 8080"
"docker logs vn"
"docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' vn"
"docker run -d --name hello --network lnet alpine nc -lk -p 8080 -e echo hello world"
"docker exec cli nc hello 8080"
"docker exec cli nc -v hello 8080"
"docker exec cli nc -vv hello 8080"
"docker exec cli nc -vn hello.lnet 8080"
"docker run -d --name once --network lnet alpine nc -l -p 8080 -e echo hi"
"docker exec cli nc once 8080"
"docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' once"
"docker run -d --name who --hostname who-1 --network lnet alpine nc -lkv -p 8080 -e hostname"
"docker exec cli nc who 8080"
"docker logs who"
"docker exec -d cli nc -lk -p 7000 -e echo from exec"
"docker exec hello nc cli 7000"
"docker exec hello nc cli 7000"
"docker run -d --name web --network lnet nginx"
"docker exec cli nc -v web 80"
"docker exec cli nc -vv web 81"
"docker exec hello nc -l -p 8080"
)
cleanup() {
  docker rm -f cli one vl vn hello once who web >/dev/null 2>&1
  docker network rm lnet >/dev/null 2>&1
}
cleanup
engine_banner
echo "# image: busybox $(docker run --rm $IMG sh -c 'busybox --help' 2>&1 | sed -nE '1s/.*(v[0-9.]+[a-z.]*).*/\1/p') (nc_bloaty, glibc static) imported with docker import; \`nginx\` runs busybox httpd on port 80, \`alpine\` at the end \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID, a client's ephemeral port EPH"
run_server_cases "$IMG" "${cmds[@]}"
cleanup
