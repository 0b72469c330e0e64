#!/bin/sh
# Runs the pings of traces/kernel/linux/fragments.ron with the real iputils ping on the same
# topology and writes what it printed (stdout and stderr, one stream) to
# traces/kernel/linux/fragments-iputils.txt. Needs root, iproute2 and iputils-ping.
set -e
out=$(dirname "$0")/fragments-iputils.txt
for n in client router server; do ip netns add frag-$n; done
trap 'for n in client router server; do ip netns del frag-$n; done' EXIT
ip link add eth0 netns frag-client type veth peer name eth0 netns frag-router
ip link add eth1 netns frag-router mtu 1400 type veth peer name eth0 netns frag-server mtu 1400
ip -n frag-client addr add 192.168.1.2/24 dev eth0
ip -n frag-router addr add 192.168.1.1/24 dev eth0
ip -n frag-router addr add 203.0.113.1/24 dev eth1
ip -n frag-server addr add 203.0.113.10/24 dev eth0
for n in client router server; do
    ip -n frag-$n link set lo up
    ip -n frag-$n link set eth0 up
done
ip -n frag-router link set eth1 up
ip -n frag-client route add default via 192.168.1.1
ip -n frag-server route add default via 203.0.113.1
ip netns exec frag-router sysctl -qw net.ipv4.ip_forward=1
{
    ping -V | head -1
    for args in "-c 2 -s 3000" "-c 2 -s 1450" "-c 2 -s 1450 -M do" "-c 1 -s 1450 -M dont"; do
        echo "\$ ping $args 203.0.113.10"
        ip netns exec frag-client ping $args 203.0.113.10 2>&1 || true
    done
} > "$out"
