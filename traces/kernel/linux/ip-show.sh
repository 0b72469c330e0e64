#!/bin/sh
# Runs iproute2's `ip addr`, `ip link`, `ip -4 addr`, `ip -o addr|link` and `ip neigh` on the
# topology of traces/kernel/linux/ip-show.ron (namespaces named ipshow-NAME here) and writes
# what each printed (stdout and stderr, one stream, then its exit status) to
# traces/kernel/linux/ip-show.txt. IPv6 is turned off in each namespace, as Docker turns it
# off in a container's: the simulator has no IPv6, and an address of it would print lines
# of its own. Needs root and iproute2.
set -e
out=$(dirname "$0")/ip-show.txt
for n in host ns1 ns2; do
    ip netns add ipshow-$n
    ip netns exec ipshow-$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
trap 'rm -f "$out.part"; for n in host ns1 ns2; do ip netns del ipshow-$n; done' EXIT
h="ip -n ipshow-host"
$h link add br0 address 02:00:00:00:00:fe type bridge
$h link add br1 address 02:00:00:00:01:fe type bridge
$h link add veth1 address 02:00:00:00:00:11 type veth peer name eth0 address 02:00:00:00:00:01 netns ipshow-ns1
$h link add veth2 address 02:00:00:00:00:12 type veth peer name eth0 address 02:00:00:00:00:02 netns ipshow-ns2
$h link set veth1 master br0
$h link set veth2 master br0
for n in host ns1 ns2; do ip -n ipshow-$n link set lo up; done
for d in br0 br1 veth1 veth2; do $h link set $d up; done
ip -n ipshow-ns1 link set eth0 up
ip -n ipshow-ns2 link set eth0 up
$h addr add 10.0.0.254/24 brd + dev br0
$h addr add 10.1.0.254/24 brd + dev br1
ip -n ipshow-ns1 addr add 10.0.0.1/24 brd + dev eth0
ip -n ipshow-ns2 addr add 10.0.0.2/24 brd + dev eth0
run() {
    ns=$1; shift
    echo "\$ [$ns] $*"
    rc=0
    ip netns exec ipshow-$ns "$@" > "$out.part" 2>&1 || rc=$?
    cat "$out.part"
    echo "[exit $rc]"
}
{
    ip -V
    run ns1 ping -c 1 10.0.0.2 >/dev/null
    run ns1 ip addr
    run ns1 ip link
    run ns1 ip -4 addr
    run ns1 ip -o addr
    run ns1 ip -o link
    run ns1 ip addr show eth0
    run ns1 ip neigh
    run host ip addr
    run host ip link
    run ns2 ip link set eth0 down
    run ns2 ip link
    run ns1 ip link
    run host ip link show veth2
} > "$out"
