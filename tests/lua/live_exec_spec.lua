-- The ledger under an external broker (engine/bt.c, GT_FILL_EXTERNAL), which a live session
-- (gt.live_exec) keeps as its books: orders are booked and gated but never matched by the
-- bars; the broker's fills and closes move the books. Every expected number below is worked
-- by hand from a series whose bar i closes at 100 + i, with no commission or slippage.
local ffi = require "ffi"
local gt = require "gt"
local C = require("gt.ffi").C
local NAN = 0 / 0

local function series(n)
  local ts, px = {}, {}
  for i = 1, n do ts[i] = (i - 1) * 86400 * 1000000; px[i] = 100 + i - 1 end
  return gt.series.from_columns { ts = ts, open = px, high = px, low = px, close = px, volume = px }
end

local function broker(mode, s)
  local cfg = ffi.new("gt_bt_config")
  cfg.capital, cfg.commission, cfg.slippage_bps, cfg.leverage = 10000, 0, 0, 1
  cfg.fill_mode, cfg.comm_kind, cfg.size_at, cfg.end_price = mode, C.GT_COMM_PCT, C.GT_SIZE_AT_SIGNAL, C.GT_END_CLOSE
  local arr = ffi.new("const gt_series *[1]")
  arr[0] = s._c
  local bt = C.gt_bt_new(cfg, arr, 1)
  assert(bt ~= nil, require("gt.ffi").errmsg())
  return ffi.gc(bt, C.gt_bt_free), arr
end

local function position(bt)
  local p = ffi.new("gt_position")
  C.gt_bt_position(bt, 0, p)
  return p.qty, p.avg_price
end

describe("the ledger under an external broker (GT_FILL_EXTERNAL)", function()
  local s = series(6)

  it("books a target as a working order that no bar fills; the broker's fills move the books", function()
    local bt, keep = broker(C.GT_FILL_EXTERNAL, s)
    assert.equal(0, C.gt_bt_begin_bar(bt, 0))
    -- half of 10,000 at the close of 100: 50 shares
    local id = C.gt_bt_target_exits(bt, 0, 0.5, 0, NAN, NAN)
    assert.equal(1, tonumber(id))
    local o = C.gt_bt_order(bt, 1)
    assert.equal(C.GT_ORDER_OPEN, o.status); assert.equal(50, o.qty)
    assert.equal(0, C.gt_bt_end_bar(bt, 0))
    assert.equal(10000, C.gt_bt_cash(bt))
    -- the next bars do not fill it (a simulated broker would at the open of 101)
    assert.equal(0, C.gt_bt_begin_bar(bt, 1))
    assert.equal(C.GT_ORDER_OPEN, C.gt_bt_order(bt, 1).status)
    -- while it works, the symbol books nothing new, not even "flat" (which looks like no
    -- change while nothing has filled): the intent waits (GT_EBUSY)
    assert.equal(C.GT_EBUSY, tonumber(C.gt_bt_target_exits(bt, 0, 0, 0, NAN, NAN)))
    assert.equal(C.GT_EBUSY, tonumber(C.gt_bt_target_exits(bt, 0, 0.3, 1, NAN, NAN)))
    -- 20 at 101: partial; cash 10,000 - 2,020 = 7,980
    assert.equal(0, C.gt_bt_external_fill(bt, 1, 20, 101, 0, 1))
    assert.equal(C.GT_ORDER_PARTIAL, C.gt_bt_order(bt, 1).status)
    assert.equal(7980, C.gt_bt_cash(bt))
    -- 30 at 102: filled; average (20 * 101 + 30 * 102) / 50 = 101.6; cash 7,980 - 3,060 = 4,920
    assert.equal(0, C.gt_bt_external_fill(bt, 1, 30, 102, 0, 2))
    assert.equal(C.GT_ORDER_FILLED, C.gt_bt_order(bt, 1).status)
    local q, avg = position(bt)
    assert.equal(50, q); assert.near(101.6, avg, 1e-12)
    assert.equal(4920, C.gt_bt_cash(bt))
    assert.equal(0, C.gt_bt_end_bar(bt, 1))
    -- equity at the close of 101: 4,920 + 50 * 101 = 9,970
    assert.equal(9970, C.gt_bt_equity_now(bt))
    -- the broker is the truth: a fill past the booked size raises it (an order adopted at
    -- the broker's size), and the position follows
    assert.equal(0, C.gt_bt_external_fill(bt, 1, 5, 102, 0, 3))
    assert.equal(55, C.gt_bt_order(bt, 1).qty)
    assert.equal(55, (position(bt)))
    local _ = keep
  end)

  it("closes orders the broker closed, and still books a fill that crossed the cancel", function()
    local bt, keep = broker(C.GT_FILL_EXTERNAL, s)
    C.gt_bt_begin_bar(bt, 0)
    C.gt_bt_target_exits(bt, 0, 0.5, 0, NAN, NAN)
    C.gt_bt_external_fill(bt, 1, 50, 100, 0, 0)
    C.gt_bt_end_bar(bt, 0)
    C.gt_bt_begin_bar(bt, 1)
    -- flat: sell the 50
    assert.equal(2, tonumber(C.gt_bt_target_exits(bt, 0, 0, 0, NAN, NAN)))
    assert.equal(C.GT_SELL, C.gt_bt_order(bt, 2).side)
    assert.equal(0, C.gt_bt_external_close(bt, 2, C.GT_ORDER_CANCELED))
    assert.equal(C.GT_ORDER_CANCELED, C.gt_bt_order(bt, 2).status)
    -- closing it again, or closing a filled order, changes nothing
    assert.equal(0, C.gt_bt_external_close(bt, 2, C.GT_ORDER_EXPIRED))
    assert.equal(C.GT_ORDER_CANCELED, C.gt_bt_order(bt, 2).status)
    assert.equal(0, C.gt_bt_external_close(bt, 1, C.GT_ORDER_CANCELED))
    assert.equal(C.GT_ORDER_FILLED, C.gt_bt_order(bt, 1).status)
    -- 10 sold at 103 before the cancel reached the broker: 40 left, cash 5,000 + 1,030
    assert.equal(0, C.gt_bt_external_fill(bt, 2, 10, 103, 0, 1))
    assert.equal(40, (position(bt)))
    assert.equal(6030, C.gt_bt_cash(bt))
    assert.equal(C.GT_ORDER_CANCELED, C.gt_bt_order(bt, 2).status)
    -- the symbol is free again: a new target books
    assert.equal(3, tonumber(C.gt_bt_target_exits(bt, 0, 0, 0, NAN, NAN)))
    assert.equal(40, C.gt_bt_order(bt, 3).qty)
    local _ = keep
  end)

  it("refuses what an external broker cannot mean, naming it", function()
    local bt, keep = broker(C.GT_FILL_EXTERNAL, s)
    local errmsg = require("gt.ffi").errmsg
    C.gt_bt_begin_bar(bt, 0)
    assert.equal(C.GT_EINVAL, tonumber(C.gt_bt_target_exits(bt, 0, 0.5, 0, 95, NAN)))
    assert.matches("carry no stop or take%-profit", errmsg())
    C.gt_bt_target_exits(bt, 0, 0.5, 0, NAN, NAN)
    assert.equal(C.GT_EINVAL, C.gt_bt_external_fill(bt, 1, 0, 100, 0, 0))
    assert.equal(C.GT_EINVAL, C.gt_bt_external_fill(bt, 1, 5, NAN, 0, 0))
    assert.equal(C.GT_EINVAL, C.gt_bt_external_fill(bt, 1, 5, -1, 0, 0))
    assert.equal(C.GT_EINVAL, C.gt_bt_external_fill(bt, 1, 5, 100, -0.5, 0))
    assert.equal(C.GT_EINVAL, C.gt_bt_external_fill(bt, 1, 1 / 0, 100, 0, 0))
    assert.equal(C.GT_ENOTFOUND, C.gt_bt_external_fill(bt, 9, 5, 100, 0, 0))
    assert.equal(C.GT_EINVAL, C.gt_bt_external_close(bt, 1, C.GT_ORDER_FILLED))
    assert.equal(C.GT_ENOTFOUND, C.gt_bt_external_close(bt, 9, C.GT_ORDER_CANCELED))
    -- a rejected order cannot fill
    assert.equal(0, C.gt_bt_external_close(bt, 1, C.GT_ORDER_REJECTED))
    assert.equal(C.GT_ESTATE, C.gt_bt_external_fill(bt, 1, 5, 100, 0, 0))
    assert.equal(10000, C.gt_bt_cash(bt))
    assert.equal(0, (position(bt)))
    -- a simulated broker takes no external fills or closes
    local sim, keep2 = broker(C.GT_FILL_CLOSE, s)
    C.gt_bt_begin_bar(sim, 0)
    C.gt_bt_target_exits(sim, 0, 0.5, 0, NAN, NAN)
    assert.equal(C.GT_ESTATE, C.gt_bt_external_fill(sim, 1, 5, 100, 0, 0))
    assert.equal(C.GT_ESTATE, C.gt_bt_external_close(sim, 1, C.GT_ORDER_CANCELED))
    -- and GT_EBUSY is the external broker's alone: the simulated one replaces a working target
    local nxt, keep3 = broker(C.GT_FILL_NEXT_OPEN, s)
    C.gt_bt_begin_bar(nxt, 0)
    assert.equal(1, tonumber(C.gt_bt_target_exits(nxt, 0, 0.5, 0, NAN, NAN)))
    assert.equal(2, tonumber(C.gt_bt_target_exits(nxt, 0, 0.3, 1, NAN, NAN)))
    assert.equal(C.GT_ORDER_CANCELED, C.gt_bt_order(nxt, 1).status)
    local _ = { keep, keep2, keep3 }
  end)

  it("books an order the broker made (a flatten's close) past a halted gate, and fills it", function()
    local bt, keep = broker(C.GT_FILL_EXTERNAL, s)
    local gate = gt.risk.new("paper")
    C.gt_bt_set_risk(bt, gate.h, ffi.new("const char *[1]", { "T" }))
    C.gt_bt_begin_bar(bt, 0)
    C.gt_bt_target_exits(bt, 0, 0.1, 0, NAN, NAN) -- 10 shares
    C.gt_bt_external_fill(bt, 1, 10, 100, 0, 0)
    gate:halt("kill switch")
    assert.equal(2, tonumber(C.gt_bt_target_exits(bt, 0, 0, 0, NAN, NAN)))
    assert.equal(C.GT_ORDER_REJECTED, C.gt_bt_order(bt, 2).status) -- the gate refuses its own
    local id = C.gt_bt_external_order(bt, 0, C.GT_SELL, 10)
    assert.equal(3, tonumber(id))
    assert.equal(C.GT_ORDER_OPEN, C.gt_bt_order(bt, 3).status)
    assert.equal(0, C.gt_bt_external_fill(bt, 3, 10, 104, 0, 1))
    assert.equal(0, (position(bt)))
    assert.equal(10040, C.gt_bt_cash(bt)) -- 10,000 - 1,000 + 1,040
    assert.equal(C.GT_EINVAL, tonumber(C.gt_bt_external_order(bt, 0, 0, 10)))
    assert.equal(C.GT_EINVAL, tonumber(C.gt_bt_external_order(bt, 0, C.GT_BUY, 0)))
    assert.equal(C.GT_EINVAL, tonumber(C.gt_bt_external_order(bt, 3, C.GT_BUY, 1)))
    local sim, keep2 = broker(C.GT_FILL_CLOSE, s)
    assert.equal(C.GT_ESTATE, tonumber(C.gt_bt_external_order(sim, 0, C.GT_BUY, 1)))
    local _ = { keep, keep2, gate }
  end)

  it("the snapshot of external books restores them exactly (a live session's resume)", function()
    local bt, keep = broker(C.GT_FILL_EXTERNAL, s)
    C.gt_bt_begin_bar(bt, 0)
    C.gt_bt_target_exits(bt, 0, 0.5, 0, NAN, NAN)
    C.gt_bt_external_fill(bt, 1, 20, 101, 0, 0)
    C.gt_bt_end_bar(bt, 0)
    local L = C.gt_bt_ledger(bt)
    local n = tonumber(C.gt_ledger_snapshot(L, nil, 0))
    local buf = ffi.new("uint8_t[?]", n)
    C.gt_ledger_snapshot(L, buf, n)
    local bt2, keep2 = broker(C.GT_FILL_EXTERNAL, s)
    assert.equal(0, C.gt_ledger_restore(C.gt_bt_ledger(bt2), buf, n))
    assert.equal(0, C.gt_bt_resume_at(bt2, 0))
    assert.equal(C.GT_ORDER_PARTIAL, C.gt_bt_order(bt2, 1).status)
    assert.equal(7980, C.gt_bt_cash(bt2))
    -- the restored order is still working: the rest fills into it
    C.gt_bt_begin_bar(bt2, 1)
    assert.equal(0, C.gt_bt_external_fill(bt2, 1, 30, 101, 0, 1))
    assert.equal(C.GT_ORDER_FILLED, C.gt_bt_order(bt2, 1).status)
    assert.equal(50, (position(bt2)))
    local _ = { keep, keep2 }
  end)
end)

describe("a live session's kill switch with --flatten", function()
  local alpaca = dofile("tests/lua/fixtures/broker/fakealpaca.lua")
  if not alpaca.available() then
    it("needs the fake Alpaca", function() pending("build " .. alpaca.bin .. " (make test builds it)") end)
    return
  end
  local t = require "tests.lua.support"

  it("cancels at the broker, closes the positions there, and books the closes", function()
    local b = assert(alpaca.start("market open\nprice AAA 100 101 102 103\nprice BBB 50 51 52\n"))
    pcall(ffi.cdef, "int setenv(const char *, const char *, int);")
    ffi.C.setenv("APCA_API_KEY_ID", alpaca.KEY_ID, 1)
    ffi.C.setenv("APCA_API_SECRET_KEY", alpaca.SECRET, 1)
    local db = t.tmpdir() .. "/flat.db"
    local long = { name = "long", lookback = 0, rule = function() return 1 end }
    local wf = gt.workflow.from_table({ mode = "live", symbols = { "AAA", "BBB" }, db = db, strategy = long,
      regime = false, risk = "off", capital = 10000, data = { source = "synthetic", bars = 40 },
      sizing = { method = "fixed", fixed_fraction = 0.3, max_position = 0.3 },
      broker = { kind = "alpaca", base_url = b.url }, feed = { warmup = 5 }, monitor = { progress = false } },
      "spec/flat.lua")
    local held_before
    local sess = assert(gt.orchestrator.new(wf, { quiet = true, after_cycle = function(s)
      if s.state.bar == 10 then
        held_before = #b:state().positions
        local store = assert(gt.store.open(db))
        assert(store:set_control("flatten", "1")); assert(store:set_control("halt", "spec flatten"))
        store:close()
      end
    end }))
    local sm = assert(sess:run())
    local st = b:state()
    b:stop()
    assert.equal(2, held_before) -- both bought before the switch
    assert.equal(0, #st.positions) -- the broker holds nothing after it
    assert.equal("HALTED", sm.breaker)
    assert.equal(0, #sm.positions) -- and the books agree: the closes were booked and filled
    assert.is_true(sm.live.killed)
    -- every broker fill is in the journal once; the closes are orders of the books
    local J = assert(gt.journal.open(db, { readonly = true }))
    local fills = assert(J:query { session = sm.session, type = "fill" })
    local cmds = assert(J:query { session = sm.session, type = "command" })
    J:close()
    assert.equal(#st.activities, #fills)
    assert.equal(4, #fills) -- two buys, two closes
    local saw
    for _, c in ipairs(cmds) do saw = saw or (c.reason or ""):find("close all positions", 1, true) end
    assert.truthy(saw)
  end)
end)
