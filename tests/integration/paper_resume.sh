#!/usr/bin/env bash
# A paper session killed with SIGKILL at random moments (at least 50 times), each time
# restarted with the same command, ends with the same books and the same journal as one
# that ran uninterrupted: nothing lost, nothing doubled. Then one SIGINT stops a session
# cleanly (exit 130, summary printed, state committed) and the same command finishes it.
set -u
GTENGINE=${GTENGINE:-./gtengine}
exe=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
KILLS=${KILLS:-50}
# the strategies come from this checkout (an ASan binary in build/asan has none beside it)
export GT_HOME=${GT_HOME:-$(pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/workflows"
cat >"$tmp/workflows/resume.lua" <<'WF'
return { name = "resume", mode = "paper", symbols = { "AAA", "BBB" }, capital = 100000,
  data = { source = "synthetic", bars = 3000, seed = 3 }, strategy = "sma_cross",
  params = { sma_cross = { fast = 5, slow = 20 } },
  sizing = { method = "fixed", fixed_fraction = 0.15, max_position = 0.2 }, risk = "paper",
  monitor = { progress = false } }
WF
cd "$tmp" || exit 1
n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
notok() { n=$((n+1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# What a session wrote: its books (status) and every trading event of the journal, without
# the row ids (they count rows, which differ after rollbacks) and the session's own events.
books() { "$exe" status --db "$1" --json | sed "s/\"events\":[0-9]*,//" | sed 's/"started_us":[0-9]*,//; s/"updated_us":[0-9]*,//; s/"status":"[a-z]*",//g'; }
events() { "$exe" journal --db "$1" --type bar,analysis,regime,selection,sizing,risk_decision,order,fill,position,equity,breaker --limit 0 --json 2>/dev/null | sed 's/"id":[0-9]*,//'; }

"$exe" run workflows/resume.lua --db ref.db --quiet >ref.out 2>ref.err || { notok "reference run" "$(cat ref.err)"; echo "1..$n"; exit 1; }

# a daily bar every 2 ms of wall time, so kills land all through the session
kills=0 runs=0 finished=0
while [ $kills -lt "$KILLS" ] && [ $runs -lt 400 ]; do
  runs=$((runs+1))
  "$exe" run workflows/resume.lua --db kill.db --quiet --speed 43200000 >kill.out 2>kill.err &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 250 + 20)))"
  if kill -9 $pid 2>/dev/null; then kills=$((kills+1)); fi
  wait $pid 2>/dev/null
  rc=$?
  if [ $rc = 0 ]; then finished=1; break; fi
  if [ $rc != 137 ]; then notok "a killed run restarts" "exit $rc" "$(tail -5 kill.err)"; break; fi
done
if [ $finished = 0 ]; then
  "$exe" run workflows/resume.lua --db kill.db --quiet >kill.out 2>kill.err || notok "the last run finishes" "$(tail -5 kill.err)"
fi
if [ $kills -ge "$KILLS" ]; then ok "killed $kills times with SIGKILL in $runs runs"; else notok "killed at least $KILLS times" "only $kills in $runs runs (the session finished first)"; fi
if [ "$(books ref.db)" = "$(books kill.db)" ]; then
  ok "the books after $kills kills equal the uninterrupted run's ($(grep -o "\"orders\":[0-9]*" <<<"$(books ref.db)" | head -1))"
else
  notok "the books after $kills kills equal the uninterrupted run's" "ref:  $(books ref.db | head -c 400)" "kill: $(books kill.db | head -c 400)"
fi
events ref.db >ref.events; events kill.db >kill.events
if [ -s ref.events ] && cmp -s ref.events kill.events; then
  ok "the journal after $kills kills equals the uninterrupted run's: $(wc -l <ref.events) events, none lost or doubled"
else
  notok "the journal equals the uninterrupted run's" "$(diff ref.events kill.events | head -5)"
fi

# one SIGINT: a clean stop with the summary and exit 130, then the same command finishes
"$exe" run workflows/resume.lua --db int.db --speed 4320000 >int.out 2>int.err &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
rc=$?
if [ $rc = 130 ] && grep -q "^interrupted: the state of cycle" int.out && grep -q "^equity " int.out &&
   ! grep -q traceback int.err; then
  ok "one SIGINT stops the session cleanly: exit 130, the summary, no traceback"
else
  notok "one SIGINT stops the session cleanly" "exit $rc" "$(tail -3 int.out)" "$(tail -3 int.err)"
fi
if "$exe" run workflows/resume.lua --db int.db --quiet >int2.out 2>int2.err && grep -q "^resumed " int2.out &&
   [ "$(books ref.db)" = "$(books int.db)" ]; then
  ok "the same command resumes it and ends with the uninterrupted run's books"
else
  notok "the same command resumes it and ends with the uninterrupted run's books" "$(tail -3 int2.err)"
fi
echo "1..$n"
