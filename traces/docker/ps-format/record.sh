#!/bin/bash
# `docker ps --format` on the Docker Engine: prints record.txt. The image `bbtest` is
# busybox-static with a few applet links, imported without a registry:
#   mkdir -p img/bin && cp /usr/bin/busybox img/bin/ &&
#   for a in sh sleep; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbtest:latest
IMG="bbtest sleep 1000"
cmds=(
"docker network create --subnet 10.81.0.0/24 fmtnet"
"docker run -dit --name web --network fmtnet -p 8080:80 alpine"
"docker run -dit --name db --network fmtnet alpine"
"docker run -dit --name other alpine"
"docker stop other"
"docker ps --format {{.Names}}"
"docker ps -a --format '{{.Names}}: {{.State}}'"
"docker ps --format 'table {{.Names}}\t{{.Ports}}\t{{.Networks}}'"
"docker ps --format '{{.Names}} {{.Image}} {{.Command}}'"
"docker ps -a --format 'table {{.Names}}\t{{.State}}'"
"docker ps --format '{{.Nope}}'"
)
docker rm -f web db other >/dev/null 2>&1; docker network rm fmtnet >/dev/null 2>&1
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
echo "# image: busybox-static imported with docker import; each container runs \`sleep 1000\`; a lab writes \`alpine\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=${c% alpine}
  [ "$real" != "$c" ] && real="$real $IMG"
  # shellcheck disable=SC2086
  out=$(eval "$real" 2>&1); rc=$?
  echo "$out" | sed -E 's/\b[0-9a-f]{64}\b/ID/g' | grep -v '^$'
  echo "[exit $rc]"
done
docker rm -f web db other >/dev/null 2>&1; docker network rm fmtnet >/dev/null 2>&1
