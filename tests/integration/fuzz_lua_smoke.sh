#!/usr/bin/env bash
# Twelve cases of tests/fuzz/lua_mutate.lua (make fuzz-lua runs it for minutes on the ASan
# build): mutated strategies and scripts through gtengine run / backtest never crash the
# engine, trip a sanitizer or hang. Fixed seed and case count: the same cases every run.
set -u
GTENGINE=${GTENGINE:-./gtengine}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..2"
out=$("$GTENGINE" tests/fuzz/lua_mutate.lua --bin "$GTENGINE" --seconds 120 --execs 12 --seed 12345 --out "$tmp" --timeout 20)
rc=$?
execs=$(printf '%s\n' "$out" | sed -n 's/^lua-fuzz: \([0-9]*\) execs.*/\1/p')
if [ "$rc" = 0 ]; then echo "ok 1 - no crash, sanitizer report or hang"; else
  echo "not ok 1 - findings"; printf '# %s\n' "$out"; for f in "$tmp"/findings/*.txt; do
    [ -f "$f" ] && head -c 600 "$f" | sed 's/^/# /'; done; fi
if [ "${execs:-0}" -ge 1 ]; then echo "ok 2 - ran $execs cases"; else echo "not ok 2 - ran no case"; printf '# %s\n' "$out"; fi
