#!/usr/bin/env bash
# Every runnable example works on a fresh checkout (each runs on built-in data).
set -u
GTENGINE=${GTENGINE:-./gtengine}
exe=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for f in examples/*.lua workflows/backtest.lua; do
  n=$((n+1))
  # run from a scratch directory (reports go to its out/), with the repo's strategies
  if (cd "$tmp" && GT_HOME="$OLDPWD" "$exe" run "$OLDPWD/$f" >"$tmp/stdout.txt" 2>"$tmp/stderr.txt"); then
    echo "ok $n - $f runs"
  else
    echo "not ok $n - $f runs"
    sed 's/^/# /' "$tmp/stderr.txt" | head -20
  fi
done
echo "1..$n"
