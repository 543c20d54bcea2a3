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
    for text, why in pairs({ ["{"] = "expected a string key", ["[1,]"] = "unexpected ']'", ['{"a" 1}'] = "expected ':'",
      ["01"] = "unexpected '0'", ["[1] x"] = "trailing characters", ['"abc'] = "unterminated string",
      ["1."] = "unexpected '1'", [""] = "unexpected end" }) do
      local v, err = json.decode(text)
      assert.is_nil(v, text)
      assert.matches(why, err, 1, true)
    end
  end)
end)
