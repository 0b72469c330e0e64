#!/bin/sh
# Runs `ping -I` on the topology of traces/kernel/linux/ping-bind.ron with the real iputils
# ping and busybox's applet, and writes what each printed (stdout and stderr, one stream,
# then its exit status) to traces/kernel/linux/ping-bind.txt. Needs root, iproute2,
# iputils-ping and busybox-static.
set -e
out=$(dirname "$0")/ping-bind.txt
for n in a b c; do ip netns add pb-$n; done
trap 'rm -f "$out.part"; for n in a b c; do ip netns del pb-$n; done' EXIT
ip link add eth0 netns pb-a type veth peer name eth0 netns pb-b
ip link add eth1 netns pb-a type veth peer name eth0 netns pb-c
ip -n pb-a addr add 10.1.0.1/24 dev eth0
ip -n pb-b addr add 10.1.0.2/24 dev eth0
ip -n pb-a addr add 10.2.0.1/24 dev eth1
ip -n pb-c addr add 10.2.0.2/24 dev eth0
for n in a b c; do ip -n pb-$n link set lo up; ip -n pb-$n link set eth0 up; done
ip -n pb-a link set eth1 up
{
    ping -V | head -1
    busybox | head -1
    for p in ping "busybox ping"; do
        for args in "-I eth1 10.2.0.2" "-W 4 -I eth1 10.1.0.2" "-W 1 -I 10.2.0.1 10.1.0.2" "-I 10.2.0.1 10.2.0.2" \
            "-I 10.9.9.9 10.2.0.2" "-I eth9 10.2.0.2"; do
            echo "\$ $p -c 1 $args"
            # shellcheck disable=SC2086
            rc=0
            ip netns exec pb-a $p -c 1 $args > "$out.part" 2>&1 || rc=$?
            sed -E 's/time=[0-9.]+ ms/time=T ms/; s/= [0-9.\/]+ ms/= T ms/' "$out.part"
            echo "[exit $rc]"
        done
    done
} > "$out"
