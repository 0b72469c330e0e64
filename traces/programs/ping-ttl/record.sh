#!/bin/sh
# iputils `ping -t TTL` on the kernel, across one router (client 192.168.1.2 — router
# 192.168.1.1 / 203.0.113.1 — server 203.0.113.10): writes each command, what it printed
# (stdout and stderr, one stream; times as TIME) and its exit status to record.txt beside
# this script. Needs root, iproute2 and iputils-ping.
set -e
out=$(dirname "$0")/record.txt
for n in client router server; do ip netns add ttl-$n; done
trap 'for n in client router server; do ip netns del ttl-$n; done' EXIT
ip link add eth0 netns ttl-client type veth peer name eth0 netns ttl-router
ip link add eth1 netns ttl-router type veth peer name eth0 netns ttl-server
ip -n ttl-client addr add 192.168.1.2/24 dev eth0
ip -n ttl-router addr add 192.168.1.1/24 dev eth0
ip -n ttl-router addr add 203.0.113.1/24 dev eth1
ip -n ttl-server addr add 203.0.113.10/24 dev eth0
for n in client router server; do
    ip -n ttl-$n link set lo up
    ip -n ttl-$n link set eth0 up
done
ip -n ttl-router link set eth1 up
ip -n ttl-client route add default via 192.168.1.1
ip -n ttl-server route add default via 203.0.113.1
ip netns exec ttl-router sysctl -qw net.ipv4.ip_forward=1
run() {
    echo "\$ $*"
    rc=0
    text=$(ip netns exec ttl-client "$@" 2>&1) || rc=$?
    printf '%s\n' "$text" | sed -E 's/time=[0-9.]+ ms/time=TIME ms/; s/time [0-9]+ms/time TIMEms/; s/= [0-9.\/]+ ms/= TIME ms/'
    echo "[exit $rc]"
}
{
    ping -V | head -1
    run ping -c 2 -t 1 203.0.113.10
    run ping -c 1 -t 2 203.0.113.10
    run ping -c 1 -t 1 192.168.1.1
    run ping -c 1 -t 0 203.0.113.10
    run ping -c 1 -t 256 203.0.113.10
    run ping -c 1 -t x 203.0.113.10
} > "$out"
