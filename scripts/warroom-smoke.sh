#!/usr/bin/env bash
# Real-window war-room test: under one Xvfb screen, a commander cockpit in kiosk mode
# serves its session and a second cockpit follows it over a real websocket. Checks both
# processes ran cleanly with no Fyne threading errors, the follower went live, and the
# screenshots (commander alone, then with the follower on top) show full pictures.
#   scripts/warroom-smoke.sh BINARY [KIOSK.png [FOLLOWER.png]]
set -euo pipefail
bin=$(realpath "${1:?usage: warroom-smoke.sh BINARY [KIOSK.png [FOLLOWER.png]]}")
kshot=${2:-$(mktemp --suffix=.png)}
fshot=${3:-$(mktemp --suffix=.png)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 24 /dev/urandom | base64 >"$work/token"
chmod 600 "$work/token"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export XDG_CONFIG_HOME="$work/config" # a fresh user: nothing remembered, drill data in the temp dir

xvfb-run -a -s "-screen 0 1920x1080x24" bash -c '
  bin=$1 work=$2 port=$3 kshot=$4 fshot=$5
  "$bin" --kiosk --serve-session 127.0.0.1:$port --token-file "$work/token" --quit-after 24s --log-level info 2>"$work/commander.log" &
  cpid=$!
  sleep 9
  import -window root "$kshot"
  "$bin" --follow ws://127.0.0.1:$port --token-file "$work/token" --layout wall --quit-after 12s --log-level info 2>"$work/follower.log" &
  fpid=$!
  sleep 8
  import -window root "$fshot"
  wait "$fpid"
  wait "$cpid"
' _ "$bin" "$work" "$port" "$kshot" "$fshot"

fail() {
  echo "war-room test FAILED: $*" >&2
  sed 's/^/  commander: /' "$work/commander.log" >&2
  sed 's/^/  follower: /' "$work/follower.log" >&2
  exit 1
}
for who in commander follower; do
  grep -q "Error in Fyne call thread" "$work/$who.log" && fail "$who logged a Fyne threading error"
  grep -q "cockpit open" "$work/$who.log" || fail "the $who never opened"
done
grep -q "kiosk=true" "$work/commander.log" || fail "the commander was not in kiosk mode"
grep -q "serving the session" "$work/commander.log" || fail "the commander did not serve its session"
grep -q "session: follower connected" "$work/commander.log" || fail "no follower joined the commander"
for shot in "$kshot" "$fshot"; do
  [[ -s "$shot" ]] || fail "no screenshot $shot"
  colours=$(identify -format '%k' "$shot")
  ((colours > 200)) || fail "$shot has only $colours colours: a window is blank or missing"
done
echo "war-room test ok: kiosk $kshot, follower $fshot"
