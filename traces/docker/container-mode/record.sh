#!/bin/bash
# `docker run --network container:NAME` on the Docker Engine: prints record.txt.
# The image `bbtest` is busybox-static with a few applet links, imported without a registry:
#   mkdir -p img/bin && cp /usr/bin/busybox img/bin/ &&
#   for a in sh sleep ip cat hostname; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbtest:latest
IMG="bbtest sleep 1000"
cmds=(
"docker network create --subnet 10.78.0.0/24 cmnet"
"docker run -dit --name t1 --network cmnet alpine"
"docker run -dit --name j1 --network container:t1 alpine"
"docker exec j1 ip -4 addr"
"docker exec j1 cat /etc/hostname"
"docker exec j1 cat /etc/resolv.conf"
"docker inspect -f {{.HostConfig.NetworkMode}} j1"
"docker run -dit --name j2 --network container:t1 -p 8080:80 alpine"
"docker run -dit --name j2 --network container:t1 -P alpine"
"docker run -dit --name j2 --network container:t1 --hostname x alpine"
"docker run -dit --name j2 --network container:t1 --dns 1.1.1.1 alpine"
"docker run -dit --name j2 --network container:t1 --add-host a:1.2.3.4 alpine"
"docker run -dit --name j2 --network container:t1 --link t1:x alpine"
"docker stop t1"
"docker exec j1 ip -4 addr"
"docker run -dit --name j2 --network container:t1 alpine"
"docker inspect -f {{.State.Status}} j2"
"docker start t1"
"docker exec j1 ip -4 addr"
"docker restart j1"
"docker exec j1 ip -4 addr"
"docker rm -f t1"
"docker stop j1"
"docker start j1"
)
docker rm -f t1 j1 j2 >/dev/null 2>&1; docker network rm cmnet >/dev/null 2>&1
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
echo "# image: busybox-static (1.35.0) imported with docker import; each container runs \`sleep 1000\`; a lab writes \`alpine\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID, 12-hex short IDs SHORTID"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=${c% alpine}
  [ "$real" != "$c" ] && real="$real $IMG"
  # shellcheck disable=SC2086
  out=$(eval "$real" 2>&1); rc=$?
  echo "$out" | sed -E 's/\b[0-9a-f]{64}\b/ID/g; s/\b[0-9a-f]{12}\b/SHORTID/g' | grep -v '^$' | grep -v "^Run 'docker run --help'"
  echo "[exit $rc]"
done
docker rm -f t1 j1 j2 >/dev/null 2>&1; docker network rm cmnet >/dev/null 2>&1
