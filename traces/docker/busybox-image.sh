# Sourced by the record.sh scripts that run this machine's statically linked busybox
# (Debian's busybox-static) as a lab's `alpine`, without a registry.

# busybox_image NAME APPLET…: imports an image NAME holding /bin/busybox and a link to it
# for each APPLET, unless the engine has one by that name.
busybox_image() {
  local name=$1; shift
  docker image inspect "$name" >/dev/null 2>&1 && return 0
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/img/bin" && cp /bin/busybox "$tmp/img/bin/"
  local a; for a in "$@"; do ln -s busybox "$tmp/img/bin/$a"; done
  tar -C "$tmp/img" -cf "$tmp/bb.tar" . && docker import "$tmp/bb.tar" "$name:latest" >/dev/null
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
