local gtffi = require "gt.ffi"
local ffi = require "ffi"

describe("gt.ffi", function()
  it("loads the embedded gt_ffi.h and matches the engine's ABI", function()
    assert.equal(gtffi.C.GT_ABI_VERSION, gtffi.C.gt_abi_version())
    assert.is_truthy(gtffi.cdef:find("gt_layout_table", 1, true))
    assert.is_nil(gtffi.cdef:find("#ifndef", 1, true), "preprocessor lines are stripped")
  end)

  it("agrees with C on every struct's size and every field's offset", function()
    local ok, err = gtffi.check_layout()
    assert.is_true(ok, err)
    -- the table really covers the structs the FFI declares
    local structs = gtffi.cdef_structs()
    assert.is_true(#structs >= 1)
    local rows = gtffi.c_layout()
    local n = 0
    for _, s in ipairs(structs) do n = n + 1 + #s.fields end
    assert.equal(n, #rows)
  end)

  it("reports a field whose C offset disagrees, naming struct and field", function()
    local rows = gtffi.c_layout()
    for _, r in ipairs(rows) do
      if r.type == "gt_layout" and r.field == "offset" then r.offset = r.offset + 4 end
    end
    local ok, err = gtffi.check_layout(rows)
    assert.is_nil(ok)
    assert.matches("struct gt_layout field offset: offset 20 in C, 16 in the FFI", err, 1, true)
  end)

  it("reports a struct size mismatch and a struct missing from the C table", function()
    local rows = gtffi.c_layout()
    rows[1].size = rows[1].size + 8
    local ok, err = gtffi.check_layout(rows, {
      { name = "gt_layout", fields = { "type", "field", "offset", "size" } },
      { name = "gt_phantom", fields = { "x" } },
    })
    assert.is_nil(ok)
    assert.matches("struct gt_layout: size 40 in C, 32 in the FFI", err, 1, true)
    assert.matches("struct gt_phantom: missing from the C layout table", err, 1, true)
    assert.matches("struct gt_phantom field x: missing", err, 1, true)
  end)

  it("parses struct fields from cdef text", function()
    local s = gtffi.cdef_structs([[
      typedef struct gt_t { int64_t a; /* note; */ double b[4]; const char *c; } gt_t;
    ]])
    assert.same({ { name = "gt_t", fields = { "a", "b", "c" } } }, s)
  end)

  it("turns status codes into messages", function()
    local C = gtffi.C
    C.gt_clearerr()
    local v, msg, name = gtffi.try(-4)
    assert.is_nil(v)
    assert.equal("parse error", msg)
    assert.equal("GT_EPARSE", name)
    assert.equal(3, gtffi.try(3))
    assert.has_error(function() gtffi.check(-1) end, "out of memory")
    assert.equal("GT_EDENIED", ffi.string(C.gt_status_name(-15)))
  end)

  it("names status codes in the contract, never a stale message, and applies one rule", function()
    local C = gtffi.C
    assert.equal(-2, C.GT_EINVAL); assert.equal(-6, C.GT_ENOTFOUND); assert.equal(-15, C.GT_EDENIED)
    -- a failure with a specific message...
    local out = ffi.new("gt_store *[1]")
    local rc = C.gt_store_open("/nonexistent-dir/x/y.db", out)
    assert.is_true(rc < 0)
    assert.equal(tonumber(rc), C.gt_errcode())
    assert.matches("/nonexistent%-dir/x/y%.db", ffi.string(C.gt_errmsg()))
    -- ...is not reported for a later failure with another code that left none
    assert.equal("out of memory", gtffi.errmsg(C.GT_ENOMEM))
    -- reading it clears it
    rc = C.gt_store_open("/nonexistent-dir/x/y.db", out)
    assert.matches("y%.db", gtffi.errmsg(tonumber(rc)))
    assert.equal("", ffi.string(C.gt_errmsg())); assert.equal(0, C.gt_errcode())
    -- misuse raises, environmental failure returns nil, message, code
    assert.has_error(function() gtffi.result(C.GT_EINVAL) end, "invalid argument")
    assert.has_error(function() gtffi.result(C.GT_ESTATE) end)
    local v, msg, name = gtffi.result(C.GT_EIO)
    assert.is_nil(v); assert.equal("input/output error", msg); assert.equal("GT_EIO", name)
    assert.equal(5, gtffi.result(5))
  end)
end)
