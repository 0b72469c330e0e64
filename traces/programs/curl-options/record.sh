#!/bin/bash
# What curl prints with -I, -i, -f, -o and -w, on this machine's curl (Debian's curl 7.88.1),
# of the answers the simulator's HTTP server gives (server.py sends the same bytes): prints
# record.txt. Each block: the command, what it printed (both streams, in order), its status.
set -u
here=$(cd "$(dirname "$0")" && pwd)
port=18080
python3 "$here/server.py" $port & srv=$!
trap 'kill $srv 2>/dev/null' EXIT
sleep 0.5
tmp=$(mktemp -d)
cd "$tmp" || exit 1
echo "# $(curl --version | head -1 | cut -d' ' -f1-2), against server.py"
for c in \
  "curl -sI http://localhost:8080/" \
  "curl -si http://localhost:8080/" \
  "curl -s -o /dev/null -w '%{http_code}\n' http://localhost:8080/" \
  "curl -s -w 'code=%{response_code} size=%{size_download}\n' http://localhost:8080/" \
  "curl -sf -X DELETE http://localhost:8080/" \
  "curl -sSf -X DELETE http://localhost:8080/" \
  "curl -s -X DELETE http://localhost:8080/" \
  "curl -sI -f http://localhost:8080/" \
  "curl -s -o page.html http://localhost:8080/"; do
  echo "\$ $c"
  out=$(eval "${c//8080/$port}" 2>&1); rc=$?
  # curl's own CR of a header line is not a character a lab's log keeps.
  [ -n "$out" ] && printf '%s\n' "$out" | tr -d '\r'
  echo "[exit $rc]"
done
rm -rf "$tmp"
