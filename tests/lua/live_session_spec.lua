-- Live sessions end to end: `gtengine run` with mode = "live" against the stateful fake
-- Alpaca (tests/fakebroker/fakealpaca), each test judged by what the broker saw (its
-- /admin/state and audit log), what the session journalled and what it printed.
--   the canary key through a whole session with --trace-http, from a key file and the env
--   the kill switch with 50 orders open at the broker (gtengine halt, and SIGUSR1)
--   a closed market, a dry run, an unknown position, no keys, a resumed session
-- The broker client keeps to 180 requests a minute (burst 5) per process, so each session
-- here is small, and the two canary sessions run side by side.
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/broker/fakealpaca.lua")
local json = require "gt.json"
local journal = require "gt.journal"
local C = require("gt.ffi").C

local KEY_ID, SECRET = fake.KEY_ID, fake.SECRET
local q = t.quote

local function now() return tonumber(C.gt_clock_seconds()) end

local function slurp(p)
  local f = io.open(p, "rb"); if not f then return nil end
  local s = f:read("*a"); f:close(); return s
end

local function sleep(s) os.execute(("sleep %g"):format(s)) end

-- A Lua literal of v (workflow files).
local function lit(v)
  if type(v) == "table" then
    local parts = {}
    if #v > 0 then
      for _, x in ipairs(v) do parts[#parts + 1] = lit(x) end
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do parts[#parts + 1] = ("[%q] = %s"):format(k, lit(v[k])) end
    end
    return "{ " .. table.concat(parts, ", ") .. " }"
  elseif type(v) == "string" then
    return ("%q"):format(v)
  end
  return tostring(v)
end

-- The rehearsal workflow (a replay of synthetic bars), with extra's keys over it.
local function rehearsal(extra)
  local d = { mode = "live", symbols = { "SPY" }, capital = 10000, timeframe = "1d",
    data = { source = "synthetic", bars = 300, seed = 3 }, feed = { kind = "replay", warmup = 30 },
    broker = "alpaca", risk = "paper", strategy = "sma_cross", params = { sma_cross = { fast = 5, slow = 15 } },
    sizing = { method = "fixed", fixed_fraction = 0.15, max_position = 0.2 }, monitor = { progress = false } }
  for k, v in pairs(extra or {}) do d[k] = v end
  return d
end

-- Writes def as DIR/workflows/NAME.lua (a path `gtengine run` takes as a workflow).
local function workflow(dir, name, def)
  os.execute("mkdir -p " .. q(dir .. "/workflows"))
  return t.write(("%s/workflows/%s.lua"):format(dir, name), "return " .. lit(def) .. "\n")
end

-- The command line: env cleared of every key and URL the machine may have, HOME set (keys
-- never come from the real home), then env's variables.
local function command(env, args)
  local parts = { "env -u APCA_API_KEY_ID -u APCA_API_SECRET_KEY -u APCA_API_BASE_URL -u APCA_API_DATA_URL"
    .. " -u XDG_CONFIG_HOME -u GT_DB" }
  local names = {}
  for k in pairs(env) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. q(env[k]) end
  parts[#parts + 1] = q(t.gtengine)
  parts[#parts + 1] = args
  return table.concat(parts, " ")
end

-- Runs cmd in the background: stdout, stderr, pid and exit code in base.out/.err/.pid/.rc.
local spawned = {}
local function spawn(cmd, base)
  os.execute(("( %s > %s 2> %s & echo $! > %s; wait $!; echo $? > %s ) &"):format(cmd, q(base .. ".out"),
    q(base .. ".err"), q(base .. ".pid"), q(base .. ".rc")))
  for _ = 1, 200 do
    local pid = (slurp(base .. ".pid") or ""):match("(%d+)")
    if pid then spawned[#spawned + 1] = base; return tonumber(pid) end
    sleep(0.01)
  end
  error("spawn: no pid for " .. cmd)
end

-- Waits for a spawned command: stdout, stderr, exit code.
local function await(base, timeout)
  local t0 = now()
  while now() - t0 < (timeout or 60) do
    local rc = (slurp(base .. ".rc") or ""):match("(%d+)")
    if rc then return slurp(base .. ".out") or "", slurp(base .. ".err") or "", tonumber(rc) end
    sleep(0.05)
  end
  local pid = (slurp(base .. ".pid") or ""):match("(%d+)")
  if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
  error(("await: %s did not end within %d s: %s"):format(base, timeout or 60, slurp(base .. ".err") or ""))
end

-- The journal of the newest session in db: its rows (of types, or all) and last state.
local function journal_of(db, types)
  local J = assert(journal.open(db, { readonly = true }))
  local ss = J:sessions()
  local sid = ss[#ss].id
  local rows = assert(J:query { session = sid, type = types })
  local state = J:state(sid)
  J:close()
  return rows, state, ss[#ss]
end

-- The cycle a running session last committed (nil before its first).
local function committed(db)
  local ok, J = pcall(journal.open, db, { readonly = true })
  if not ok or not J then return nil end
  local c
  pcall(function()
    local ss = J:sessions()
    local st = ss[#ss] and J:state(ss[#ss].id)
    c = st and st.cycle
  end)
  J:close()
  return c
end

-- Requests in the fake's audit log: all, and those matching method (and a path prefix).
local function requests(b, method, prefix)
  local out = {}
  for _, r in ipairs(b:audit()) do
    if r.auth ~= "admin" and (not method or r.method == method)
      and (not prefix or r.path:sub(1, #prefix) == prefix) then
      out[#out + 1] = r
    end
  end
  return out
end

-- The broker's positions as { SYM = qty }.
local function broker_positions(b)
  local out = {}
  for _, p in ipairs(b:state().positions) do out[p.symbol] = tonumber(p.qty) end
  return out
end

describe("live sessions against the fake Alpaca", function()
  local dir, brokers
  local function start(script)
    local b = assert(fake.start(script))
    brokers[#brokers + 1] = b
    return b
  end
  before_each(function()
    assert(fake.available(), "build the fake first: make build/fakebroker/fakealpaca")
    -- the admin calls poll the fake often: no host limit an earlier spec set in this process
    require("gt.http").limits_reset()
    dir = t.tmpdir()
    brokers = {}
  end)
  after_each(function()
    -- a session a failed test left running is stopped before its directory goes
    for _, base in ipairs(spawned) do
      local pid = (slurp(base .. ".pid") or ""):match("(%d+)")
      if pid and not slurp(base .. ".rc") then os.execute("kill " .. pid .. " 2>/dev/null") end
    end
    spawned = {}
    for _, b in ipairs(brokers) do b:stop() end
    os.execute("rm -rf " .. q(dir))
  end)

  it("the canary key appears nowhere in a whole session with --trace-http, keys from a file or the env", function()
    -- Two whole sessions side by side (each process has its own rate limit), each against its
    -- own fake: A reads the canary from a 0600 key file in its HOME, B from the environment.
    -- Everything each wrote is scanned: stdout and stderr (the trace), every file under its
    -- directory (the database and its -wal/-shm/-journal, the monitor's log, the report, the
    -- workflow), the fake's audit log and stderr.
    local runs = {}
    for _, name in ipairs { "A", "B" } do
      local r = { name = name, dir = dir .. "/" .. name, home = dir .. "/home" .. name, out = dir .. "/run" .. name }
      os.execute("mkdir -p " .. q(r.dir) .. " " .. q(r.home))
      r.b = start("price SPY 100\n")
      local wf = workflow(r.dir, "rehearse", rehearsal { data = { source = "synthetic", bars = 80, seed = 3 } })
      local env = { HOME = r.home, APCA_API_BASE_URL = r.b.url }
      if name == "A" then
        os.execute("mkdir -p " .. q(r.home .. "/.config/gtengine"))
        local kf = t.write(r.home .. "/.config/gtengine/alpaca.json",
          ('{"key_id": "%s", "secret_key": "%s"}'):format(KEY_ID, SECRET))
        os.execute("chmod 600 " .. q(kf))
      else
        env.APCA_API_KEY_ID, env.APCA_API_SECRET_KEY = KEY_ID, SECRET
      end
      spawn(command(env, ("run %s --db %s --trace-http --log %s --report %s --no-attach"):format(q(wf),
        q(r.dir .. "/l.db"), q(r.dir .. "/monitor.log"), q(r.dir .. "/report.html"))), r.out)
      runs[#runs + 1] = r
    end
    local total = 0
    for _, r in ipairs(runs) do
      local out, err, code = await(r.out, 50)
      assert.equal(0, code, r.name .. ": " .. err)
      -- the session ran to its end and traded through the broker
      local _, _, sess = journal_of(r.dir .. "/l.db")
      assert.equal("finished", sess.status, r.name)
      local st = r.b:state()
      assert.is_true(st.counters.posts >= 2, r.name .. ": posts " .. st.counters.posts)
      assert.equal(0, st.counters.unauthorized, r.name)
      -- the fake did get the keys: every /v2 request was authenticated with them
      local v2 = requests(r.b)
      assert.is_true(#v2 >= 8, r.name)
      for _, a in ipairs(v2) do assert.equal("ok", a.auth, r.name .. " " .. a.path) end
      -- the trace is there: every request's line and the key headers by name
      local gets, posts = 0, 0
      for line in err:gmatch("[^\n]+") do
        if line:match("^> GET /v2/") then gets = gets + 1 end
        if line:match("^> POST /v2/orders ") then posts = posts + 1 end
      end
      assert.equal(st.counters.posts, posts, r.name .. ": POST lines in the trace")
      assert.equal(#v2, gets + posts, r.name .. ": trace lines vs the fake's audit")
      assert.matches("APCA-API-SECRET-KEY: [REDACTED]", err, 1, true)
      assert.matches("APCA-API-KEY-ID: [REDACTED]", err, 1, true)
      -- the scan
      local blobs = { { "stdout", out }, { "stderr", err }, { "fake audit", r.b:audit_text() },
        { "fake stderr", r.b:stderr() } }
      local p = io.popen("find " .. q(r.dir) .. " -type f")
      local files = {}
      for path in p:lines() do files[#files + 1] = path end
      p:close()
      local names = table.concat(files, " ")
      for _, want in ipairs { "/l.db", "/l.db-wal", "/monitor.log", "/report.html" } do
        assert.matches(want, names, 1, true)
      end
      for _, path in ipairs(files) do blobs[#blobs + 1] = { path, assert(slurp(path)) } end
      local function scan(needle, list)
        local hits, bytes = {}, 0
        for _, x in ipairs(list) do
          bytes = bytes + #x[2]
          if x[2]:find(needle, 1, true) then hits[#hits + 1] = x[1] end
        end
        return hits, bytes
      end
      local hits, bytes = scan(SECRET, blobs)
      assert.same({}, hits, r.name .. ": the secret key in")
      assert.same({}, (scan(KEY_ID, blobs)), r.name .. ": the key id in")
      -- the scan can fail: it finds what is there (the trace's redaction, a POST in the
      -- audit) and the canary itself in the fake's script, which holds it by design
      assert.same({ "stderr" }, (scan("APCA-API-SECRET-KEY: [REDACTED]", blobs)))
      assert.same({ "fake audit" }, (scan('"path":"/v2/orders","status":200', blobs)))
      assert.same({ "script" }, (scan(SECRET, { { "script", slurp(r.b.dir .. "/script") } })))
      assert.is_true(bytes > 100000, r.name .. ": bytes scanned " .. bytes)
      total = total + bytes
      print(("  [canary] run %s (keys from %s): %d requests traced, %d bytes scanned in %d files and 4 streams")
        :format(r.name, r.name == "A" and "a 0600 key file" or "the environment", #v2, bytes, #files))
    end
    print(("  [canary] %d bytes scanned in all, no key found"):format(total))
  end)

  -- 50 symbols, each buys on the first bar; the fake fills a tenth of each order (1 share of
  -- about 15) and never steps, so 50 orders stay partially_filled at the broker.
  local N = 50
  local function fifty(script_extra)
    local syms, lines = {}, { "max-seconds 90" }
    for j = 1, N do
      syms[j] = ("S%02d"):format(j)
      lines[#lines + 1] = ("price %s 100\npartial %s 0.1"):format(syms[j], syms[j])
    end
    return syms, table.concat(lines, "\n") .. "\n" .. (script_extra or "")
  end
  local function open_orders(st)
    local n = 0
    for _, o in ipairs(st.orders) do
      if o.status == "new" or o.status == "partially_filled" or o.status == "accepted" then n = n + 1 end
    end
    return n
  end
  local function buy_first(syms, bars)
    return rehearsal { symbols = syms, capital = 100000, data = { source = "synthetic", bars = bars, seed = 3 },
      feed = { kind = "replay", warmup = 0 }, strategy = "buy_and_hold", params = {},
      sizing = { method = "fixed", fixed_fraction = 0.015, max_position = 0.2 } }
  end

  it("the kill switch with 50 orders open: gtengine halt cancels them all at the broker within 1 s", function()
    local syms, script = fifty()
    local b = start(script)
    local wf = workflow(dir, "fifty", buy_first(syms, 6))
    local db = dir .. "/k.db"
    -- Paced at a bar every 21 s of wall time. The first cycle sends the 50 orders (at the
    -- client's 180 requests a minute: about 17 s), the second follows at once (a paced
    -- replay runs bars 0 and 1 back to back) and reads the broker; then the session waits
    -- for bar 2, serving its control socket, as a live session spends its time. The halt
    -- comes then; bar 2 is the last (--cycles 3).
    local t0 = now()
    spawn(command({ HOME = dir, APCA_API_KEY_ID = KEY_ID, APCA_API_SECRET_KEY = SECRET, APCA_API_BASE_URL = b.url },
      ("run %s --db %s --quiet --speed %.6f --cycles 3"):format(q(wf), q(db), 86400 / 21)), dir .. "/k")
    local st
    repeat
      sleep(0.1)
      st = b:state()
      assert.is_true(now() - t0 < 40, "the 50 orders were not all open within 40 s: " .. open_orders(st))
    until open_orders(st) == N and committed(db) == 1
    local t_open = now() - t0
    for _, o in ipairs(st.orders) do
      assert.equal("partially_filled", o.status)
      assert.equal(1, tonumber(o.filled_qty))
    end
    -- the kill switch, as the operator pulls it
    local t_halt = now()
    local out, err, code = t.run(("halt --reason %s --db %s"):format(q("spec: stop everything"), q(db)))
    assert.equal(0, code, err)
    -- told through the socket at once, not only written to the database for the next cycle
    assert.matches("is halted now", out, 1, true, err .. (slurp(dir .. "/k.err") or ""))
    local canceled, elapsed
    repeat
      st = b:state()
      canceled = 0
      for _, o in ipairs(st.orders) do if o.status == "canceled" then canceled = canceled + 1 end end
      elapsed = now() - t_halt
      if canceled == N then break end
      sleep(0.02)
    until elapsed > 3
    assert.equal(N, canceled)
    assert.equal(0, open_orders(st))
    assert.is_true(elapsed < 1, ("all %d canceled %.3f s after gtengine halt"):format(N, elapsed))
    out, err, code = await(dir .. "/k", 40)
    assert.equal(0, code, err)
    assert.matches("HALTED", out, 1, true)
    assert.matches("kill switch used", out, 1, true)
    -- the broker: 50 POSTs, all before the cancel-all; nothing sent after the halt
    local del_n, posts, last_post = nil, 0, 0
    for _, a in ipairs(b:audit()) do
      if a.method == "DELETE" and a.path == "/v2/orders" then del_n = del_n or a.n end
      if a.method == "POST" and a.path == "/v2/orders" then posts = posts + 1; last_post = a.n end
    end
    assert.is_number(del_n)
    assert.equal(N, posts)
    assert.is_true(last_post < del_n)
    assert.equal(N, b:state().counters.posts)
    -- the journal: the kill as a command with the count, then each working order closed as
    -- the broker closed it (its one filled share kept); no order after the halt
    local rows, state = journal_of(db)
    local cmd, kill_note
    local last = {}
    local passed_after, booked = 0, 0
    for _, r in ipairs(rows) do
      if r.type == "command" and r.reason == "kill: cancel all orders" then cmd = r end
      if r.type == "error" and (r.reason or ""):match("^kill switch") then kill_note = r.reason end
      if r.type == "order" and r.order_id then last[r.order_id] = r end
      if cmd and r.type == "risk_decision" and r.status == "passed" then passed_after = passed_after + 1 end
      if r.type == "risk_decision" then booked = booked + 1 end
    end
    assert.is_table(cmd)
    assert.equal("ok", cmd.status)
    assert.equal(N, cmd.canceled)
    assert.equal(0, cmd.failed)
    assert.matches("spec: stop everything", kill_note, 1, true)
    local closed = 0
    for id, r in pairs(last) do
      assert.equal("canceled", r.status, "order " .. id)
      assert.equal(1, r.filled, "order " .. id)
      closed = closed + 1
    end
    assert.equal(N, closed)
    assert.equal(0, passed_after) -- no order passed the gate after the halt
    assert.equal(N, booked) -- and none was booked: the 50 of the first bar are all there are
    -- the books hold what the broker holds: one share of each
    local held = broker_positions(b)
    for _, s in ipairs(syms) do
      assert.equal(1, held[s], s)
      assert.equal(1, state.positions[s] and state.positions[s].qty, s)
    end
    assert.equal("HALTED", state.breaker)
    assert.same({}, state.lua_state.open) -- the committed books have no working order
    print(("  [kill switch] %d orders open at the broker %.1f s into the session; all canceled %.3f s after "
      .. "`gtengine halt` was started (the cancel-all itself: %s)"):format(N, t_open, elapsed,
      kill_note:match("in ([%d.]+ s)") or "?"))
  end)

  it("the kill switch from SIGUSR1 cancels the orders at the broker too", function()
    local syms, lines = { "S01", "S02", "S03" }, { "max-seconds 30" }
    for _, s in ipairs(syms) do lines[#lines + 1] = ("price %s 100\npartial %s 0.1"):format(s, s) end
    local b = start(table.concat(lines, "\n") .. "\n")
    local wf = workflow(dir, "three", buy_first(syms, 6))
    local db = dir .. "/u.db"
    -- a bar every 2 s; the signal once the three orders are open. The paced wait looks for it
    -- every 0.25 s, so the cancel comes well before the next bar.
    local pid = spawn(command({ HOME = dir, APCA_API_KEY_ID = KEY_ID, APCA_API_SECRET_KEY = SECRET,
      APCA_API_BASE_URL = b.url }, ("run %s --db %s --quiet --no-attach --speed %.6f --cycles 3")
      :format(q(wf), q(db), 86400 / 2)), dir .. "/u")
    local t0 = now()
    local st
    repeat
      sleep(0.05)
      st = b:state()
      assert.is_true(now() - t0 < 10, "the 3 orders were not open within 10 s")
    until open_orders(st) == 3
    os.execute("kill -USR1 " .. pid)
    local t_sig = now()
    local elapsed
    repeat
      sleep(0.02)
      st = b:state()
      elapsed = now() - t_sig
    until open_orders(st) == 0 or elapsed > 4
    assert.equal(0, open_orders(st), "SIGUSR1 halted the gate but the orders stay open at the broker")
    assert.is_true(elapsed < 2, ("canceled %.3f s after the signal"):format(elapsed))
    local out, err, code = await(dir .. "/u", 20)
    assert.equal(0, code, err)
    local canceled_at
    for _, a in ipairs(b:audit()) do
      if a.method == "DELETE" and a.path == "/v2/orders" then canceled_at = a.n end
    end
    assert.is_number(canceled_at, "SIGUSR1 halted the gate but no cancel reached the broker")
    for _, o in ipairs(st.orders) do assert.equal("canceled", o.status) end
    assert.equal(3, st.counters.posts)
    assert.matches("HALTED", out, 1, true)
    local rows = journal_of(db, "command")
    assert.equal(1, #rows)
    assert.equal(3, rows[1].canceled)
    print(("  [kill switch] SIGUSR1: 3 orders canceled at the broker %.3f s after the signal")
      :format(elapsed))
  end)

  it("a closed market: nothing is sent, each order is journalled not_sent naming the closed market", function()
    local b = start("price SPY 100\nmarket closed\n")
    local wf = workflow(dir, "closed", rehearsal { data = { source = "synthetic", bars = 100, seed = 3 } })
    local db = dir .. "/c.db"
    local out, err, code = t.sh(command({ HOME = dir, APCA_API_KEY_ID = KEY_ID, APCA_API_SECRET_KEY = SECRET,
      APCA_API_BASE_URL = b.url }, ("run %s --db %s --quiet --no-attach --json"):format(q(wf), q(db))))
    assert.equal(0, code, err)
    local sm = json.decode(out)
    assert.is_true(sm.complete)
    assert.is_true(sm.orders >= 2, "orders " .. sm.orders)
    assert.equal(0, sm.live.sent)
    assert.same({}, sm.positions)
    local st = b:state()
    assert.equal(0, st.counters.posts)
    assert.equal(0, #requests(b, "POST"))
    assert.equal(0, #st.orders)
    assert.is_true(#requests(b, "GET", "/v2/clock") >= 1) -- it did ask the broker's clock
    local rows, state, sess = journal_of(db, "order")
    assert.equal("finished", sess.status)
    local not_sent, booked = 0, {}
    for _, r in ipairs(rows) do
      booked[r.order_id] = true
      if r.status == "not_sent" then
        not_sent = not_sent + 1
        assert.matches("market closed at the broker", r.reason, 1, true)
      end
      assert.is_true(r.status ~= "pending_submit" and r.status ~= "submitted", "an order went out: " .. r.order_id)
    end
    local n = 0
    for _ in pairs(booked) do n = n + 1 end
    assert.equal(sm.orders, n)
    assert.equal(n, not_sent)
    assert.same({}, state.positions)
    assert.same({}, broker_positions(b))
  end)

  it("a dry run sends nothing, journals would_send, prints would send, and still reconciles", function()
    local b = start("price SPY 100\n")
    local wf = workflow(dir, "dry", rehearsal { data = { source = "synthetic", bars = 100, seed = 3 } })
    local db = dir .. "/d.db"
    local out, err, code = t.sh(command({ HOME = dir, APCA_API_KEY_ID = KEY_ID, APCA_API_SECRET_KEY = SECRET,
      APCA_API_BASE_URL = b.url }, ("run %s --db %s --no-attach --dry-run"):format(q(wf), q(db))))
    assert.equal(0, code, err)
    local st = b:state()
    assert.equal(0, st.counters.posts)
    assert.equal(0, #requests(b, "POST"))
    assert.equal(0, #requests(b, "DELETE"))
    -- reconciled: account, positions and open orders read before the first cycle
    for _, p in ipairs { "/v2/account", "/v2/positions", "/v2/orders" } do
      local seen = false
      for _, r in ipairs(requests(b, "GET")) do if r.path == p or r.path:sub(1, #p + 1) == p .. "?" then seen = true end end
      assert.is_true(seen, "no GET " .. p)
    end
    local printed = {}
    for side, qty, sym, id in out:gmatch("would send: (%a+) (%d+) (%u+) %(order (%d+)%)") do
      printed[tonumber(id)] = { side = side, qty = tonumber(qty), sym = sym }
    end
    local rows = journal_of(db, "order")
    local would = 0
    for _, r in ipairs(rows) do
      if r.status == "would_send" then
        would = would + 1
        local p = printed[r.order_id]
        assert.is_table(p, "journalled, not printed: order " .. r.order_id)
        assert.equal(r.qty, p.qty); assert.equal("SPY", p.sym)
      end
    end
    assert.is_true(would >= 2, "would_send rows: " .. would)
    local np = 0
    for _ in pairs(printed) do np = np + 1 end
    assert.equal(would, np)
    assert.matches("(dry run): 0 orders sent", out, 1, true)
  end)

  it("an unknown position at the broker: the session refuses to start, HALTED, sending nothing", function()
    local b = start("price SPY 100\nseed-position AAPL 5 10\n")
    local wf = workflow(dir, "unknown", rehearsal())
    local db = dir .. "/p.db"
    local out, err, code = t.sh(command({ HOME = dir, APCA_API_KEY_ID = KEY_ID, APCA_API_SECRET_KEY = SECRET,
      APCA_API_BASE_URL = b.url }, ("run %s --db %s --quiet --no-attach"):format(q(wf), q(db))))
    assert.not_equal(0, code)
    assert.matches("AAPL: broker holds 5", err, 1, true)
    assert.matches("HALTED", err, 1, true)
    assert.equal("", out)
    assert.equal(0, b:state().counters.posts)
    assert.equal(0, #requests(b, "POST"))
    assert.equal(0, #requests(b, "GET", "/v2/clock")) -- not one cycle ran
    local rows, state = journal_of(db, "command")
    assert.equal(1, #rows)
    assert.equal("halted", rows[1].status)
    assert.matches("AAPL: broker holds 5, journal 0", rows[1].reason, 1, true)
    assert.is_nil(state) -- no cycle committed
    assert.same({ AAPL = 5 }, broker_positions(b))
  end)

  it("without keys a live session stops at once saying how to provide them; a 0644 key file is refused", function()
    local b = start("price SPY 100\n")
    local home = dir .. "/home"
    os.execute("mkdir -p " .. q(home))
    local env = { HOME = home, APCA_API_BASE_URL = b.url, APCA_API_DATA_URL = b.url }
    -- the shipped live workflow (Alpaca's bars, polled) and the rehearsal (the broker's keys)
    local wf = workflow(dir, "nokeys", rehearsal())
    for _, args in ipairs { "run live --db " .. q(dir .. "/n1.db"), ("run %s --db %s"):format(q(wf), q(dir .. "/n2.db")) } do
      local t0 = now()
      local out, err, code = t.sh(command(env, args .. " --quiet --no-attach"))
      assert.not_equal(0, code, args)
      assert.is_true(now() - t0 < 3, args)
      assert.matches("no Alpaca API keys", err, 1, true)
      assert.matches("APCA_API_KEY_ID", err, 1, true)
      assert.matches("APCA_API_SECRET_KEY", err, 1, true)
      assert.matches("chmod 600", err, 1, true)
      assert.matches(home .. "/.config/gtengine/alpaca.json", err, 1, true)
      assert.equal("", out)
    end
    -- a key file others can read
    os.execute("mkdir -p " .. q(home .. "/.config/gtengine"))
    local kf = t.write(home .. "/.config/gtengine/alpaca.json",
      ('{"key_id": "%s", "secret_key": "%s"}'):format(KEY_ID, SECRET))
    os.execute("chmod 644 " .. q(kf))
    for _, args in ipairs { "run live --db " .. q(dir .. "/n3.db"), ("run %s --db %s"):format(q(wf), q(dir .. "/n4.db")) } do
      local out, err, code = t.sh(command(env, args .. " --quiet --no-attach"))
      assert.not_equal(0, code, args)
      assert.matches("chmod 600", err, 1, true)
      assert.matches(kf, err, 1, true)
      assert.is_nil((out .. err):find(SECRET, 1, true))
    end
    assert.same({}, requests(b)) -- not one request, to the broker or for bars
    assert.equal(0, b:state().counters.requests)
  end)

  it("a bounded session resumes with the same command; the broker holds the session's positions each time", function()
    local b = start("price SPY 100\n")
    local wf = workflow(dir, "resume", rehearsal())
    local db = dir .. "/r.db"
    local cmd = command({ HOME = dir, APCA_API_KEY_ID = KEY_ID, APCA_API_SECRET_KEY = SECRET, APCA_API_BASE_URL = b.url },
      ("run %s --db %s --quiet --no-attach --json --cycles 45"):format(q(wf), q(db)))
    local prev
    for run = 1, 2 do
      local out, err, code = t.sh(cmd)
      assert.equal(0, code, err)
      local sm = json.decode(out)
      assert.is_true(sm.bounded)
      if run == 1 then
        assert.is_nil(sm.resumed_at)
        assert.equal(45, sm.cycles)
      else
        assert.equal(prev.session, sm.session)
        assert.equal(prev.cycles - 1, sm.resumed_at) -- resumed after the last committed cycle
        assert.equal(90, sm.cycles)
        assert.is_true(sm.orders > prev.orders)
      end
      -- the session's positions: the summary's, and the committed books'
      local mine = {}
      for _, p in ipairs(sm.positions) do mine[p.symbol] = p.qty end
      local rows, state = journal_of(db, "order")
      local committed_pos = {}
      for sym, p in pairs(state.positions) do committed_pos[sym] = p.qty end
      assert.same(mine, committed_pos, "run " .. run)
      -- an order sent in the last cycle is still working in the books (its fill is read at
      -- the next start): the broker holds the session's positions plus what those filled
      local cid = {}
      for _, r in ipairs(rows) do if r.client_order_id then cid[r.order_id] = r.client_order_id end end
      local bst, in_flight = b:state(), 0
      local by_cid = {}
      for _, o in ipairs(bst.orders) do by_cid[o.client_order_id] = o end
      local expect = {}
      for sym, qty in pairs(mine) do expect[sym] = qty end
      for _, w in ipairs(state.lua_state.open) do
        local o = assert(by_cid[cid[w.id]], "a working order the broker does not have: " .. w.id)
        in_flight = in_flight + 1
        local qn = (expect[o.symbol] or 0) + (o.side == "buy" and 1 or -1) * tonumber(o.filled_qty)
        expect[o.symbol] = qn ~= 0 and qn or nil
      end
      assert.same(broker_positions(b), expect, "run " .. run)
      if run == 1 then
        -- as this data has it, the first run stops on the cycle that sold: the books still
        -- hold 14 SPY, the broker none
        assert.equal(1, in_flight)
        assert.same({ SPY = 14 }, mine)
        assert.same({}, broker_positions(b))
      else
        -- the second run read that fill at its start and ends with nothing in flight
        assert.equal(0, in_flight)
        assert.same(broker_positions(b), mine)
      end
      prev = sm
    end
    -- nothing sent twice: one POST per order the broker has, each client_order_id once
    local st, seen = b:state(), {}
    assert.equal(#st.orders, st.counters.posts)
    assert.equal(0, st.counters.duplicates)
    for _, o in ipairs(st.orders) do
      assert.is_nil(seen[o.client_order_id]); seen[o.client_order_id] = true
    end
  end)
end)
