#!/usr/bin/env bash
# A live session (mode = "live") against the fake Alpaca broker, killed with SIGKILL at
# random moments (KILLS times, default 20; make reliability runs 200; every fifth stop is a
# SIGINT instead, the clean stop, in the middle of whatever the session was doing) and
# restarted at once with the same command each time, through partial fills (each fill takes
# half of what is left, the market steps after every request), faults on the order path
# (responses dropped after the order was placed, 5xx, connection resets: unknown outcomes the
# session must resolve) and orders cancelled at the broker while the session runs. Then
# one run finishes it, and the broker (the fake's /admin/state) and the session's database
# (gtengine journal and status) must agree:
#   - every broker order is one of this session's journalled intents; one order per intent
#   - every journalled intent (and every order the books booked) reached the broker, or
#     ended rejected / not_sent
#   - every FILL activity is in the journal exactly once, and per order the journalled fill
#     quantities add up to the broker's filled_qty
#   - the session's positions are the broker's
# The stops are spread over the session: the time before the next one grows when a run moved
# the session less than its share of the bars left, and shrinks when it moved it more (so it
# adapts to the machine: an ASan build starts slower). The data (made here) are sine waves
# for the crosses, then a steady rise, so the last bars trade nothing and every fill is
# seen before the session ends.
#   KILLS=N GTENGINE=./gtengine SERVER_DIR=build/fakebroker bash tests/integration/live_kill.sh
#   (KEEP=1 keeps the temporary directory; DEBUG=1 prints each stop on stderr)
set -u
GTENGINE=${GTENGINE:-./gtengine}
exe=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
KILLS=${KILLS:-20}
# the strategies come from this checkout (an ASan binary in build/asan has none beside it)
export GT_HOME=${GT_HOME:-$(pwd)}
fake=$(cd "${SERVER_DIR:-build/fakebroker}" 2>/dev/null && pwd)/fakealpaca
n=0 bad=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
notok() { n=$((n+1)) bad=$((bad+1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
if [ ! -x "$fake" ]; then
  ok "# SKIP the fake broker is not built (make ${SERVER_DIR:-build/fakebroker}/fakealpaca)"
  echo "1..$n"; exit 0
fi
tmp=$(mktemp -d)
fakepid="" pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ -n "$fakepid" ] && kill "$fakepid" 2>/dev/null && wait "$fakepid" 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
cd "$tmp" || exit 1
t_start=$(date +%s)

# ---- the data: two symbols, sine waves a quarter period apart (a cross every 15 bars
# between them), then a steady rise of TAIL bars: the last cross buys, nothing after it
WARMUP=20 PERIOD=60 TAIL=30
TRADE=$((KILLS * 12)); [ $TRADE -lt 240 ] && TRADE=240
BARS=$((WARMUP + TRADE + TAIL))
mkdir -p data workflows
gen() { # SYMBOL PHASE
  "$exe" -e 'local sym, n, p, ph, tail = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
    local f = assert(io.open("data/" .. sym .. ".csv", "wb"))
    f:write("date,open,high,low,close,volume\n")
    local c, last
    for i = 0, n - 1 do
      if i < n - tail then c = 100 + 5 * math.sin(2 * math.pi * (i + ph) / p); last = c
      else c = last + 0.5 * (i - (n - tail) + 1) end
      f:write(("%s,%.4f,%.4f,%.4f,%.4f,100000\n"):format(os.date("!%Y-%m-%d", 1672704000 + i * 86400), c, c + 0.3,
        c - 0.3, c))
    end
    f:close()' "$1" "$BARS" "$PERIOD" "$2" "$TAIL"
}
gen SPY 0; gen QQQ $((PERIOD / 4))
cat >workflows/live.lua <<WF
return { name = "livekill", mode = "live", symbols = { "SPY", "QQQ" }, capital = 10000, timeframe = "1d",
  data = { source = "csv", files = "$tmp/data/{symbol}.csv" }, feed = { kind = "replay", warmup = $WARMUP },
  broker = { kind = "alpaca", rate_per_min = 200 }, risk = "paper", strategy = "sma_cross",
  params = { sma_cross = { fast = 5, slow = 15 } },
  sizing = { method = "fixed", fixed_fraction = 0.15, max_position = 0.2 }, monitor = { progress = false } }
WF

# ---- the fake broker: its own price paths; every fill takes half of what is left; the
# market steps after every /v2 request; order requests are held 60 ms (a kill then often
# lands while a POST is in flight: placed at the broker, never answered)
cat >fake.script <<'FS'
key FAKEKEYID fake-secret-canary-7f3a9c
max-seconds 7200
market open
price SPY 100 101 102 101 100 99 98 99 100 101
price QQQ 50 51 52 51 50 49 48 49 50 51
partial SPY 0.5
partial QQQ 0.5
step-every 1
delay 60 /v2/orders
FS
"$fake" fake.script audit.log >fake.port 2>fake.err &
fakepid=$!
port=""
for _ in $(seq 1 250); do
  port=$(head -1 fake.port 2>/dev/null)
  [ -n "$port" ] && break
  sleep 0.02
done
if [ -z "$port" ]; then notok "the fake broker starts" "$(cat fake.err)"; echo "1..$n"; exit 1; fi
export APCA_API_KEY_ID=FAKEKEYID APCA_API_SECRET_KEY=fake-secret-canary-7f3a9c
export APCA_API_BASE_URL=http://127.0.0.1:$port

# The fake's API from the test: its state, faults, and orders cancelled at the broker.
cat >fake.lua <<'LUA'
local http, json = require "gt.http", require "gt.json"
local base, cmd, a1 = os.getenv("APCA_API_BASE_URL"), arg[1], arg[2]
local c = assert(http.new())
local function call(method, path, body)
  local h = {}
  if path:sub(1, 4) == "/v2/" then
    h["APCA-API-KEY-ID"], h["APCA-API-SECRET-KEY"] = os.getenv("APCA_API_KEY_ID"), os.getenv("APCA_API_SECRET_KEY")
  end
  local resp, err, eresp = c:request(method, base .. path, { headers = h, body = body, once = true, timeout = 10,
    rate_per_min = 600000, burst = 1000 })
  resp = resp or eresp
  if not resp or not resp.status or resp.status == 0 then
    io.stderr:write(("%s %s: %s\n"):format(method, path, tostring(err))); os.exit(1)
  end
  return resp
end
if cmd == "state" then
  local r = call("GET", "/admin/state")
  local f = assert(io.open(a1, "wb")); f:write(r.body); f:close()
elseif cmd == "fault" then -- only when the last one was used up (exit 2: not now)
  local f = json.decode(call("GET", "/admin/state").body).faults
  if f.drop_after_accept > 0 or f.reset > 0 or #f.status > 0 then os.exit(2) end
  local r = call("POST", "/admin/fault", a1)
  if r.status ~= 200 then io.stderr:write(r.body, "\n"); os.exit(1) end
elseif cmd == "cancel" then -- the newest open order, cancelled at the broker (as from its website)
  local st = json.decode(call("GET", "/admin/state").body)
  for i = #st.orders, 1, -1 do
    local o = st.orders[i]
    if o.status == "new" or o.status == "partially_filled" then
      local r = call("DELETE", "/v2/orders/" .. o.id)
      print(r.status == 204 and ("cancelled " .. o.client_order_id) or ("cancel failed: " .. r.status))
      break
    end
  end
else
  error("fake.lua: state FILE | fault TEXT | cancel")
end
LUA
fakeapi() { "$exe" fake.lua "$@"; }

# ---- the kill loop
cmd=("$exe" run workflows/live.lua --db kill.db --quiet --no-attach --speed 1728000)
committed() { "$exe" status --db kill.db --json 2>/dev/null | grep -o '"last_cycle":[0-9]*' | head -1 | cut -d: -f2; }
# before every second run, the next of these, once the fake has no fault pending (so no
# request meets more failures than its retries absorb: a GET is tried 3 times); a POST is
# never retried blindly, so each of these on a POST makes an unknown outcome the session
# must resolve
FAULTS=("drop-after-accept 1" "status 503 1 /v2/orders" "reset 1" "drop-after-accept 1 500"
        "status 503 2 /v2/account/activities" "reset 1 /v2/orders" "status 500 1 /v2/orders")
kills=0 ints=0 runs=0 finished=0 failed="" faults=0 cancels=0 next_fault=0 wait_ms=600 at_kill="" last=0
maxruns=$((KILLS * 3 + 50))
while [ $kills -lt "$KILLS" ] && [ $runs -lt $maxruns ]; do
  runs=$((runs+1))
  if [ $((runs % 2)) = 0 ] && fakeapi fault "${FAULTS[$((next_fault % ${#FAULTS[@]}))]}"; then
    next_fault=$((next_fault+1)) faults=$((faults+1))
  fi
  "${cmd[@]}" >>runs.out 2>>runs.err &   # gtengine itself is the child: the signal reaches it
  pid=$!
  # a random moment: wait_ms * (0.2 .. 1.8); every fifth stop is a SIGINT (a clean stop,
  # exit 130, in the middle of whatever the session was doing) instead of a SIGKILL
  ms=$(( wait_ms * (RANDOM % 161 + 20) / 100 ))
  if [ $((runs % 3)) = 0 ]; then
    # halfway, the newest open order (if any) is cancelled at the broker while the session
    # runs: a fill may cross the cancel
    sleep "$((ms / 2000)).$(printf '%03d' $((ms / 2 % 1000)))"
    fakeapi cancel | grep -q "^cancelled" && cancels=$((cancels+1))
    ms=$((ms / 2))
  fi
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  sig=KILL want=137
  if [ $((runs % 5)) = 0 ]; then sig=INT want=130; fi
  kill -$sig $pid 2>/dev/null
  wait $pid 2>/dev/null
  rc=$?
  pid=""
  if [ $rc = 0 ]; then finished=1; break; fi
  if [ $rc != $want ]; then failed="run $runs exited $rc after SIG$sig"; break; fi
  if [ $sig = INT ]; then ints=$((ints+1)); else kills=$((kills+1)); fi
  # spread the stops over the bars that trade: a run that moved the session less than its
  # share of the bars left (over the stops left) makes the next one longer, one that moved it
  # more makes it shorter (a restart reconciles first, and a cycle with an order working
  # waits for the rate limit, so a short run may move nothing)
  c=$(committed); c=${c:-0}
  at_kill="$at_kill $c"
  [ -n "${DEBUG:-}" ] && echo "# run $runs: ${ms} ms, SIG$sig, committed $c, wait $wait_ms" >&2
  if [ $(( (c - last) * ((KILLS - kills) * 5 / 4 + 2) )) -lt $((BARS - TAIL - c)) ]; then
    wait_ms=$((wait_ms * 3 / 2)); [ $wait_ms -gt 3000 ] && wait_ms=3000
  else
    wait_ms=$((wait_ms * 2 / 3)); [ $wait_ms -lt 100 ] && wait_ms=100
  fi
  last=$c
done
if ! kill -0 "$fakepid" 2>/dev/null; then
  wait "$fakepid"; frc=$? fakepid=""
  notok "the fake broker stays up" "it exited (status $frc) by run $runs: $(tail -5 fake.err)"
fi
if [ -n "$failed" ]; then
  notok "every stopped run restarts" "$failed" "$(tail -8 runs.err)"
elif [ $kills -ge "$KILLS" ]; then
  # stops per quarter of the bars that trade (by the committed cycle each one left)
  q=$(echo "$at_kill" | tr ' ' '\n' | awk -v b=$((BARS - TAIL)) 'NF { k = int(4 * $1 / b); if (k > 3) k = 3; c[k]++ }
    END { printf "%d/%d/%d/%d", c[0], c[1], c[2], c[3] }')
  ok "killed $kills times with SIGKILL (and stopped $ints times with SIGINT) in $runs runs over $(( $(date +%s) - t_start )) s, each restarted at once ($BARS bars; stops per quarter of the bars that trade $q; $faults faults injected, $cancels orders cancelled at the broker)"
else
  notok "killed at least $KILLS times" "only $kills in $runs runs (the session finished first)"
fi
if [ $finished = 0 ]; then
  if "${cmd[@]}" >last.out 2>last.err; then
    ok "the same command then finishes the session"
  else
    notok "the same command then finishes the session" "$(tail -8 last.err)"
  fi
fi

# ---- what the broker and the database say
fakeapi state state.json || notok "the fake's state" "GET /admin/state failed"
"$exe" journal --db kill.db --type order,fill --limit 0 --json >journal.jsonl 2>journal.err
"$exe" status --db kill.db --json >status.json 2>status.err
cat >check.lua <<'LUA'
local json, live = require "gt.json", require "gt.live"
local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("*a"); f:close(); return s end
local st, status = json.decode(slurp("state.json")), json.decode(slurp("status.json"))
local rows = {}
for line in slurp("journal.jsonl"):gmatch("[^\n]+") do rows[#rows + 1] = json.decode(line) end
table.sort(rows, function(a, b) return a.id < b.id end) -- in the order they were written
local function out(good, what, details)
  print((good and "ok - " or "not ok - ") .. what)
  if not good then for i = 1, math.min(#details, 12) do print("# " .. details[i]) end end
end
local function num(x) return tonumber(x) or 0 end
local ext = status.state and status.state.lua_state and status.state.lua_state.ext
local nonce = ext and ext.live and ext.live.nonce
local session = status.session.key .. "/" .. tostring(nonce)
local c = st.counters

-- the journal: the ledger's orders (order events without client_order_id), each intent's
-- rows by client_order_id, fills by activity id
local booked, by_cid, cid_seq, fills = {}, {}, {}, {}
for _, r in ipairs(rows) do
  if r.type == "order" and not r.client_order_id then
    booked[r.order_id] = booked[r.order_id] or r.status
  elseif r.type == "order" then
    local l = by_cid[r.client_order_id] or {}
    by_cid[r.client_order_id] = l
    l[#l + 1] = r
    cid_seq[r.client_order_id] = r.order_id
  elseif r.type == "fill" then
    fills[#fills + 1] = r
  end
end

-- 1. every broker order is an intent of this session, in the journal; one order per intent
local bad, per_cid, per_seq, orders = {}, {}, {}, {}
for _, o in ipairs(st.orders) do
  orders[o.id] = o
  per_cid[o.client_order_id] = (per_cid[o.client_order_id] or 0) + 1
  local seq = cid_seq[o.client_order_id]
  if not by_cid[o.client_order_id] then
    bad[#bad + 1] = ("broker order %s (%s): client_order_id not in the journal"):format(o.id, o.client_order_id)
  elseif o.client_order_id ~= live.client_order_id(session, seq) then
    bad[#bad + 1] = ("broker order %s: client_order_id %s is not this session's for order %d"):format(o.id,
      o.client_order_id, seq)
  else
    per_seq[seq] = (per_seq[seq] or 0) + 1
  end
end
local dup = 0
for cid, k in pairs(per_cid) do
  if k > 1 then dup = dup + 1; bad[#bad + 1] = ("%d broker orders for client_order_id %s"):format(k, cid) end
end
for seq, k in pairs(per_seq) do
  if k > 1 then dup = dup + 1; bad[#bad + 1] = ("%d broker orders for the session's order %d"):format(k, seq) end
end
out(#bad == 0 and #st.orders == c.orders, ("every broker order is one of this session's journalled intents, %d duplicated "
  .. "(broker: %d orders, %d POSTs, %d refused as duplicates; %d responses dropped after the order was placed, %d 5xx, "
  .. "%d connections reset)"):format(dup, #st.orders, c.posts, c.duplicates, c.dropped, c.sent_5xx, c.resets), bad)

-- 2. every intent reached the broker or ended rejected / not_sent; so did every order the
-- ledger booked
local by_cid_broker = {}
for _, o in ipairs(st.orders) do by_cid_broker[o.client_order_id] = o end
local lost, intents, found, resent, notsent, rejected = {}, 0, 0, 0, 0, 0
for cid, l in pairs(by_cid) do
  local pend, last = 0, l[#l].status
  for _, r in ipairs(l) do
    if r.status == "pending_submit" then pend = pend + 1 end
    if r.status == "submitted" and r.reason == "found" then found = found + 1 end
  end
  if pend > 0 then intents = intents + 1 end
  if pend > 1 then resent = resent + 1 end
  if last == "not_sent" then notsent = notsent + 1 elseif last == "rejected" then rejected = rejected + 1 end
  if not by_cid_broker[cid] and last ~= "rejected" and last ~= "not_sent" then
    lost[#lost + 1] = ("intent %s (order %d): last journalled %s, no broker order"):format(cid, cid_seq[cid], last)
  end
end
local nbooked = 0
for seq, first in pairs(booked) do
  nbooked = nbooked + 1
  local cid = live.client_order_id(session, seq)
  if first ~= "rejected" and not by_cid[cid] then
    lost[#lost + 1] = ("order %d (booked %s): never sent, never journalled as not sent"):format(seq, first)
  end
end
table.sort(lost)
out(#lost == 0, ("every intent reached the broker or ended rejected/not_sent, %d lost (%d orders booked, %d intents; "
  .. "%d found at the broker after an unknown outcome or a kill, %d written again after a kill, %d not sent, "
  .. "%d rejected)"):format(#lost, nbooked, intents, found, resent, notsent, rejected), lost)

-- 3. every FILL activity once in the journal; per order the fills add up
local seen, fbad, sum = {}, {}, {}
for _, f in ipairs(fills) do
  if not f.activity_id then
    fbad[#fbad + 1] = ("journal fill %d (order %s) has no activity_id"):format(f.id, tostring(f.order_id))
  else
    seen[f.activity_id] = (seen[f.activity_id] or 0) + 1
    sum[f.broker_id] = (sum[f.broker_id] or 0) + f.qty
  end
end
local acts = {}
for _, a in ipairs(st.activities) do
  acts[a.id] = true
  local k = seen[a.id] or 0
  if k ~= 1 then
    fbad[#fbad + 1] = ("activity %s (%s %s %s, order %s): %d times in the journal"):format(a.id, a.side, a.qty, a.symbol,
      a.order_id, k)
  end
end
for id, k in pairs(seen) do
  if not acts[id] then fbad[#fbad + 1] = ("journal fill %s: no such activity at the broker (%d rows)"):format(id, k) end
end
local canceled, part, open = 0, 0, 0
for _, o in ipairs(st.orders) do
  if o.status == "canceled" then
    canceled = canceled + 1
    if num(o.filled_qty) > 0 then part = part + 1 end
  elseif o.status ~= "filled" then
    open = open + 1
  end
  if math.abs((sum[o.id] or 0) - num(o.filled_qty)) > 1e-9 then
    fbad[#fbad + 1] = ("order %s (%s): the journal's fills add up to %s, the broker filled %s"):format(o.id,
      o.client_order_id, tostring(sum[o.id] or 0), o.filled_qty)
  end
end
table.sort(fbad)
out(#fbad == 0, ("every FILL activity is in the journal once and each order's fills add up to its filled_qty "
  .. "(%d fills, %d journalled; %d orders cancelled at the broker, %d of them part filled; %d still open)"):format(
  #st.activities, #fills, canceled, part, open), fbad)

-- 4. the session's positions are the broker's
local pbad, mine, theirs, syms = {}, {}, {}, {}
for sym, p in pairs(status.state.positions or {}) do mine[sym] = num(p.qty); syms[sym] = true end
for _, p in ipairs(st.positions) do theirs[p.symbol] = num(p.qty); syms[p.symbol] = true end
local shown = {}
for sym in pairs(syms) do
  shown[#shown + 1] = ("%s %s"):format(sym, tostring(theirs[sym] or 0))
  if (mine[sym] or 0) ~= (theirs[sym] or 0) then
    pbad[#pbad + 1] = ("%s: the session holds %s, the broker %s"):format(sym, tostring(mine[sym] or 0),
      tostring(theirs[sym] or 0))
  end
end
table.sort(shown)
out(#pbad == 0 and status.session.status == "finished", ("the session's positions are the broker's (%s; session %s)")
  :format(table.concat(shown, ", "), status.session.status), pbad)
LUA
if [ -s state.json ] && [ -s journal.jsonl ] && [ -s status.json ]; then
  "$exe" check.lua >check.out 2>check.err || notok "the checks run" "$(tail -5 check.err)"
  while IFS= read -r line; do
    case "$line" in
      "ok - "*) ok "${line#ok - }" ;;
      "not ok - "*) n=$((n+1)) bad=$((bad+1)); echo "not ok $n - ${line#not ok - }" ;;
      *) echo "$line" ;;
    esac
  done <check.out
else
  notok "the broker's state and the session's journal and status are read" "$(cat journal.err status.err)"
fi
echo "1..$n"
# make reliability runs this script by itself: a failed check fails it
[ $bad = 0 ]
