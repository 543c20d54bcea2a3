#!/usr/bin/env bash
# The REPL under a real pseudo-terminal (util-linux `script`): evaluation, continuation
# lines, history recall with the up arrow, tab completion, Ctrl-C (on a line, and once and
# twice in a compiled loop), help, how arrays, times and results print, quit, the history file.
set -u
GTENGINE=${GTENGINE:-./gtengine}
exe=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
n=0
check() { n=$((n+1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# output was:"; sed 's/^/#   /' <<<"$out"; fi; }

if ! command -v script >/dev/null; then echo "1..0 # SKIP util-linux script not installed"; exit 0; fi
home=$(mktemp -d)
out=$( (sleep 0.8; printf '1+2\r'; sleep 0.4; printf 'x = 41\r'; sleep 0.4; printf '\033[A\r'; sleep 0.4
        printf 'x + 1\r'; sleep 0.4; printf 'gt.vers\t\r'; sleep 0.4; printf 'function f()\r'; sleep 0.3
        printf 'return 7 end\r'; sleep 0.3; printf 'f()\r'; sleep 0.3; printf 'abc\003'; sleep 0.5
        printf 'print("after")\r'; sleep 0.4
        printf 'help\r'; sleep 0.4; printf 'help(gt.ind.sma)\r'; sleep 0.5
        printf 'a = gt.ind.sma({1,2,3,4,5,6,7,8,9,10,11,12}, 3)\r'; sleep 0.3; printf 'a\r'; sleep 0.3
        printf 'gt.time.parse("2024-01-02")\r'; sleep 0.3
        printf 'r = gt.backtest.run("sma_cross", (gt.data.synthetic{n = 300}))\r'; sleep 0.8; printf 'r\r'; sleep 0.5
        printf 'while true do end\r'; sleep 1; printf '\003'; sleep 0.4; printf '\003'; sleep 0.4
        printf 'local x = 0 while true do x = x + 1 end\r'; sleep 1; printf '\003'; sleep 0.05; printf '\003'; sleep 0.6
        printf 'print("alive")\r'; sleep 0.4; printf 'quit\r'; sleep 0.5; printf 'print("not reached")\r'; sleep 0.3) \
      | HOME=$home timeout 30 script -qfec "$exe" /dev/null 2>&1 | tr -d '\r')

check "prompt is gt>" 'grep -q "^gt> " <<<"$out"'
check "1+2 prints 3" 'grep -qx "3" <<<"$out"'
check "up arrow recalls the previous line" '[ "$(grep -c "x = 41" <<<"$out")" -ge 2 ]'
check "globals persist between lines" 'grep -qx "42" <<<"$out"'
check "tab completes gt. names" 'grep -q "0\.1\.0-" <<<"$out"'
check "open function continues on ..>" 'grep -q "^\.\.> return 7 end" <<<"$out"'
check "the function then runs" 'grep -qx "7" <<<"$out"'
check "Ctrl-C cancels the line and the REPL goes on" 'grep -q "\^C" <<<"$out" && grep -qx "after" <<<"$out"'
check "help prints how to use help" 'grep -q "^help(value) or help \"name\": what a thing is" <<<"$out"'
check "help(gt.ind.sma) prints its signature" 'grep -qx "  gt.ind.sma(x, period=30) -> sma" <<<"$out"'
# SMA(3) of 1..12 at bar i (0-based) is ((i-1) + i + (i+1)) / 3 = i from bar 2 on
check "an array prints its length and first and last values" \
  'grep -qxF "double[12] {nan, nan, 2, 3, 4, ..., 7, 8, 9, 10, 11}" <<<"$out"'
# 2024-01-02 = 19724 days after 1970-01-01 = 1704153600 s
check "a time prints as a date" 'grep -qx "2024-01-02 (1704153600000000)" <<<"$out"'
check "a backtest result prints as its stats table" \
  'grep -q "^sma_cross on SYNTH 1d: 300 bars, [0-9]* trades" <<<"$out" && grep -q "^Sharpe ratio  *-\{0,1\}[0-9.]*$" <<<"$out"'
check "Ctrl-C stops a compiled loop and returns to the prompt" '[ "$(grep -c "^\^Cinterrupted" <<<"$out")" -ge 2 ]'
check "a double Ctrl-C too, and the REPL answers the next line" 'grep -qx "alive" <<<"$out"'
check "quit leaves" '! grep -qx "not reached" <<<"$out"'
check "history is saved to ~/.gtengine_history" 'grep -q "^x.*41$" "$home/.gtengine_history" 2>/dev/null'
rm -rf "$home"
echo "1..$n"
