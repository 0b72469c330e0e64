#!/bin/sh
# Records busybox wget against the page the simulator serves.
#
# Two network namespaces joined by a veth (10.77.0.1 and 10.77.0.2). In the second,
# `netsim agent` runs the simulator's static web server (`Traffic::Http`, the same bytes as
# `webapp::static_page`) on port 80, and nothing listens on 81. In the first, busybox wget
# runs each command of `cases.txt` in one working directory (what one wget saved is there for
# the next, as in a container); record.txt gets "$ COMMAND", what it printed (stdout and
# stderr as they came) and "[exit N]"; record.pcapng the server side's frames (tshark).
#
# Usage (root, busybox and a netsim binary): traces/programs/wget/record.sh path/to/netsim
set -eu
NETSIM=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
C=nsrec-wc; S=nsrec-ws
cleanup() { ip netns pids $S 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del $C 2>/dev/null || true; ip netns del $S 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $C; ip netns add $S
ip link add wv0 netns $C type veth peer name wv1 netns $S
ip -n $C addr add 10.77.0.1/24 dev wv0; ip -n $S addr add 10.77.0.2/24 dev wv1
for n in $C $S; do ip -n $n link set lo up; done
ip -n $C link set wv0 up; ip -n $S link set wv1 up
ip netns exec $S "$NETSIM" agent 'Http(ns: "ws", port: 80)' > /dev/null 2>&1 &
ip netns exec $S tshark -q -i wv1 -w "$HERE/record.pcapng" > /dev/null 2>&1 &
sleep 2
busybox | head -1 > "$HERE/record.txt"
WORK=$(mktemp -d)
# `-P dl` needs the directory: busybox does not make it.
mkdir "$WORK/dl"
while IFS= read -r cmd; do
    [ -z "$cmd" ] && continue
    echo "\$ $cmd" >> "$HERE/record.txt"
    # shellcheck disable=SC2086
    (cd "$WORK" && ip netns exec $C busybox $cmd >> "$HERE/record.txt" 2>&1) && rc=0 || rc=$?
    echo "[exit $rc]" >> "$HERE/record.txt"
done < "$HERE/cases.txt"
rm -rf "$WORK"
sleep 1
