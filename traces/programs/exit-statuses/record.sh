#!/bin/sh
# Runs, on the kernel, the programs of sim-core/tests/exit_statuses.rs (failing, and ping's
# -i, -W, -w and -q) from one
# namespace (host1, 192.168.99.101/24 on a bridge, no default route, no other machine) and
# writes each command, what it printed (stdout and stderr, one stream; times as TIME, curl's
# milliseconds as MS) and its exit status to record.txt beside this script.
# Needs root, iproute2, iputils-ping and curl.
set -e
out=$(dirname "$0")/record.txt
ip netns add es-lan
ip netns add es-host1
trap 'ip netns del es-host1; ip netns del es-lan' EXIT
ip -n es-lan link add lan0 type bridge
ip link add eth0 netns es-host1 type veth peer name host1 netns es-lan
ip -n es-lan link set host1 master lan0
ip -n es-host1 addr add 192.168.99.101/24 dev eth0
for l in "es-lan lan0" "es-lan host1" "es-lan lo" "es-host1 eth0" "es-host1 lo"; do
    set -- $l
    ip -n "$1" link set "$2" up
done
# A name that no nameserver knows: glibc asks none it can reach (the namespace has no route
# to the host's nameservers), so nothing leaves the machine.
run() {
    echo "\$ $*"
    rc=0
    text=$(ip netns exec es-host1 "$@" 2>&1) || rc=$?
    printf '%s\n' "$text" | sed -E 's/time=[0-9.]+ ms/time=TIME ms/; s/time [0-9]+ms/time TIMEms/; s/= [0-9.\/]+ ms/= TIME ms/; s/after [0-9]+ ms/after MS ms/; s/after [0-9]+ milliseconds/after MS milliseconds/'
    echo "[exit $rc]"
}
{
    ping -V | head -1
    curl --version | head -1
    run ping -c 1 -W 1 192.168.99.101
    run ping -c 1 -W 1 192.168.99.200
    run ping -c 1 10.9.9.9
    run ping -c 1 nosuch.invalid
    run ping -q -c 3 -i 0.2 192.168.99.101
    run ping -w 1 -i 0.3 192.168.99.101
    run ping -c 5 -w 1 -i 0.4 192.168.99.203
    run ping -c 2 -w 3 -i 0.5 192.168.99.101
    run ping -c 2 -W 0.5 192.168.99.202
    run curl -sS http://192.168.99.101:81/
    run curl -sS http://10.9.9.9/
    run curl -sS http://nosuch.invalid/
    run curl -sS --max-time 1 http://192.168.99.201/
} > "$out"
