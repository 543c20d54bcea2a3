#!/usr/bin/env bash
# gtengine attach against a real paced paper session: the REPL in a tmux pane reads a
# position, completes a name, survives an error and an endless loop, halts the session and
# detaches; the journal then has the commands and the breaker HALTED, and gtengine status
# shows HALTED. Also: a second client is told "busy", halt/resume reach the session through
# the socket, the finished session has the same books as an unattached one (apart from the
# halt), the socket goes at the end and on SIGTERM, and a killed session's stale socket is
# replaced when the session resumes.
set -u
# the strategies come from this checkout (an ASan binary in build/asan has none beside it)
export GT_HOME=${GT_HOME:-$(pwd)}
GTENGINE=${GTENGINE:-./gtengine}
exe=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
n=0
out=""
check() { n=$((n+1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# output was:"; sed 's/^/#   /' <<<"$out"; fi; }

if ! command -v tmux >/dev/null; then echo "1..0 # SKIP tmux not installed"; exit 0; fi
dir=$(mktemp -d)
home=$dir/home; mkdir -p "$home"
sock=tmux-attach-$$
T="tmux -L $sock"
cleanup() { $T kill-server 2>/dev/null; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
db=$dir/p.db
# 504 daily bars at 2.4e6 x real time: 36 ms a bar, about 18 s
speed=2400000

(exec "$exe" run paper --db "$db" --speed $speed > "$dir/run.out" 2>&1) & pid=$!
sockpath=""
for _ in $(seq 50); do
  sockpath=$(sed -n 's/^attach: .*(socket \(.*\))$/\1/p' "$dir/run.out" 2>/dev/null)
  [ -n "$sockpath" ] && [ -S "$sockpath" ] && break; sleep 0.1
done
out=$(cat "$dir/run.out")
check "the paper session says where to attach" '[ -S "$sockpath" ]'
out=$(stat -c '%a %F' "$sockpath" "$(dirname "$sockpath")")
check "socket 0600, directory 0700" '[ "$out" = "$(printf "600 socket\n700 directory")" ]'

# wait for an open position (the warm-up is 60 bars), asking through one-shot commands
for _ in $(seq 100); do
  out=$(HOME=$home "$exe" attach --db "$db" --eval '#positions()' 2>&1)
  [ "${out:-0}" -gt 0 ] 2>/dev/null && break; sleep 0.1
done
check "attach --eval answers (open positions: $out)" '[ "${out:-0}" -gt 0 ] 2>/dev/null'

wait_for() { # pattern [seconds]: until the pane shows it
  local i
  for i in $(seq $(( ${2:-5} * 10 ))); do
    out=$($T capture-pane -p -J -t a -S -200 2>/dev/null)
    grep -q -- "$1" <<<"$out" && return 0; sleep 0.1
  done
  return 1
}
$T new-session -d -s a -x 160 -y 50 "HOME=$home $exe attach --db $db; echo ATTACH-EXIT=\$?; sleep 30"
wait_for 'attach(paper)>'
check "the pane shows the banner and the attach(paper)> prompt" \
  'grep -q "^attached to paper session 1 of paper" <<<"$out" && grep -q "^attach(paper)>" <<<"$out"'
$T send-keys -t a 'positions()' Enter
wait_for 'unrealised'
check "positions() prints the open positions" \
  'grep -q "^symbol .*qty .*avg .*last .*value .*unrealised" <<<"$out" && grep -Eq "^(ALPHA|BRAVO|CHARLIE) +[0-9,]+ " <<<"$out"'
$T send-keys -t a 'set_pa' Tab
sleep 0.5; $T send-keys -t a '("sma_cross", "slow", 1.5)' Enter
wait_for 'slow takes a whole number'
check "tab completes set_param, and a bad value is refused with the reason" \
  'grep -q "^attach(paper)> set_param *(\"sma_cross\", \"slow\", 1.5)" <<<"$out" && grep -q "^attach:1: sma_cross: slow=1.5: slow takes a whole number" <<<"$out"'
$T send-keys -t a 'while true do end' Enter
wait_for 'interrupted: the command ran over'
check "an endless loop is interrupted and reported" 'grep -q "^interrupted: the command ran over its limit of 0.2 s of CPU" <<<"$out"'
out=$(HOME=$home "$exe" attach --db "$db" --eval '1' 2>&1); code=$?
check "a second client is told busy (exit 3)" '[ $code = 3 ] && grep -q "^gtengine attach: busy: another client (uid [0-9]*) is attached" <<<"$out"'
$T send-keys -t a 'halt("from attach")' Enter
wait_for 'HALTED: from attach'
check "halt() halts the session's gate" 'grep -q "^HALTED: from attach; the breaker event follows at the next cycle" <<<"$out"'
$T send-keys -t a 'status()' Enter
wait_for 'breaker HALTED'
check "status() then shows the breaker HALTED" 'grep -q "^paper (paper) cycle [0-9]*/504 .*breaker HALTED" <<<"$out"'
$T send-keys -t a C-d
wait_for 'ATTACH-EXIT=0'
check "Ctrl-D detaches with status 0" 'grep -q "ATTACH-EXIT=0" <<<"$out"'
sleep 0.5
out=$(kill -0 $pid 2>&1 && echo alive)
check "the session goes on after the client leaves" 'grep -q alive <<<"$out"'

out=$("$exe" status --db "$db" 2>&1)
check "gtengine status shows HALTED" 'grep -q "^  breaker    HALTED" <<<"$out"'
out=$("$exe" journal --db "$db" --type command,breaker --json 2>&1)
check "the journal has the commands typed, with their status and the client's uid" \
  'grep -q "\"text\":\"positions()\"" <<<"$out" && grep -q "\"status\":\"interrupted\".*\"text\":\"while true do end\"\|\"text\":\"while true do end\".*\"status\":\"interrupted\"" <<<"$out" && grep -q "\"text\":\"halt(\\\\\"from attach\\\\\")\"" <<<"$out" && grep -q "\"uid\":$(id -u)" <<<"$out"'
check "and the breaker HALTED after the halt command" \
  '[ "$(grep -n "halt(\\\\\"from attach" <<<"$out" | head -1 | cut -d: -f1)" -lt "$(grep -n "\"type\":\"breaker\".*HALTED\|HALTED.*\"type\":\"breaker\"" <<<"$out" | head -1 | cut -d: -f1)" ]'

out=$("$exe" resume --db "$db" 2>&1)
check "gtengine resume tells the running session at once" 'grep -q "^the running session (pid $pid) resumed now" <<<"$out"'
out=$("$exe" halt --reason "desk" --db "$db" 2>&1)
check "gtengine halt too, besides the database" 'grep -q "^HALTED: desk (database" <<<"$out" && grep -q "^the running session (pid $pid) is halted now" <<<"$out"'

wait $pid; code=$?
out=$(cat "$dir/run.out")
check "the session finishes all 504 bars (status $code)" '[ $code = 0 ] && grep -q "^bars  *504 of 504" <<<"$out"'
check "and removes its socket" '[ ! -e "$sockpath" ]'
out=$("$exe" attach --db "$db" 2>&1); code=$?
check "attach with no session running says so" '[ $code = 1 ] && grep -qx "gtengine attach: no running session for $db: start one with gtengine run paper --db $db" <<<"$out"'

# SIGTERM removes the socket; SIGKILL leaves it stale, and the resumed session replaces it
db2=$dir/q.db
(exec "$exe" run paper --db "$db2" --speed 200000 --quiet > "$dir/q.out" 2>&1) & pid=$!
sock2=$("$exe" -e 'print(require("gt.attach").socket_path(arg[1]))' "$db2")
for _ in $(seq 50); do [ -S "$sock2" ] && break; sleep 0.1; done
kill -TERM $pid; wait $pid
check "SIGTERM: the session stops and removes its socket" '[ ! -e "$sock2" ]'
(exec "$exe" run paper --db "$db2" --speed 200000 --quiet > "$dir/q.out" 2>&1) & pid=$!
for _ in $(seq 50); do [ -S "$sock2" ] && break; sleep 0.1; done
sleep 0.3; kill -KILL $pid; wait $pid 2>/dev/null
out=$("$exe" attach --db "$db2" --eval 1 2>&1); code=$?
check "SIGKILL leaves a stale socket that attach recognises as no session" \
  '[ -S "$sock2" ] && [ $code = 1 ] && grep -q "no running session for" <<<"$out"'
(exec "$exe" run paper --db "$db2" --speed 200000 --quiet > "$dir/q.out" 2>&1) & pid=$!
for _ in $(seq 50); do
  out=$("$exe" attach --db "$db2" --eval 'status()' 2>&1) && break; sleep 0.1
done
check "the resumed session replaces the stale socket and answers" 'grep -q "^paper (paper) cycle" <<<"$out"'
kill -TERM $pid; wait $pid
pid=""
echo "1..$n"
