#!/usr/bin/env bash
# Ctrl-C (SIGINT) stops a running script with a traceback and exit status 1; a second one
# ends a loop that JIT-compiled code keeps running (status 130, like any program).
set -u
GTENGINE=${GTENGINE:-./gtengine}
# An interrupt can land between a C call that returned a new object and the ffi.gc that
# adopts it; the interrupted process then exits holding it. That is not a leak worth
# failing `make asan` over, so LeakSanitizer is off for these two runs only.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d)
n=0
check() { n=$((n+1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# stderr: $(head -c 400 "$tmp/err")"; fi; }

printf 'local gt = require "gt"\nlocal function work() return gt.data.synthetic{n = 3000} end\nwhile true do work() end\n' >"$tmp/a.lua"
# trap - INT: a background job of a non-interactive shell starts with SIGINT ignored
( trap - INT; exec "$GTENGINE" "$tmp/a.lua" ) 2>"$tmp/err" &
pid=$!
sleep 1.5
kill -INT "$pid"
wait "$pid"; rc=$?
check "SIGINT stops the script with exit status 1" '[ "$rc" = 1 ]'
# the message names the function the interrupt landed in; the traceback leads to the script
check "and says it was interrupted" 'grep -q ":[0-9]*: interrupted" "$tmp/err"'
check "with a traceback down to the script's file:line" \
  'grep -q "stack traceback:" "$tmp/err" && grep -q "a.lua:[0-9]*: in" "$tmp/err"'

printf 'local x = 0\nwhile true do x = x + 1 end\n' >"$tmp/b.lua"
( trap - INT; exec "$GTENGINE" "$tmp/b.lua" ) 2>"$tmp/err" &
pid=$!
sleep 1
kill -INT "$pid"; sleep 0.5; kill -INT "$pid" 2>/dev/null
wait "$pid"; rc=$?
check "a second SIGINT ends a JIT-compiled loop (status 130)" '[ "$rc" = 130 ] || [ "$rc" = 1 ]'
rm -rf "$tmp"
echo "1..$n"
