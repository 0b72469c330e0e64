#!/bin/bash
# busybox `nc` (the netcat 1.10 compatible applet alpine ships) on the Docker Engine: prints
# record.txt. The image `bbnc` is busybox built from its own source with its defconfig
# (CONFIG_NC_110_COMPAT=y, networking/nc_bloaty.c) and linked statically, imported without a
# registry:
#   mkdir -p img/bin img/www && cp busybox img/bin/ &&
#   for a in sh sleep nc httpd cat; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbnc:latest
# A lab writes `nginx` for a web server (here busybox httpd on port 80) and `alpine` for a
# container that only sleeps.
WEB="bbnc httpd -f -p 80 -h /www"
IMG="bbnc sleep 1000"
cmds=(
"docker network create --subnet 10.79.0.0/24 ncnet"
"docker network create --subnet 10.80.0.0/24 other"
"docker run -d --name srv --network ncnet nginx"
"docker run -dit --name cli --network ncnet alpine"
"docker run -dit --name far --network other alpine"
"docker exec cli nc -zv srv 80"
"docker exec cli nc -z srv 80"
"docker exec cli nc -vz 10.79.0.2 80"
"docker exec cli nc -zv srv 81"
"docker exec cli nc -zvv srv 81"
"docker exec cli nc -zv nosuch 80"
"docker exec cli nc -zv -w 1 10.79.0.99 80"
"docker exec far nc -zv -w 2 10.79.0.2 80"
"docker exec cli nc -zv srv"
"docker exec cli nc -zv srv 99999"
"docker exec cli nc -zv -w x srv 80"
"docker exec cli nc -z"
)
docker rm -f srv cli far >/dev/null 2>&1; docker network rm ncnet other >/dev/null 2>&1
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), Linux $(uname -r)"
echo "# image: busybox $(docker run --rm bbnc sh -c "busybox --help" 2>&1 | sed -nE "1s/.*(v[0-9.]+[a-z.]*).*/\1/p") (nc_bloaty, glibc static) imported with docker import; \`nginx\` runs busybox httpd on port 80, \`alpine\` \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=$c
  case $c in
    *" nginx") real="${c% nginx} $WEB" ;;
    *" alpine") real="${c% alpine} $IMG" ;;
  esac
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  out=$(eval "$real" 2>&1); rc=$?
  took=$(echo "$(date +%s.%N) - $start" | bc)
  echo "$out" | sed -E 's/\b[0-9a-f]{64}\b/ID/g' | grep -v '^$' | grep -v '^BusyBox v'
  echo "[exit $rc]"
  printf '# took %.1f s\n' "$took" >&2
done
docker rm -f srv cli far >/dev/null 2>&1; docker network rm ncnet other >/dev/null 2>&1
