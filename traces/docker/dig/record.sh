#!/bin/bash
# BIND's `dig` (nicolaka/netshoot's, from alpine's bind-tools) asking Docker's embedded DNS
# on Docker Engine 20.10.24: prints record.txt. The image `bbdig` is this machine's `dig`
# (Debian's bind9-dnsutils) with the libraries it links and busybox's `sleep`, imported
# without a registry; a lab writes `nicolaka/netshoot` for it.
# Needs root, docker, busybox-static and bind9-dnsutils.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../busybox-image.sh
. "$here/../busybox-image.sh"
IMG=bbdig
cmds=(
"docker network create --subnet 10.87.0.0/24 dignet"
"docker run -d --name web --network dignet --network-alias www nicolaka/netshoot sleep 1000"
"docker run -d --name cli --network dignet nicolaka/netshoot sleep 1000"
"docker exec cli dig web"
"docker exec cli dig +short web"
"docker exec cli dig +short www"
"docker exec cli dig +noall +answer web"
"docker exec cli dig -x 10.87.0.2 +short"
"docker exec cli dig web AAAA +noall +comments"
"docker exec cli dig @127.0.0.11 web +short"
)
cleanup() { docker rm -f web cli >/dev/null 2>&1; docker network rm dignet >/dev/null 2>&1; }
cleanup
if ! docker image inspect "$IMG" >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/img/bin" "$tmp/img/etc" && cp /bin/busybox "$tmp/img/bin/" && ln -s busybox "$tmp/img/bin/sleep"
  cp "$(command -v dig)" "$tmp/img/bin/dig"
  for lib in $(ldd "$(command -v dig)" | grep -o '/[^ ]*'); do mkdir -p "$tmp/img$(dirname "$lib")" && cp -L "$lib" "$tmp/img$lib"; done
  tar -C "$tmp/img" -cf "$tmp/dig.tar" . && docker import "$tmp/dig.tar" "$IMG:latest" >/dev/null
  rm -rf "$tmp"
fi
engine_banner
echo "# image: $(dig -v 2>&1) (Debian's bind9-dnsutils) and its libraries, imported with docker import; a lab writes \`nicolaka/netshoot\`"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status; 64-hex IDs are ID"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  real=${c//nicolaka\/netshoot/$IMG}
  out=$(eval "$real" 2>&1 </dev/null); rc=$?
  echo "$out" | sed -E "s/\b[0-9a-f]{64}\b/ID/g"
  echo "[exit $rc]"
done
cleanup
