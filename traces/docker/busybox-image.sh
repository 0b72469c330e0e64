# Sourced by the record.sh scripts that run this machine's statically linked busybox
# (Debian's busybox-static) as a lab's `alpine`, without a registry.

# busybox_image NAME APPLET…: imports an image NAME holding /bin/busybox (or the static
# busybox BUSYBOX names) and a link to it for each APPLET, unless the engine has one by that
# name; with IMAGE_CMD set (a JSON list),
# that is the image's command; with WWW set, /www/index.html holds it (a page to serve).
busybox_image() {
  local name=$1; shift
  docker image inspect "$name" >/dev/null 2>&1 && return 0
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/img/bin" && cp "${BUSYBOX:-/bin/busybox}" "$tmp/img/bin/busybox"
  if [ -n "${WWW:-}" ]; then mkdir -p "$tmp/img/www" && printf '%s\n' "$WWW" > "$tmp/img/www/index.html"; fi
  local a; for a in "$@"; do ln -s busybox "$tmp/img/bin/$a"; done
  local change=(); [ -n "${IMAGE_CMD:-}" ] && change=(--change "CMD $IMAGE_CMD")
  tar -C "$tmp/img" -cf "$tmp/bb.tar" . && docker import "${change[@]}" "$tmp/bb.tar" "$name:latest" >/dev/null
  rm -rf "$tmp"
}

# engine_banner: the record's first line, the engine and kernel it was made on.
engine_banner() {
  echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), Linux $(uname -r)"
}

# run_cases IMAGE COMMAND…: each command as a lab writes it, then what it printed (both
# streams, in order; 64-hex IDs as ID) and its exit status. `alpine` at the end of a command
# (a lab's `docker run -dit … alpine`, whose shell waits on its terminal) becomes IMAGE
# running `sleep 1000`, `alpine` before a command IMAGE, `ancestor=alpine` IMAGE; `-it` is
# `-i` (a script has no terminal).
run_cases() {
  local img=$1; shift
  local c real out rc
  for c in "$@"; do
    echo "\$ $c"
    real=$c
    case $c in
      *" alpine") real="${c% alpine} $img sleep 1000" ;;
      *" alpine "*) real="${c/ alpine / $img }" ;;
      *"ancestor=alpine"*) real="${c/ancestor=alpine/ancestor=$img}" ;;
    esac
    real=${real/ -it / -i }
    out=$(eval "$real" 2>&1 </dev/null); rc=$?
    echo "$out" | sed -E "s/\b[0-9a-f]{64}\b/ID/g"
    echo "[exit $rc]"
  done
}

# run_server_cases IMAGE COMMAND…: the records of servers and their clients (nc-listen,
# docker-proxy), as run_cases but: `nginx` at the end of a command is IMAGE running busybox
# httpd on port 80 (serving /www), a client's ephemeral port (32768–60999) is EPH, blank
# lines are left out, and each command is followed by a second's pause, as a student types,
# so a server's reverse lookup is done before its log is read.
run_server_cases() {
  local img=$1; shift
  local c real out rc
  for c in "$@"; do
    echo "\$ $c"
    real=$c
    case $c in
      *" nginx") real="${c% nginx} $img httpd -f -p 80 -h /www" ;;
      *" alpine") real="${c% alpine} $img sleep 1000" ;;
      *" alpine "*) real="${c/ alpine / $img }" ;;
    esac
    out=$(eval "$real" 2>&1 </dev/null); rc=$?
    echo "$out" | sed -E 's/\b[0-9a-f]{64}\b/ID/g; s/:(3[2-9][0-9]{3}|[4-5][0-9]{4}|60[0-9]{3})([ )]|$)/:EPH\2/g' | grep -v '^$'
    echo "[exit $rc]"
    sleep 1
  done
}

# run_swarm_cases IMAGE ADDR COMMAND…: the records of a one-node swarm (swarm-jobs,
# swarm-restart): a banner, then each command as a lab writes it and what it printed and its
# exit status. `nginx` at the end of a command is IMAGE running busybox httpd on port 80
# (serving /www, which busybox_image fills where WWW is set); `alpine` at the end of a command
# is IMAGE running `sleep 100000` (IMAGE with its
# own command where BARE=1 is set), before a command IMAGE, and `alpine:TAG` a tag of IMAGE
# (which the script makes); ADDR is this machine's address and HOST its name (alone on a line
# in the output, as `docker node update` prints it). Swarm and task IDs, the address and times
# are replaced by words (an ID has a digit and a letter, or begins a table row), blank lines
# left out, and each `service create` followed by a second's pause.
run_swarm_cases() {
  local IMG=$1 ADDR=$2; shift 2
  local c real out rc
  local cmds=("$@")
  echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), CLI $(docker version -f '{{.Client.Version}}'), Linux $(uname -r)"
  if [ -n "${BARE:-}" ]; then
    echo "# image: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') (Debian busybox-static) imported with docker import and CMD [\"/bin/sh\"]: \`alpine\` runs its own command"
  else
    echo "# image: busybox $(busybox 2>&1 | sed -nE '1s/^BusyBox (v[^ ]+) .*/\1/p') (Debian busybox-static) imported with docker import: \`alpine\` at the end of a command runs \`sleep 100000\`"
  fi
  echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status;"
  echo "# 64-hex IDs are ID, 25-char swarm IDs SWARMID, 12-char task IDs SHORTID, this machine's address ADDR, times TIME"
  for c in "${cmds[@]}"; do
    echo "\$ $c"
    real=$c
    case $c in
      *" nginx") real="${c% nginx} $IMG httpd -f -p 80 -h /www" ;;
      *" alpine") if [ -n "${BARE:-}" ]; then real="${c% alpine} $IMG"; else real="${c% alpine} $IMG sleep 100000"; fi ;;
      *" alpine "*) real="${c/ alpine / $IMG }" ;;
    esac
    real=${real//ADDR/$ADDR}
    real=${real//HOST/$(hostname)}
    # `alpine:TAG` (`service update --image alpine:3.19`) is a tag of IMAGE.
    real=$(echo "$real" | sed -E "s/\balpine:([0-9a-z.]+)/$IMG:\1/g")
    out=$(eval "$real" 2>&1 </dev/null); rc=$?
    # An ID has a digit and a letter ("instructions" is no ID), or begins a table row.
    echo "$out" | A=$ADDR I=$IMG H=$(hostname) perl -pe 's/\Q$ENV{A}\E/ADDR/g; s/^\Q$ENV{H}\E$/HOST/; s/SWMTKN-[0-9a-z-]+/TOKEN/g; s/\b[0-9a-f]{64}\b/ID/g;
      s/\b(?=[0-9a-z]{25}\b)(?=[a-z]*[0-9])(?=[0-9]*[a-z])[0-9a-z]{25}\b/SWARMID/g;
      s/\b(?=[0-9a-z]{12}\b)(?=[a-z]*[0-9])(?=[0-9]*[a-z])[0-9a-z]{12}\b/SHORTID/g;
      s/^[0-9a-z]{12}(?= )/SHORTID/;
      s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g; s/\Q$ENV{I}\E:([0-9a-z.]+)/alpine:$1/g' | grep -v '^$'
    echo "[exit $rc]"
    case $c in *"service create"*) sleep 1 ;; esac
  done
}

# this_address: this machine's address on its default route (the swarm's advertise address).
this_address() {
  ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p'
}

# swarm_reset: the engine as a fresh one for a one-node swarm record: no services, no swarm
# (leaving it takes its overlays), no docker_gwbridge.
swarm_reset() {
  docker service ls -q 2>/dev/null | xargs -r docker service rm >/dev/null 2>&1
  docker swarm leave --force >/dev/null 2>&1
  docker network rm docker_gwbridge >/dev/null 2>&1
}

# swarm_record IMAGE COMMAND…: run_swarm_cases on a fresh engine with this machine's
# address, and the engine left fresh again.
swarm_record() {
  local img=$1; shift
  swarm_reset
  run_swarm_cases "$img" "$(this_address)" "$@"
  swarm_reset
}
