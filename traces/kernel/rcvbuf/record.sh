#!/bin/sh
# What one segment of N bytes costs a TCP receiver on the kernel, and how far it raises the
# window the receiver may offer: two namespaces joined by a veth (MTU 1500), a connection
# between them, one write(2) of N bytes in one direction, and `ss -tmi` on the receiving
# socket while the program has not read it. For each side (the passive opener receiving, then
# the active one) and each N, writes the kernel, then one line: the side, N, the socket's
# memory (`skmem`, whose r is sk_rmem_alloc), rcvmss and rcv_ssthresh, to record.txt beside
# this script. Needs root, iproute2's ss and python3. sim-core/src/kernel/rcvbuf/tests.rs
# holds the simulator's receive buffer to it.
set -e
dir=$(dirname "$0")
out=$dir/record.txt
ip netns add rb-a
ip netns add rb-b
trap 'ip netns del rb-a; ip netns del rb-b' EXIT
ip link add va netns rb-a type veth peer name vb netns rb-b
ip -n rb-a addr add 10.9.0.1/24 dev va
ip -n rb-b addr add 10.9.0.2/24 dev vb
ip -n rb-a link set va up
ip -n rb-b link set vb up
# side, bytes: the listener (in rb-b) or the connecting side (in rb-a) receives them.
measure() {
    side=$1 n=$2
    if [ "$side" = passive ]; then send_srv=0 send_cli=$n reader=rb-b; else send_srv=$n send_cli=0 reader=rb-a; fi
    ip netns exec rb-b python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.9.0.2', 7000)); s.listen(1)
c, _ = s.accept(); time.sleep(0.5)
if $send_srv: c.send(b'y' * $send_srv)
time.sleep(1.5)" &
    sleep 0.3
    ip netns exec rb-a python3 -c "
import socket, time
s = socket.create_connection(('10.9.0.2', 7000)); time.sleep(0.5)
if $send_cli: s.send(b'x' * $send_cli)
time.sleep(1.5)" &
    sleep 1.2
    printf '%s %s ' "$side" "$n"
    ip netns exec $reader ss -tmi state established |
        grep -o 'skmem:([^)]*)\|rcvmss:[0-9]*\|rcv_ssthresh:[0-9]*' | tr '\n' ' ' | sed 's/ $//'
    echo
    wait
}
{
    echo "# $(uname -sr)"
    for side in passive active; do
        for n in 72 127 128 200 536 853 1348 1448; do
            measure $side $n
        done
    done
} > "$out"
