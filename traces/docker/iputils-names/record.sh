#!/bin/bash
# iputils `ping` by name in a container on a user-defined network, as nicolaka/netshoot (or
# any image with iputils) runs it: this machine's iputils-ping, run in the container's network
# namespace with a resolv.conf naming the embedded DNS (`nameserver 127.0.0.11`, `options
# ndots:0`, as Docker writes it) and the container's own /etc/hosts (its host name, its
# `--add-host` lines), bind-mounted in a private mount namespace so the host's files stay
# as they are. Prints record.txt and writes record.pcapng: the first case on the
# container's `lo`, where its PTR queries go. The containers are this machine's busybox
# (Debian's busybox-static), imported without a registry (`busybox_image` in ../busybox-image.sh).
# Needs root, docker, busybox-static, iputils-ping, util-linux (unshare, nsenter) and tshark
# (for dumpcap). This machine's ping resolves with glibc, netshoot's with musl: both name the
# source of every reply with a PTR query (getnameinfo), which is what the record shows.
set -u
. "$(dirname "$0")/../busybox-image.sh"
here=$(cd "$(dirname "$0")" && pwd)
IMG=bbmin
cleanup() { docker rm -f c1 c2 c3 d1 d2 >/dev/null 2>&1; docker network rm pingnames >/dev/null 2>&1; }
cleanup
busybox_image $IMG sh sleep
rc=$(mktemp); printf 'nameserver 127.0.0.11\noptions ndots:0\n' > "$rc"
engine_banner
echo "# $(ping -V | head -1); in c1's network namespace with Docker's resolv.conf for a user-defined network"
echo "# each block: \$ the command as a lab writes it, then what it printed (both streams, in order) and its exit status; times are TIME"
step() { echo "\$ $1"; out=$(eval "$2" 2>&1); code=$?; echo "$out" | sed -E 's/\b[0-9a-f]{64}\b/ID/g; s/time=[0-9.]+ ms/time=TIME ms/; s/time [0-9]+ms/time TIMEms/; s/= [0-9.]+\/[0-9.]+\/[0-9.]+\/[0-9.]+ ms/= TIME ms/'; echo "[exit $code]"; }
# inside C CMD: CMD in container C's network namespace, with its resolv.conf and /etc/hosts.
inside() {
  pid=$(docker inspect -f '{{.State.Pid}}' "$1"); hosts=$(docker inspect -f '{{.HostsPath}}' "$1")
  echo "unshare -m sh -c 'mount --bind $rc /etc/resolv.conf && mount --bind $hosts /etc/hosts && nsenter -t $pid -n $2'"
}
inc1() { inside c1 "$1"; }
step "docker network create --subnet 10.85.0.0/24 pingnames" "docker network create --subnet 10.85.0.0/24 pingnames"
step "docker run -dit --name c1 --network pingnames nicolaka/netshoot" "docker run -d --name c1 --network pingnames $IMG sleep 1000"
step "docker run -dit --name c2 --network pingnames --network-alias db nicolaka/netshoot" "docker run -d --name c2 --network pingnames --network-alias db $IMG sleep 1000"
pid=$(docker inspect -f '{{.State.Pid}}' c1)
nsenter -t "$pid" -n dumpcap -q -i lo -w "$here/record.pcapng" >/dev/null 2>&1 & cap=$!
sleep 2
step "docker exec c1 ping -c 2 c2" "$(inc1 'ping -c 2 c2')"
sleep 1; kill $cap; wait $cap 2>/dev/null
step "docker exec c1 ping -c 1 db" "$(inc1 'ping -c 1 db')"
step "docker exec c1 ping -c 1 10.85.0.3" "$(inc1 'ping -c 1 10.85.0.3')"
step "docker exec c1 ping -n -c 1 c2" "$(inc1 'ping -n -c 1 c2')"
step "docker exec c1 ping -c 1 nosuch" "$(inc1 'ping -c 1 nosuch')"
# A name for an address no one answers ARP for: the kernel fails the queued requests with
# "Destination Host Unreachable" from the pinger's own address, which iputils names as it
# names a reply's source (here from c3's /etc/hosts), and the summary ends with `pipe N`,
# the most requests that were in flight when one failed.
step "docker run -dit --name c3 --hostname c3 --network pingnames --add-host ghost:10.85.0.99 nicolaka/netshoot" "docker run -d --name c3 --hostname c3 --network pingnames --add-host ghost:10.85.0.99 $IMG sleep 1000"
step "docker exec c3 ping -c 4 ghost" "$(inside c3 'ping -c 4 ghost')"
step "docker exec c3 ping -c 4 10.85.0.99" "$(inside c3 'ping -c 4 10.85.0.99')"
step "docker exec c3 ping -q -c 4 ghost" "$(inside c3 'ping -q -c 4 ghost')"
rm -f "$rc"
cleanup
