#!/bin/sh
# Runs `bridge fdb show` and `bridge link` on the topology of traces/kernel/linux/bridge-fdb.ron (namespaces
# named bfdb-NAME here) and writes what each printed (stdout and stderr, one stream, then its
# exit status) to traces/kernel/linux/bridge-fdb.txt. Every MAC is given, as in the lab, so
# both sides print the same addresses; IPv6 is turned off in each namespace, as the netns
# backend and Docker do. Needs root and iproute2.
set -e
out=$(dirname "$0")/bridge-fdb.txt
for n in host ns1 ns2 ns3; do
    ip netns add bfdb-$n
    ip netns exec bfdb-$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
trap 'rm -f "$out.part"; for n in host ns1 ns2 ns3; do ip netns del bfdb-$n; done' EXIT
h="ip -n bfdb-host"
$h link add br0 address 02:00:00:00:00:fe type bridge
$h link add br1 type bridge
$h link add veth1 address 02:00:00:00:00:11 type veth peer name eth0 address 02:00:00:00:00:01 netns bfdb-ns1
$h link add veth2 address 02:00:00:00:00:12 type veth peer name eth0 address 02:00:00:00:00:02 netns bfdb-ns2
$h link add veth3 address 02:00:00:00:00:13 type veth peer name eth0 address 02:00:00:00:00:03 netns bfdb-ns3
$h link set veth1 master br0
$h link set veth2 master br0
$h link set veth3 master br1
for n in host ns1 ns2 ns3; do ip -n bfdb-$n link set lo up; done
for d in br0 br1 veth1 veth2 veth3; do $h link set $d up; done
for n in ns1 ns2 ns3; do ip -n bfdb-$n link set eth0 up; done
$h addr add 10.0.0.254/24 brd + dev br0
ip -n bfdb-ns1 addr add 10.0.0.1/24 brd + dev eth0
ip -n bfdb-ns2 addr add 10.0.0.2/24 brd + dev eth0
bridge -n bfdb-host fdb append 02:00:00:00:00:99 dev veth2 master static
run() {
    ns=$1; shift
    echo "\$ [$ns] $*"
    rc=0
    ip netns exec bfdb-$ns "$@" > "$out.part" 2>&1 || rc=$?
    cat "$out.part"
    echo "[exit $rc]"
}
{
    bridge -V
    run ns3 ip link set eth0 down
    run ns1 ping -c 1 10.0.0.2 >/dev/null
    run ns1 ping -c 1 10.0.0.254 >/dev/null
    run host bridge fdb show
    run host bridge fdb
    run ns1 bridge fdb show
    run ns3 bridge fdb show
    run host bridge link set dev veth2 hairpin on learning off isolated on
    run host bridge link show
    run host bridge -d link show
    run host bridge link show dev veth1
    run host bridge link show dev br0
    run host bridge link show dev zz
    run host bridge link set dev veth2 hairpin off learning on isolated off
    run host bridge -d link show dev veth2
    run host bridge link set dev zz hairpin on
    run host bridge link set dev br0 hairpin on
    run host bridge link set dev veth2 hairpin maybe
    run host bridge link set hairpin on
    run ns1 bridge link show
} > "$out"
