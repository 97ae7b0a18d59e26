#!/usr/bin/env bash
# Real-window smoke test: opens the cockpit on the embedded demo in a real OpenGL window
# under Xvfb, takes a screenshot of the X screen, and checks that the process ran
# cleanly, logged no Fyne threading errors and drew a full, varied picture.
#   scripts/window-smoke.sh BINARY [SCREENSHOT.png]
set -euo pipefail
bin=$(realpath "${1:?usage: window-smoke.sh BINARY [OUT.png]}")
out=${2:-$(mktemp --suffix=.png)}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The window closes itself after 15 s; the screenshot is taken at 10 s, once the demo
# has had time to fill every panel.
xvfb-run -a -s "-screen 0 1920x1080x24" bash -c '
  "$1" --quit-after 15s --log-level info 2>"$2" &
  pid=$!
  sleep 10
  import -window root "$3"
  wait "$pid"
' _ "$bin" "$log" "$out"

fail() { echo "window smoke test FAILED: $*" >&2; sed 's/^/  log: /' "$log" >&2; exit 1; }
grep -q "Error in Fyne call thread" "$log" && fail "Fyne threading error logged"
grep -q "cockpit open" "$log" || fail "the cockpit never reported that it opened"
[[ -s "$out" ]] || fail "no screenshot"
size=$(identify -format '%wx%h' "$out")
colours=$(identify -format '%k' "$out")
[[ "$size" == "1920x1080" ]] || fail "screenshot is $size"
((colours > 200)) || fail "screenshot has only $colours colours: the window is blank or missing"
echo "window smoke test ok: $out ($size, $colours colours)"
