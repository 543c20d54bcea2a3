#!/usr/bin/env bash
# The HTML backtest report rendered by headless Chromium: the DOM after parsing must hold
# the three SVG charts with their lines and both tables with rows, and a screenshot must
# come out. Set REPORT_SHOT=path.png to keep the screenshot (to look at the design).
set -u
GTENGINE=${GTENGINE:-./gtengine}
n=0
check() { n=$((n+1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }

chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then echo "1..0 # SKIP chromium not installed"; exit 0; fi
here=$(cd "$(dirname "$0")" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
html=$tmp/report.html
shot=${REPORT_SHOT:-$tmp/report.png}
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync)

ntrades=$("$GTENGINE" "$here/report_make.lua" "$html" 800 2>"$tmp/make.err")
check "gtengine writes the report" '[ -s "$html" ] && [ -n "$ntrades" ]'
[ -s "$tmp/make.err" ] && sed 's/^/# /' "$tmp/make.err"

timeout 60 "$chrome" "${flags[@]}" --user-data-dir="$tmp/profile1" --dump-dom "file://$html" \
  >"$tmp/dom.html" 2>"$tmp/chrome1.err"
rc=$?
check "chromium --dump-dom exits 0" '[ $rc -eq 0 ] && [ -s "$tmp/dom.html" ]'
[ $rc -ne 0 ] && tail -5 "$tmp/chrome1.err" | sed 's/^/# /'

# Counts over the parsed DOM, one element at a time (perl-base is always on Debian).
inside() { # inside TAG ID PATTERN -> number of PATTERN matches within <TAG id="ID">...</TAG>
  perl -0e 'my ($t, $id, $p, $f) = @ARGV; open my $h, "<", $f or die; local $/; my $s = <$h>;
            if ($s =~ m{<$t[^>]*\bid="$id"[^>]*>(.*?)</$t>}s) { my $b = $1; my $c = () = $b =~ m{$p}g; print $c }
            else { print -1 }' "$1" "$2" "$3" "$tmp/dom.html"
}
for id in price-chart equity-chart drawdown-chart; do
  lines=$(inside svg "$id" '<polyline\b')
  check "svg#$id is in the DOM with a polyline ($lines)" '[ "$lines" -ge 1 ]'
done
check "svg#drawdown-chart has the filled area" '[ "$(inside svg drawdown-chart "class=\"s-dd-area\"")" -eq 1 ]'
entries=$(( $(inside svg price-chart 'class="m-long"') + $(inside svg price-chart 'class="m-short"') ))
check "one entry marker per trade ($entries of $ntrades)" '[ "$entries" -eq "$ntrades" ]'
stats=$(inside table stats-table '<tr>')
check "table#stats-table has rows ($stats)" '[ "$stats" -ge 1 ]'
rows=$(inside table trades-table '<tr><td>')
check "table#trades-table has a row per trade ($rows)" '[ "$rows" -eq "$ntrades" ]'
check "the strategy name arrives as text, not markup" \
  'grep -q "sma_cross &lt;demo&gt;" "$tmp/dom.html" && ! grep -q "<demo>" "$tmp/dom.html"'
check "no script element in the DOM" '! grep -qi "<script" "$tmp/dom.html"'

rm -f "$shot"
timeout 60 "$chrome" "${flags[@]}" --user-data-dir="$tmp/profile2" --hide-scrollbars \
  --window-size=1200,2600 --screenshot="$shot" "file://$html" >/dev/null 2>"$tmp/chrome2.err"
rc=$?
check "chromium --screenshot writes a PNG" \
  '[ $rc -eq 0 ] && [ "$(head -c 8 "$shot" 2>/dev/null | od -An -tx1 | tr -d " \n")" = "89504e470d0a1a0a" ]'
[ -n "${REPORT_SHOT:-}" ] && echo "# screenshot: $shot"

# The command a user runs, on real data: gtengine backtest ... --report on GOOG.
goog="${GT_SHARED:-../shared}/data/backtesting.py/GOOG.csv"
if [ -f "$goog" ]; then
  "$GTENGINE" backtest --strategy sma_cross --data "$goog" --no-save --report "$tmp/goog.html" \
    >"$tmp/goog.out" 2>&1
  check "gtengine backtest --report writes the GOOG report" '[ -s "$tmp/goog.html" ]'
  timeout 60 "$chrome" "${flags[@]}" --user-data-dir="$tmp/profile3" --dump-dom "file://$tmp/goog.html" \
    >"$tmp/dom.html" 2>/dev/null
  gtrades=$("$GTENGINE" backtest --strategy sma_cross --data "$goog" --no-save --json |
            "$GTENGINE" -e 'print(#require("gt.json").decode(io.read("*a")).trades)')
  for id in price-chart equity-chart drawdown-chart; do
    check "GOOG report: svg#$id rendered" '[ "$(inside svg "$id" "<polyline\b")" -ge 1 ]'
  done
  check "GOOG report: a trades-table row per trade ($gtrades)" \
    '[ "$(inside table trades-table "<tr><td>")" -eq "$gtrades" ]'
else
  echo "ok $((n+1)) - # SKIP GOOG report: needs $goog (reference data in ../shared)"; n=$((n+1))
fi
echo "1..$n"
