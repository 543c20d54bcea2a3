#!/usr/bin/env bash
# A paper session's --report rendered by headless Chromium: the equity and drawdown charts
# from the journal's equity events, the timeline chart with a lane per kind of event (the
# breaker's halt and its alert among them) and a timeline row per event the journal holds.
# Then a session killed with SIGKILL and resumed: its report covers every bar of both
# processes (Session:result() alone could not build it).
set -u
# the strategies come from this checkout (an ASan binary in build/asan has none beside it)
export GT_HOME=${GT_HOME:-$(pwd)}
GTENGINE=${GTENGINE:-./gtengine}
exe=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
n=0
check() { n=$((n+1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }

chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then echo "1..0 # SKIP chromium not installed"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync)
mkdir -p "$tmp/workflows"
# a drawdown limit of 3 % halts the gate in spring 2023 (a CRITICAL alert)
cat >"$tmp/workflows/mr.lua" <<'WF'
return { name = "mr", mode = "paper", symbols = { "ALPHA", "BRAVO", "CHARLIE" }, capital = 100000,
  data = { source = "synthetic", bars = 504, seed = 7 }, strategy = "sma_cross",
  params = { sma_cross = { fast = 10, slow = 30 } },
  sizing = { method = "fixed", fixed_fraction = 0.19, max_position = 0.2 },
  risk = { preset = "paper", max_drawdown = 0.03, max_position = 0.2, max_gross = 0.5 },
  monitor = { progress = false } }
WF
cd "$tmp" || exit 1

inside() { # inside TAG ID PATTERN FILE -> number of PATTERN matches within <TAG id="ID">...</TAG>
  perl -0e 'my ($t, $id, $p, $f) = @ARGV; open my $h, "<", $f or die; local $/; my $s = <$h>;
            if ($s =~ m{<$t[^>]*\bid="$id"[^>]*>(.*?)</$t>}s) { my $b = $1; my $c = () = $b =~ m{$p}g; print $c }
            else { print -1 }' "$1" "$2" "$3" "$4"
}
dom() { timeout 60 "$chrome" "${flags[@]}" --user-data-dir="$tmp/profile$2" --dump-dom "file://$tmp/$1" 2>/dev/null; }

"$exe" run workflows/mr.lua --db r.db --report r.html >run.out 2>&1
check "gtengine run --report writes the paper report" '[ -s r.html ] && grep -q "^report         r.html" run.out'
dom r.html 1 >dom.html
check "chromium --dump-dom renders it" '[ -s dom.html ]'
for id in equity-chart drawdown-chart price-chart; do
  check "svg#$id has its line" '[ "$(inside svg "$id" "<polyline\b" dom.html)" -ge 1 ]'
done
check "svg#timeline-chart has a mark for the breaker" '[ "$(inside svg timeline-chart "class=\"tl-breaker\"" dom.html)" -ge 1 ]'
check "svg#timeline-chart has a mark for the alert" '[ "$(inside svg timeline-chart "class=\"tl-alert\"" dom.html)" -ge 1 ]'
check "and marks for orders and fills" \
  '[ "$(inside svg timeline-chart "class=\"tl-order\"" dom.html)" -ge 1 ] && [ "$(inside svg timeline-chart "class=\"tl-fill\"" dom.html)" -ge 1 ]'
want=$("$exe" journal --db r.db --type order,fill,breaker,regime,alert,reload,tier_change --limit 0 --json | wc -l)
refused=$("$exe" journal --db r.db --type risk_decision --limit 0 --json | grep -c '"status":"refused"')
want=$((want + refused))
rows=$(inside table timeline-table '<tr class="tl-row-' dom.html)
check "table#timeline-table has a row per journal event ($rows of $want, $refused refusals)" '[ "$rows" -eq "$want" ] && [ "$refused" -ge 1 ]'
check "the alert's row says what happened" 'grep -q "CRITICAL risk: breaker HALTED" dom.html'
check "no script element in the DOM" '! grep -qi "<script" dom.html'
rm -f shot.png
timeout 60 "$chrome" "${flags[@]}" --user-data-dir="$tmp/profile2" --hide-scrollbars --window-size=1200,2600 \
  --screenshot="$tmp/shot.png" "file://$tmp/r.html" >/dev/null 2>&1
check "chromium --screenshot writes a PNG" \
  '[ "$(head -c 8 shot.png 2>/dev/null | od -An -tx1 | tr -d " \n")" = "89504e470d0a1a0a" ]'

# killed and resumed: the report spans both processes
kills=0
for _ in 1 2 3 4 5; do
  "$exe" run workflows/mr.lua --db k.db --report k.html --speed 43200000 >k.out 2>&1 &
  pid=$!
  sleep 0.4
  kill -9 $pid 2>/dev/null && kills=$((kills+1))
  wait $pid 2>/dev/null
  [ $kills -ge 1 ] && break
done
"$exe" run workflows/mr.lua --db k.db --report k.html >k.out 2>&1
check "a session killed $kills time(s) resumes and finishes" '[ $kills -ge 1 ] && grep -q "^resumed        at cycle" k.out'
check "its report is written" 'grep -q "^report         k.html" k.out'
dom k.html 3 >kdom.html
check "the resumed session's report covers all 504 bars" 'grep -q "· 504 bars</div>" kdom.html'
check "and its equity equals the uninterrupted session's" \
  '[ -n "$(grep -o "Final equity</th><td[^>]*>[^<]*" dom.html)" ] && [ "$(grep -o "Final equity</th><td[^>]*>[^<]*" kdom.html)" = "$(grep -o "Final equity</th><td[^>]*>[^<]*" dom.html)" ]'
echo "1..$n"
