-- gt.reload: a paper session (journal on, a temporary database, a strategy file in a
-- temporary directory) whose strategy or workflow file a cycle_end hook rewrites at a given
-- cycle. A broken edit keeps the running version and raises an alert naming file and line,
-- and the session trades exactly as an uninterrupted one; a good edit trades differently from
-- that cycle on, with a reload event in the journal; migrate carries state; a look-ahead is
-- rejected; tighter risk limits apply and looser ones are refused by key; a session killed
-- after a reload resumes to the same books and state. Time is the session's simulated clock.
local gt = require "gt"
local t = require "tests.lua.support"

-- v1: long while the fast SMA is above the slow one; counts the bars it decides in its state
local V1 = [[
return {
  params = { fast = 5, slow = 20 },
  indicators = function(d, p)
    return { f = gt.ind.sma(d.close, p.fast, d.n), s = gt.ind.sma(d.close, p.slow, d.n) }
  end,
  rule = function(d, ind, i, p, state)
    state.n = (state.n or 0) + 1
    if ind.f[i] > ind.s[i] then return 1 end
    return 0
  end,
}
]]
local BROKEN = V1:gsub("return 0\n", "return 0 +\n") -- line 10: 'end' where an expression goes
local V2 = V1:gsub("fast = 5, slow = 20", "fast = 12, slow = 40")
local V2_MIGRATE = V1:gsub("fast = 5, slow = 20", "fast = 12, slow = 40"):gsub("  rule = ", [[
  migrate = function(old)
    return { last = old.last, state = { n = old.state.n, carried = true, old_fast = old.params.fast } }
  end,
  rule = ]])
local PEEK = V1:gsub("ind%.f%[i%] > ind%.s%[i%]", "d.close[i + 1] > ind.s[i]") -- line 8 reads tomorrow
local PEEK_IND = V1:gsub("    return { f = gt%.ind%.sma%(d%.close, p%.fast, d%.n%)", [[
    local next = gt.series.array(d.n, 0 / 0)
    for k = 0, d.n - 2 do next[k] = d.close[k + 1] end
    return { f = next]])

-- o: risk (the limits after the preset), symbols, capital
local function workflow(dir, o)
  o = o or {}
  return ([[
return { name = "reload", mode = "paper", symbols = { %s }, capital = %s,
  strategy = %q, data = { source = "synthetic", bars = 400, seed = 3 }, monitor = { progress = false },
  sizing = { method = "fixed", fixed_fraction = 0.15, max_position = 0.2 },
  risk = { preset = "paper", %s } }
]]):format(o.symbols or '"AAA", "BBB"', o.capital or "100000", dir .. "/strategies/rl.lua",
    o.risk or "max_position = 0.2")
end

local function setup()
  local dir = t.tmpdir()
  os.execute("mkdir -p " .. t.quote(dir .. "/strategies") .. " " .. t.quote(dir .. "/workflows"))
  t.write(dir .. "/strategies/rl.lua", V1)
  t.write(dir .. "/workflows/w.lua", workflow(dir))
  return dir
end

-- Runs the session over the workflow in dir with db; edits[cycle] = function() end runs in
-- a cycle_end hook before the watcher's; stop_at interrupts after that cycle's hooks (as a
-- kill before the next commit would). Returns the summary, the session and the watcher.
local function run(dir, db, edits, stop_at, attach_opts)
  local wf = assert(gt.workflow.load(dir .. "/workflows/w.lua", { db = db }))
  local sess = assert(gt.orchestrator.new(wf, { quiet = true }))
  sess:hook("cycle_end", function(s)
    local f = edits and edits[s.state.bar]
    if f then f() end
  end)
  local o = { overrides = { db = db } }
  for k, v in pairs(attach_opts or {}) do o[k] = v end
  local w = assert(gt.reload.attach(sess, o))
  if stop_at then
    sess:hook("cycle_end", function(s) if s.state.bar == stop_at then error("interrupted", 0) end end)
  end
  return assert(sess:run()), sess, w
end

local function journal(db)
  local J = assert(gt.journal.open(db, { readonly = true }))
  local sid = J:sessions()[1].id
  local function q(types) return J:query { session = sid, type = types } end
  return J, sid, q
end

-- The fills as "ts symbol side qty price" lines, in order.
local function fills(db)
  local J, _, q = journal(db)
  local out = {}
  for _, r in ipairs(q("fill")) do
    out[#out + 1] = ("%d %s %d %.6f %.6f"):format(r.ts, r.symbol, r.side, r.qty, r.price)
  end
  J:close()
  return out
end

local function split(list, ts)
  local before, after = {}, {}
  for _, l in ipairs(list) do
    if tonumber(l:match("^(%d+)")) <= ts then before[#before + 1] = l else after[#after + 1] = l end
  end
  return before, after
end

local function put(path, text) return function() t.write(path, text) end end

local dir, db
before_each(function() dir = setup() end)
after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

describe("gt.reload", function()
  it("keeps the running version after a syntax error, alerts with file and line once per content", function()
    local path = dir .. "/strategies/rl.lua"
    local base = fills(select(2, run(dir, dir .. "/base.db")).wf.db)
    local BROKEN2 = BROKEN:gsub("return 1 end", "return 1 ed")
    db = dir .. "/edit.db"
    local sm, _, w = run(dir, db, { [150] = put(path, BROKEN), [160] = put(path, BROKEN), -- the same content again
      [170] = put(path, BROKEN2) })
    assert.equal(400, sm.cycles)
    assert.is_true(#base > 20)
    assert.same(base, fills(db)) -- traded exactly as the uninterrupted run
    local J, _, q = journal(db)
    local alerts = q("alert")
    assert.equal(2, #alerts) -- the rewrite with the same content is not reported again
    local a = alerts[1]
    assert.equal("ERROR", a.level); assert.equal("reload", a.component)
    assert.equal(path, a.file); assert.equal(10, a.line) -- the `end` after `return 0 +`
    assert.matches(path .. ":10:", a.message, 1, true)
    assert.matches("the running version stays", a.message, 1, true)
    local r = q("reload")
    assert.equal(2, #r)
    assert.equal("rejected", r[1].status); assert.equal(151, r[1].cycle)
    assert.equal(gt.reload.hash(V1), r[1].old_hash); assert.equal(gt.reload.hash(BROKEN), r[1].new_hash)
    assert.matches(path .. ":8:", alerts[2].message, 1, true)
    J:close()
    assert.equal(2, w.rejected); assert.equal(0, w.applied)
  end)

  it("applies a good edit at the next cycle boundary: trades differ from then on, the journal has it", function()
    local path = dir .. "/strategies/rl.lua"
    local _, bsess = run(dir, dir .. "/base.db")
    local base = fills(dir .. "/base.db")
    local ts150 = tonumber(bsess.series[1].ts[150])
    db = dir .. "/edit.db"
    local _, sess, w = run(dir, db, { [150] = put(path, V2) })
    local got = fills(db)
    local b1, b2 = split(base, ts150)
    local g1, g2 = split(got, ts150)
    assert.same(b1, g1) -- the same up to the reload
    assert.is_true(#g2 > 0)
    assert.are_not.same(b2, g2)
    local J, _, q = journal(db)
    local r = q("reload")
    assert.equal(1, #r)
    assert.equal("applied", r[1].status); assert.equal(path, r[1].file); assert.equal("rl", r[1].strategy)
    assert.equal(gt.reload.hash(V1), r[1].old_hash); assert.equal(gt.reload.hash(V2), r[1].new_hash)
    assert.matches("re-initialised from history (91 bars)", r[1].reason, 1, true) -- bars 60..150
    J:close()
    assert.equal(12, sess.sym[1].strat.rl.p.fast)
    assert.equal(1, w.applied)
    -- re-initialised from history: from the reload on it stands where v2 run from the start
    -- stands, so it trades on the same bars in the same direction (sizes differ: other equity)
    t.write(path, V2)
    run(dir, dir .. "/v2.db")
    local _, v2 = split(fills(dir .. "/v2.db"), ts150 + 86400e6 * 3)
    local _, g3 = split(got, ts150 + 86400e6 * 3)
    local function side_ts(l) local o = {} for k, x in ipairs(l) do o[k] = x:match("^%d+ %S+ %-?%d+") end return o end
    assert.is_true(#v2 > 5)
    assert.same(side_ts(v2), side_ts(g3))
  end)

  it("carries state through migrate(old_state), and rebuilds it from history without", function()
    local path = dir .. "/strategies/rl.lua"
    db = dir .. "/m.db"
    run(dir, db, { [150] = put(path, V2_MIGRATE) })
    local J, sid, q = journal(db)
    local r = q("reload")
    assert.equal("applied", r[1].status); assert.equal("migrate(old_state)", r[1].reason)
    local st = J:state(sid).lua_state.symbols
    J:close()
    for _, sym in ipairs { "AAA", "BBB" } do
      local s = st[sym].state.rl
      assert.is_true(s.carried, sym); assert.equal(5, s.old_fast, sym)
      assert.equal(340, s.n, sym) -- every bar decided, 60..399: counted on across the reload
    end
    -- without migrate the count is rebuilt from history: the same 340, and nothing carried
    t.write(path, V1)
    run(dir, dir .. "/h.db", { [150] = put(path, V2) })
    local J2, sid2 = journal(dir .. "/h.db")
    local s2 = J2:state(sid2).lua_state.symbols.AAA.state.rl
    J2:close()
    assert.equal(340, s2.n); assert.is_nil(s2.carried)
  end)

  it("rejects an edit that reads the future, in the rule or in an indicator", function()
    local path = dir .. "/strategies/rl.lua"
    local base = fills(select(2, run(dir, dir .. "/base.db")).wf.db)
    db = dir .. "/peek.db"
    run(dir, db, { [150] = put(path, PEEK), [200] = put(path, PEEK_IND) })
    assert.same(base, fills(db))
    local J, _, q = journal(db)
    local r = q("reload")
    assert.equal(2, #r)
    assert.equal("rejected", r[1].status); assert.equal("rejected", r[2].status)
    assert.matches("look-ahead: d.close[", r[1].reason, 1, true)
    assert.matches(path .. ":8:", r[1].reason, 1, true)
    assert.matches("look-ahead", r[2].reason, 1, true)
    assert.matches("ind.f at bar", r[2].reason, 1, true) -- found by the check on cut data
    assert.matches(path, r[2].reason, 1, true)
    assert.equal(2, #q("alert"))
    J:close()
  end)

  it("applies tighter risk limits with the gate's state, refuses looser ones and other keys by name", function()
    local wpath = dir .. "/workflows/w.lua"
    db = dir .. "/risk.db"
    local tight = "max_position = 0.1, max_drawdown = 0.12"
    local sess, before_st, after_st, old_gate
    local edits = {
      [150] = function()
        before_st, old_gate = sess.gate:state(), sess.gate
        t.write(wpath, workflow(dir, { risk = tight }))
      end,
      [200] = put(wpath, workflow(dir, { risk = "max_position = 0.3" })),
      [210] = put(wpath, workflow(dir, { risk = tight, capital = "50000" })),
      [250] = put(wpath, workflow(dir, { risk = tight, symbols = '"AAA"' })),
    }
    local wf = assert(gt.workflow.load(wpath, { db = db }))
    sess = assert(gt.orchestrator.new(wf, { quiet = true }))
    sess:hook("cycle_end", function(s) local f = edits[s.state.bar]; if f then f() end end)
    gt.reload.attach(sess, { overrides = { db = db } })
    sess:hook("cycle_end", function(s) if s.state.bar == 150 then after_st = s.gate:state() end end)
    local sm = assert(sess:run())
    assert.equal(0.1, sess.gate.limits.max_position); assert.equal(0.12, sess.gate.limits.max_drawdown)
    assert.are_not.equal(old_gate, sess.gate)
    -- the new gate has the old one's state: peak, day, counters
    assert.is_true(before_st.peak > 0 and before_st.checks > 0)
    assert.equal(before_st.vol ~= before_st.vol, after_st.vol ~= after_st.vol) -- NaN until the window fills
    before_st.vol, after_st.vol = nil, nil
    assert.same(before_st, after_st)
    local J, _, q = journal(db)
    local r = q("reload")
    assert.equal(4, #r)
    assert.equal("applied", r[1].status)
    assert.matches("risk.max_position 0.2 -> 0.1", r[1].reason, 1, true)
    assert.matches("risk.max_drawdown 0.15 -> 0.12", r[1].reason, 1, true)
    assert.equal("rejected", r[2].status)
    assert.matches("key 'risk.max_position': 0.1 -> 0.3 loosens the limit", r[2].reason, 1, true)
    assert.equal("rejected", r[3].status)
    assert.matches("key 'capital': 100000 -> 50000 cannot change", r[3].reason, 1, true)
    assert.equal("applied", r[4].status)
    assert.matches("symbols removed: BBB", r[4].reason, 1, true)
    assert.equal(2, #q("alert"))
    -- the tighter limit refuses the 15 % entries from the reload on, never before
    local ts150 = tonumber(sess.series[1].ts[150])
    local before, after = 0, 0
    for _, d in ipairs(q("risk_decision")) do
      if d.status == "refused" then
        assert.matches("max_position", d.reason)
        if d.ts <= ts150 then before = before + 1 else after = after + 1 end
      end
    end
    assert.equal(0, before); assert.is_true(after > 0)
    -- BBB: flat at the cycle after its removal, and no order for it after that
    local ts251 = tonumber(sess.series[1].ts[251])
    local last_bbb
    for _, o in ipairs(q("order")) do if o.symbol == "BBB" then last_bbb = o.ts end end
    assert.is_true(last_bbb <= ts251)
    J:close()
    for _, p in ipairs(sm.positions) do assert.are_not.equal("BBB", p.symbol) end
  end)

  it("survives kill-and-resume after a reload: the same books, trades and strategy state", function()
    local path = dir .. "/strategies/rl.lua"
    local edits = { [150] = put(path, V2) }
    local ref = run(dir, dir .. "/ref.db", edits)
    local function final(d)
      local J, sid = journal(d)
      local s = J:state(sid)
      J:close()
      return { equity = s.equity, cash = s.cash, positions = s.positions, symbols = s.lua_state.symbols }
    end
    for _, stop in ipairs { 150, 220 } do -- right after the reload (before its cycle commits), and later
      t.write(path, V1)
      local d = ("%s/kill%d.db"):format(dir, stop)
      local sm1 = run(dir, d, edits, stop)
      assert.is_true(sm1.interrupted)
      local sm2, sess2 = run(dir, d) -- restarted: the file on disk is v2
      assert.equal(stop, sess2.resumed_at)
      assert.equal(ref.equity, sm2.equity, "stop " .. stop)
      assert.same(fills(dir .. "/ref.db"), fills(d))
      assert.same(final(dir .. "/ref.db"), final(d))
      local J, _, q = journal(d)
      local r = q("reload")
      J:close()
      assert.equal("applied", r[1].status)
      if stop == 150 then
        -- stopped before the reload's cycle committed: the journal keeps the events published
        -- after the last commit (a SIGKILL would lose them), the state is that of cycle 150;
        -- the restart carries the saved state to the file on disk, and says so
        assert.equal(2, #r)
        assert.equal("applied", r[2].status); assert.equal(r[1].new_hash, r[2].new_hash)
        assert.matches("at the restart", r[2].reason, 1, true)
      else
        assert.equal(1, #r)
      end
    end
  end)

  it("checks at most every `every` seconds of the engine's clock, one stat per file", function()
    local _, sess, w = run(dir, dir .. "/e.db", nil, nil, { every = 7 * 86400 })
    -- daily bars on weekdays: a check every 5 cycles or so, never every cycle
    assert.is_true(w.polls >= 60 and w.polls <= 90, tostring(w.polls))
    assert.equal(2, #w.files) -- the strategy and the workflow
    assert.equal(400, sess.cycles)
    -- a paper session run from the command line watches by default; a backtest never
    assert.is_nil((gt.reload.attach(assert(gt.orchestrator.new(assert(gt.workflow.load(dir .. "/workflows/w.lua",
      { db = dir .. "/e.db", mode = "backtest" })), { quiet = true })))))
  end)
end)
