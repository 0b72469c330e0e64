#!/bin/bash
# busybox `nslookup` (the applet alpine's and busybox's images run) on the Docker Engine:
# prints record.txt, and writes record.pcapng (the first case's queries and answers, captured
# inside c1 on `lo`, where the embedded DNS listens). The image `bbdns` is this machine's
# statically linked busybox (Debian's busybox-static), imported without a registry:
#   mkdir -p img/bin && cp /bin/busybox img/bin/ &&
#   for a in sh sleep nslookup; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar bbdns:latest
# A lab writes `alpine`: here a container of bbdns that sleeps.
# Needs root, docker, busybox-static, nsenter and tshark (for dumpcap).
set -u
here=$(cd "$(dirname "$0")" && pwd)
IMG="bbdns sleep 1000"
cmds=(
"docker network create --subnet 10.83.0.0/24 dnsnet"
"docker run -dit --name c1 --network dnsnet alpine"
"docker run -dit --name c2 --network dnsnet --network-alias db alpine"
"docker run -dit --name d1 alpine"
"docker exec c1 nslookup c2"
"docker exec c1 nslookup db"
"docker exec c1 nslookup 10.83.0.3"
"docker exec c1 nslookup nosuch"
"docker exec c1 nslookup -type=a c2"
"docker exec c1 nslookup c2 127.0.0.11"
"docker exec d1 nslookup c2"
"docker exec c1 nslookup c2 10.83.0.99"
"docker exec c1 nslookup aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)
cleanup() { docker rm -f c1 c2 d1 >/dev/null 2>&1; docker network rm dnsnet >/dev/null 2>&1; }
cleanup
if ! docker image inspect bbdns >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/img/bin" && cp /bin/busybox "$tmp/img/bin/"
  for a in sh sleep nslookup; do ln -s busybox "$tmp/img/bin/$a"; done
  tar -C "$tmp/img" -cf "$tmp/bb.tar" . && docker import "$tmp/bb.tar" bbdns:latest >/dev/null
  rm -rf "$tmp"
fi
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), Linux $(uname -r)"
echo "# image: $(/bin/busybox | head -1 | sed 's/ multi-call binary.//') imported with docker import; \`alpine\` runs \`sleep 1000\`"
echo "# the host's nameservers are HOST_NAMESERVER"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
cap=""
hostns=$(awk '/^nameserver/ {print $2}' /etc/resolv.conf | head -1)
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=$c
  case $c in
    *" alpine") real="${c% alpine} $IMG" ;;
  esac
  if [ "$c" = "docker exec c1 nslookup c2" ]; then
    pid=$(docker inspect -f '{{.State.Pid}}' c1)
    nsenter -t "$pid" -n dumpcap -q -i lo -w "$here/record.pcapng" >/dev/null 2>&1 & cap=$!
    sleep 2
  fi
  out=$(eval "$real" 2>&1); rc=$?
  if [ -n "$cap" ]; then sleep 1; kill "$cap"; wait "$cap" 2>/dev/null; cap=""; fi
  echo "$out" | sed -E "s/\b[0-9a-f]{64}\b/ID/g; s/${hostns//./\\.}/HOST_NAMESERVER/g"
  echo "[exit $rc]"
done
cleanup
