#!/usr/bin/env bash
# Every runnable example works on a fresh checkout (each runs on built-in data).
set -u
GTENGINE=${GTENGINE:-./gtengine}
exe=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for f in examples/*.lua workflows/*.lua; do
  n=$((n+1))
  # run from a scratch directory (reports go to its out/), with the repo's strategies
  if (cd "$tmp" && GT_HOME="$OLDPWD" "$exe" run "$OLDPWD/$f" >"$tmp/stdout.txt" 2>"$tmp/stderr.txt"); then
    echo "ok $n - $f runs"
  else
    echo "not ok $n - $f runs"
    sed 's/^/# /' "$tmp/stderr.txt" | head -20
  fi
done
# a strategy file that does not load is skipped with one line, and the workflow still ends 0
n=$((n+1))
mkdir -p "$tmp/w/strategies" && cp strategies/*.lua "$tmp/w/strategies/"
printf 'return { name = "broken", rule = function( end }\n' >"$tmp/w/strategies/broken.lua"
if (cd "$tmp/w" && "$exe" run "$OLDPWD/examples/compare_strategies.lua" >"$tmp/stdout.txt" 2>"$tmp/stderr.txt") &&
   [ "$(grep -c '^broken: skipped: ' "$tmp/stderr.txt")" = 1 ] && ! grep -q traceback "$tmp/stderr.txt" &&
   grep -q '^sma_cross ' "$tmp/stdout.txt"; then
  echo "ok $n - examples/compare_strategies.lua skips a broken strategy file with one line"
else
  echo "not ok $n - examples/compare_strategies.lua skips a broken strategy file with one line"
  sed 's/^/# /' "$tmp/stderr.txt" | head -20
fi
echo "1..$n"
