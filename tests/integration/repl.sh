#!/usr/bin/env bash
# The REPL under a real pseudo-terminal (util-linux `script`): evaluation, continuation
# lines, history recall with the up arrow, tab completion, Ctrl-C, and the history file.
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
        printf 'print("after")\r'; sleep 0.4; printf '\004'; sleep 0.3) \
      | HOME=$home timeout 20 script -qfec "$exe" /dev/null 2>&1 | tr -d '\r')

check "prompt is gt>" 'grep -q "^gt> " <<<"$out"'
check "1+2 prints 3" 'grep -qx "3" <<<"$out"'
check "up arrow recalls the previous line" '[ "$(grep -c "x = 41" <<<"$out")" -ge 2 ]'
check "globals persist between lines" 'grep -qx "42" <<<"$out"'
check "tab completes gt. names" 'grep -q "0\.1\.0-" <<<"$out"'
check "open function continues on ..>" 'grep -q "^\.\.> return 7 end" <<<"$out"'
check "the function then runs" 'grep -qx "7" <<<"$out"'
check "Ctrl-C cancels the line and the REPL goes on" 'grep -q "\^C" <<<"$out" && grep -qx "after" <<<"$out"'
check "history is saved to ~/.gtengine_history" 'grep -q "^x.*41$" "$home/.gtengine_history" 2>/dev/null'
rm -rf "$home"
echo "1..$n"
