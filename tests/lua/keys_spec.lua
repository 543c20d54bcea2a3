-- gt.keys reads key files with the one JSON parser (cJSON through gt.json).
local t = require "tests.lua.support"
local keys = require "gt.keys"

local function keyfile(text)
  local dir = t.tmpdir()
  local p = dir .. "/alpaca.json"
  t.write(p, text)
  os.execute("chmod 600 " .. t.quote(p))
  return p, dir
end

describe("gt.keys key files", function()
  it("decodes JSON escapes in the values (the pattern reader it replaced refused them)", function()
    -- \/ is "/" and \u0041 is "A" (JSON escapes, RFC 8259 section 7)
    local p, dir = keyfile('{ "secret_key": "ab\\/c\\u0041", "key_id": "PK1" }')
    local k = assert(keys.alpaca { key_file = p })
    assert.equal("PK1", k.key_id)
    assert.equal("ab/cA", k.secret_key)
    os.execute("rm -rf " .. t.quote(dir))
  end)

  it("names the file and the byte of malformed JSON, never a byte of the secret", function()
    local p, dir = keyfile('{"key_id": "PK1", "secret_key": "Zsecret" Q}')
    local k, err = keys.alpaca { key_file = p }
    assert.is_nil(k)
    assert.matches(p, err, 1, true)
    -- byte 43 is the Q: { 1, "key_id" 2-9, : 10, "PK1" 12-16, , 17, "secret_key" 19-30, : 31,
    -- "Zsecret" 33-41, a space 42 (counted by hand, 1-based)
    assert.matches("malformed at byte 43", err, 1, true)
    assert.is_nil(err:find("Zsecret", 1, true))
    assert.is_nil(err:find("'Q'", 1, true))
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
