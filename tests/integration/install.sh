#!/usr/bin/env bash
# An installed gtengine finds its shipped workflows from any directory (gtengine run paper),
# and a user's own workflow and strategy beside them, written the way the README says, run.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
notok() { n=$((n+1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

if make -s install PREFIX="$tmp/inst" >"$tmp/make.out" 2>&1; then
  ok "make install PREFIX=..."
else
  notok "make install PREFIX=..." "$(tail -5 "$tmp/make.out")"; echo "1..$n"; exit 1
fi
exe="$tmp/inst/bin/gtengine"
mkdir -p "$tmp/work" && cd "$tmp/work" || exit 1
if env -u GT_HOME -u GT_DB "$exe" run paper --quiet --db s.db >out.txt 2>err.txt &&
   grep -q "^workflow *paper (paper)" out.txt && [ -f s.db ]; then
  ok "gtengine run paper from an empty directory uses the installed workflow"
else
  notok "gtengine run paper from an empty directory uses the installed workflow" "$(tail -3 err.txt)"
fi
# the user's copy: a workflow in ./workflows and a strategy in ./strategies
mkdir -p workflows strategies
sed 's/name = "paper"/name = "mine"/; s/strategy = "sma_cross"/strategy = "dip_buyer"/; s/params = { sma_cross = { fast = 10, slow = 30 } },//' \
  "$tmp/inst/share/gtengine/workflows/paper.lua" >workflows/mine.lua
cat >strategies/dip_buyer.lua <<'LUA'
-- buy when RSI(14) drops below 30, go flat when it climbs above 60
return {
  name = "dip_buyer",
  params = { period = 14, low = 30, high = 60 },
  indicators = function(d, p) return { rsi = gt.ind.rsi(d.close, p.period) } end,
  rule = function(d, ind, i, p)
    if ind.rsi[i] < p.low then return 1 end
    if ind.rsi[i] > p.high then return 0 end
  end,
}
LUA
if env -u GT_HOME "$exe" run mine --quiet --db m.db >out2.txt 2>err2.txt &&
   grep -q "^workflow *mine (paper)" out2.txt && "$exe" journal --db m.db --type selection --json | grep -q '"strategy":"dip_buyer"'; then
  ok "a copied workflow runs the user's own strategy ($(grep '^orders' out2.txt | tr -s ' '))"
else
  notok "a copied workflow runs the user's own strategy" "$(tail -3 err2.txt)" "$(tail -3 out2.txt)"
fi
echo "1..$n"
