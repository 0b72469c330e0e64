#!/bin/bash
# Names a container's /etc/hosts answers, on the Docker Engine: prints record.txt. The image
# `bbping` is busybox with a few applet links (sh, sleep, cat, ping), imported without a
# registry:
#   mkdir -p img/bin && cp busybox img/bin/ &&
#   for a in sh sleep cat ping; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbping:latest
# busybox ping prints `PING NAME (ADDRESS): 56 data bytes` once the name resolved, and
# `ping: bad address 'NAME'` when it did not.
IMG="bbping sleep 1000"
cmds=(
"docker run -dit --name mm alpine"
"docker run -dit --name ll --link mm:db alpine"
"docker exec ll cat /etc/hosts"
"docker exec ll ping -c 1 db"
"docker exec ll ping -c 1 mm"
"docker run -dit --name ah --add-host foo:172.17.0.2 --hostname myhost alpine"
"docker exec ah ping -c 1 foo"
"docker exec ah ping -c 1 myhost"
"docker exec ah ping -c 1 mm"
)
docker rm -f mm ll ah >/dev/null 2>&1
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
echo "# image: busybox with sh, sleep, cat and ping, imported with docker import; each container runs \`sleep 1000\`; a lab writes \`alpine\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID, 12-hex short IDs SHORTID, ping times TIME"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=${c% alpine}
  [ "$real" != "$c" ] && real="$real $IMG"
  # shellcheck disable=SC2086
  out=$(eval "$real" 2>&1); rc=$?
  echo "$out" | sed -E 's/\b[0-9a-f]{64}\b/ID/g; s/\b[0-9a-f]{12}\b/SHORTID/g; s/time=[0-9.]+ ms/time=TIME ms/; s/= [0-9.]+\/[0-9.]+\/[0-9.]+ ms/= TIME ms/' | grep -v '^$'
  echo "[exit $rc]"
done
docker rm -f mm ll ah >/dev/null 2>&1
