#!/bin/bash
# What the Docker Engine says when a lab runs a program its image does not have (alpine has
# no curl, dig or mysql; Debian's and Ubuntu's base images have no ping): `docker exec`,
# `docker run` in the foreground and detached. Prints record.txt. The image `bbmin` is this
# machine's statically linked busybox (Debian's busybox-static) with only `sh` and `sleep`,
# imported without a registry:
#   mkdir -p img/bin && cp /bin/busybox img/bin/ && for a in sh sleep; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbmin:latest
# A lab writes `alpine`: here a container of bbmin that sleeps (or runs the command given).
# Needs root, docker and busybox-static.
set -u
IMG=bbmin
cmds=(
"docker network create --subnet 10.84.0.0/24 toolnet"
"docker run -d --name c1 --network toolnet alpine"
"docker exec c1 curl http://c1/"
"docker exec c1 dig c1"
"docker exec -it c1 mysql -h db"
"docker run --rm --network toolnet alpine curl http://c1/"
"docker run -d --name r1 --network toolnet alpine curl http://c1/"
"docker ps -a --format {{.Names}}:{{.Status}}"
"docker start r1"
"docker rm r1"
)
cleanup() { docker rm -f c1 r1 >/dev/null 2>&1; docker network rm toolnet >/dev/null 2>&1; }
cleanup
if ! docker image inspect $IMG >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/img/bin" && cp /bin/busybox "$tmp/img/bin/"
  for a in sh sleep; do ln -s busybox "$tmp/img/bin/$a"; done
  tar -C "$tmp/img" -cf "$tmp/bb.tar" . && docker import "$tmp/bb.tar" $IMG:latest >/dev/null
  rm -rf "$tmp"
fi
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), Linux $(uname -r)"
echo "# image: $(/bin/busybox | head -1 | sed 's/ multi-call binary.//') with sh and sleep only, imported with docker import; \`alpine\` runs \`sleep 1000\` unless given a command"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=$c
  case $c in
    *" alpine") real="${c% alpine} $IMG sleep 1000" ;;
    *" alpine "*) real="${c/ alpine / $IMG }" ;;
  esac
  real=${real/ -it / -i }
  out=$(eval "$real" 2>&1 </dev/null); rc=$?
  echo "$out" | sed -E "s/\b[0-9a-f]{64}\b/ID/g"
  echo "[exit $rc]"
done
cleanup
