#!/bin/bash
# busybox `ping` (the applet alpine's and busybox's images run as `ping`) on the Docker
# Engine: prints record.txt, and writes record.pcapng (the first case's frames, captured on
# the network's bridge). The image `bbping` is this machine's statically linked busybox
# (Debian's busybox-static), imported without a registry:
#   mkdir -p img/bin && cp /bin/busybox img/bin/ &&
#   for a in sh sleep ping; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbping:latest
# A lab writes `alpine`: here a container of bbping that sleeps.
# Needs root, docker, busybox-static and tshark (for dumpcap).
set -u
here=$(cd "$(dirname "$0")" && pwd)
IMG="bbping sleep 1000"
cmds=(
"docker network create --subnet 10.81.0.0/24 -o com.docker.network.bridge.name=br-bbping pingnet"
"docker network create --internal --subnet 10.82.0.0/24 sealed"
"docker run -dit --name c1 --network pingnet alpine"
"docker run -dit --name c2 --network pingnet alpine"
"docker run -dit --name iso --network sealed alpine"
"docker run -dit --name lone --network none alpine"
"docker exec c1 ping -c 2 c2"
"docker exec c1 ping -c 2 10.81.0.3"
"docker exec c1 ping -c 1 -s 100 c2"
"docker exec c1 ping -q -c 3 -i 0.2 c2"
"docker exec c1 ping -w 2 c2"
"docker exec c1 ping -w 1 -i 0.3 10.81.0.3"
"docker exec c1 ping -c 1 nosuch"
"docker exec c1 ping -c 1 -W 1 10.81.0.99"
"docker exec c1 ping -c 5 -w 1 -i 0.4 10.81.0.99"
"docker exec c1 ping -c 2 -w 3 -i 0.5 c2"
"docker exec iso ping -c 1 10.9.9.9"
"docker exec lone ping -c 1 10.9.9.9"
"docker exec c1 ping c2 -c 1"
)
cleanup() { docker rm -f c1 c2 iso lone >/dev/null 2>&1; docker network rm pingnet sealed >/dev/null 2>&1; }
cleanup
if ! docker image inspect bbping >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/img/bin" && cp /bin/busybox "$tmp/img/bin/"
  for a in sh sleep ping; do ln -s busybox "$tmp/img/bin/$a"; done
  tar -C "$tmp/img" -cf "$tmp/bb.tar" . && docker import "$tmp/bb.tar" bbping:latest >/dev/null
  rm -rf "$tmp"
fi
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), Linux $(uname -r)"
echo "# image: $(/bin/busybox | head -1 | sed 's/ multi-call binary.//') imported with docker import; \`alpine\` runs \`sleep 1000\`"
echo "# each block: \$ the command, then what it printed (both streams, in order; times as TIME) and its exit status; 64-hex IDs are ID"
cap=""
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=$c
  case $c in
    *" alpine") real="${c% alpine} $IMG" ;;
  esac
  if [ "$c" = "docker exec c1 ping -c 2 c2" ]; then
    dumpcap -q -i br-bbping -w "$here/record.pcapng" >/dev/null 2>&1 & cap=$!
    sleep 2
  fi
  out=$(eval "$real" 2>&1); rc=$?
  if [ -n "$cap" ]; then sleep 1; kill "$cap"; wait "$cap" 2>/dev/null; cap=""; fi
  echo "$out" | sed -E 's/\b[0-9a-f]{64}\b/ID/g; s/time=[0-9.]+ ms/time=TIME ms/; s/= [0-9.\/]+ ms/= TIME ms/'
  echo "[exit $rc]"
done
cleanup
