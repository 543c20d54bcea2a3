#!/usr/bin/env bash
# The monitor's status view on a real terminal (tmux): while a paced paper session runs the
# view shows a bar short of the end; at the end it shows the session's own figures (equity,
# regime per symbol, the last fill, bar N/N) as `gtengine status` reads them from the
# database, redrawn in place (one header in the whole scrollback). --quiet shows no view;
# output that is not a terminal gets plain progress lines without escape sequences.
set -u
# the strategies come from this checkout (an ASan binary in build/asan has none beside it)
export GT_HOME=${GT_HOME:-$(pwd)}
GTENGINE=${GTENGINE:-./gtengine}
exe=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
n=0
check() { n=$((n+1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# pane was:"; sed 's/^/#   /' <<<"${pane:-}" | head -40; fi; }

if ! command -v tmux >/dev/null; then echo "1..0 # SKIP tmux not installed"; exit 0; fi
tmp=$(mktemp -d)
sock="gtmon$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
wf=$(cd "$(dirname "$0")/../.." && pwd)/workflows/paper.lua
cd "$tmp" || exit 1

# 504 daily bars in about 3 s of wall time
tmux -L "$sock" new-session -d -s view -x 110 -y 40 \
  "'$exe' run '$wf' --db v.db --speed 14515200; echo RUN-EXIT \$?; sleep 60"
sleep 1.5
pane=$(tmux -L "$sock" capture-pane -p -t view)
mid=$(grep -o 'bar [0-9]*/504' <<<"$pane" | head -1 | grep -o '[0-9]*/' | tr -d /)
check "the view is live while the session runs (bar ${mid:-?} of 504)" '[ -n "$mid" ] && [ "$mid" -lt 504 ] && [ "$mid" -gt 1 ]'
check "it shows equity, PnL today and total, drawdown" 'grep -q "^equity .*PnL today .*total .*drawdown" <<<"$pane"'
check "it shows breaker, tier and orders" 'grep -q "^breaker ACTIVE .*tier .*orders [0-9]* (open [0-9]*, refused [0-9]*)" <<<"$pane"'
for _ in $(seq 1 100); do
  tmux -L "$sock" capture-pane -p -S - -t view | grep -q "^RUN-EXIT" && break
  sleep 0.1
done
pane=$(tmux -L "$sock" capture-pane -p -S - -t view)
check "the session exits 0" 'grep -qx "RUN-EXIT 0" <<<"$pane"'
check "the last redraw is at the last bar" 'grep -q "bar 504/504 (100%)" <<<"$pane"'
check "redrawn in place: one header in the whole scrollback" \
  '[ "$(grep -c "^gtengine  paper (paper)  session 1" <<<"$pane")" -eq 1 ]'
status=$("$exe" status --db v.db --json)
equity=$("$exe" -e 'local s = require("gt.json").decode(io.read("*a")); print(gt.fmt.num(s.state.equity, 2))' <<<"$status")
check "the view's equity is the session's ($equity)" 'grep -q "^equity  $equity " <<<"$pane"'
regimes=$("$exe" -e 'local s = require("gt.json").decode(io.read("*a")); print(s.state.regime)' <<<"$status")
for pair in $regimes; do
  sym=${pair%%=*}; reg=${pair#*=}
  check "the row of $sym shows its regime $reg and strategy" 'grep -Eq "^$sym +[-0-9,]+ .* $reg +sma_cross$" <<<"$pane"'
done
lastfill=$("$exe" journal --db v.db --type fill --json --limit 0 | tail -1 |
  "$exe" -e 'local r = require("gt.json").decode(io.read("*a")); print(("fill %s %d %s at %s"):format(r.side > 0 and "buy" or "sell", r.qty, r.symbol, gt.fmt.num(r.price, 2)))')
check "the last events include the last fill ($lastfill)" 'grep -qF "$lastfill" <<<"$pane"'
check "the summary follows the view" 'grep -q "^equity         $equity from 100,000.00" <<<"$pane"'

# --quiet: no view
tmux -L "$sock" new-session -d -s quiet -x 110 -y 40 "'$exe' run '$wf' --db q.db --quiet; echo RUN-EXIT \$?; sleep 60"
for _ in $(seq 1 100); do
  tmux -L "$sock" capture-pane -p -S - -t quiet | grep -q "^RUN-EXIT" && break
  sleep 0.1
done
pane=$(tmux -L "$sock" capture-pane -p -S - -t quiet)
check "--quiet shows no view and no progress lines, only the summary" \
  '! grep -q "last events\|^cycle " <<<"$pane" && grep -q "^workflow       paper" <<<"$pane"'

# not a terminal: plain lines
"$exe" run "$wf" --db p.db >plain.out 2>&1
pane=$(cat plain.out)
check "not a terminal: progress lines, the last at 504/504" 'grep -q "^cycle 504/504  2024-12-06  equity" plain.out'
check "not a terminal: no escape sequences" '! grep -q $'"'"'\033'"'"' plain.out'
echo "1..$n"
