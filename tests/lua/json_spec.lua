local json = require "gt.json"

describe("gt.json.encode", function()
  it("sorts keys and encodes nested values", function()
    assert.equal('{"a":[1,2,{"x":true}],"b":"s","c":null}',
      json.encode({ b = "s", a = { 1, 2, { x = true } }, c = 0 / 0 }))
  end)

  it("prints numbers exactly and integers without a fraction", function()
    assert.equal("[0.1,100,-3,1e+300,0.30000000000000004,null,null]",
      json.encode({ 0.1, 100, -3, 1e300, 0.1 + 0.2, math.huge, -math.huge }))
    assert.equal(0.1 + 0.2, tonumber(json.encode(0.1 + 0.2)))
  end)

  it("prints the shortest digits that read back the same double", function()
    -- expected texts are Python's repr() of the same doubles (shortest round-trip, Gay's
    -- algorithm): 1/3 and 2/3 need 16 digits (%.17g would add a 7th/3rd noise digit),
    -- 2^53 + 2 is past the exact-integer range and needs 16, 1e22 fits in 15
    assert.equal("[0.3333333333333333,0.6666666666666666,9007199254740994,1e+22]",
      json.encode({ 1 / 3, 2 / 3, 2 ^ 53 + 2, 1e22 }))
    assert.equal("-32545.217839999925", json.encode(-32545.217839999925))
  end)

  it("copies raw JSON text as it is", function()
    assert.equal('{"a":[1, 2],"b":1}', json.encode({ b = 1, a = json.raw("[1, 2]") }))
  end)

  it("escapes strings", function()
    assert.equal([["a\"b\\c\n\u0001"]], json.encode('a"b\\c\n\1'))
  end)

  it("encodes 64-bit cdata as plain numbers, never with an LL suffix", function()
    assert.equal("1700000000000000", json.encode(1700000000000000LL))
  end)

  it("tells an empty array from an empty object", function()
    assert.equal('{"a":[],"o":{}}', json.encode({ a = json.array(), o = {} }))
  end)

  it("indents on request", function()
    assert.equal('{\n  "a": [\n    1\n  ]\n}', json.encode({ a = { 1 } }, { indent = "  " }))
  end)

  it("refuses what JSON cannot hold", function()
    assert.has_error(function() json.encode({ [1] = 1, [3] = 3 }) end)
    assert.has_error(function() json.encode(print) end)
  end)
end)

describe("gt.json.decode", function()
  it("reads what encode writes, and standard JSON", function()
    local v = json.decode('{"a":[1,2.5,-3e2,{"x":true}],"b":"s\\n\\u00e9\\ud83d\\ude00","c":null,"d":false}')
    assert.same({ 1, 2.5, -300, { x = true } }, { v.a[1], v.a[2], v.a[3], { x = v.a[4].x } })
    assert.equal("s\né😀", v.b)
    assert.is_nil(v.c)
    assert.is_false(v.d)
    local t = { k = { 1, 2, 3 }, s = "q\"uote", f = 0.1 }
    assert.same(t, json.decode(json.encode(t)))
    assert.equal(json.null, json.decode("[null]")[1])
  end)
  it("rejects malformed input with a position", function()
    -- byte positions counted by hand (1-based): where the parser gives up
    for text, why in pairs({ ["{"] = "at byte 1", ["[1,]"] = "at byte 4 near ']'",
      ['{"a" 1}'] = "at byte 6 near '1'", ["[1] x"] = "trailing characters at byte 5",
      ['"abc'] = "JSON: malformed at byte", [""] = "unexpected end", ["[1]\0x"] = "trailing characters at byte 4",
      ["nul"] = "at byte 1" }) do
      local v, err = json.decode(text)
      assert.is_nil(v, text)
      assert.matches(why, err, 1, true)
    end
  end)

  it("reads what the Lua decoder it replaced read: nesting, escapes, empty containers", function()
    local v = assert(json.decode([[ {"a":{"b":{"c":[[],{}]}},"e":"\\\/\"","n":-0.5e-3} ]]))
    assert.same({}, v.a.b.c[1])
    assert.same({}, v.a.b.c[2])
    assert.equal('\\/"', v.e)
    assert.equal(-0.0005, v.n)
    assert.equal(1e300, json.decode("1e300"))
    assert.equal("x", json.decode('"x"'))
    assert.is_true(json.decode("true"))
  end)
end)

describe("gt.json.trades (engine/json.c)", function()
  local gt = require "gt"
  -- The reference is the Lua encoder over Result.trades, the path the C encoder replaced:
  -- both must give the same text, byte for byte.
  local function lua_text(r)
    local sum = r:summary()
    return json.encode(json.array(sum.trades))
  end

  it("writes the same text as encoding the trade tables, open trades and portfolios included", function()
    local s = gt.data.synthetic { n = 600, seed = 2 } -- seed 2 ends in a position
    local r = gt.backtest.run("sma_cross", s, { close_at_end = false, params = { fast = 5, slow = 20 } })
    assert.is_true(r.m > 5)
    assert.is_true(r.trades[#r.trades].exit_bar < 0, "the last trade is still open")
    assert.equal(lua_text(r), json.encode(r:summary { json = true }.trades))
    local a, b = gt.data.synthetic { n = 400, seed = 1 }, gt.data.synthetic { n = 400, seed = 2 }
    a.symbol, b.symbol = "AA\tA", "B\"B"
    local p = gt.backtest.run("momentum", { a, b })
    assert.is_true(p.m > 2)
    assert.equal(lua_text(p), json.encode(p:summary { json = true }.trades))
  end)
end)
