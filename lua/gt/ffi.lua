-- gt.ffi: loads engine/gt_ffi.h (embedded in the binary) into ffi.cdef, checks the ABI
-- and the struct layouts, and turns C status codes into Lua errors or nil, message.
local ffi = require "ffi"
local host = require "gt.host"

ffi.cdef(host.cdef)
local C = ffi.C

local M = { C = C, cdef = host.cdef }

local abi = C.gt_abi_version()
if abi ~= C.GT_ABI_VERSION then
  error(("gt.ffi: the engine's ABI is %d but gt_ffi.h declares %d; rebuild gtengine")
    :format(abi, C.GT_ABI_VERSION))
end

-- The message for a failed call rc: the specific one C left for this failure (its code
-- matches rc), else the code's generic text; never a message left by an earlier failure.
-- Reading it clears it.
function M.errmsg(rc)
  local m = ""
  if rc == nil or C.gt_errcode() == rc then m = ffi.string(C.gt_errmsg()) end
  if m == "" and rc then m = ffi.string(C.gt_strerror(rc)) end
  C.gt_clearerr()
  return m
end

-- The one rule for every binding (DESIGN.md section 2): a status that means the caller
-- misused the API (an invalid argument, a value out of range, a call in the wrong state)
-- raises at the caller's caller; any other failure (file, network, data, database, memory)
-- returns nil, message, code name for the caller to handle; success returns rc.
local MISUSE = { [C.GT_EINVAL] = true, [C.GT_ERANGE] = true, [C.GT_ESTATE] = true }
M.MISUSE = MISUSE
function M.result(rc, level)
  if rc >= 0 then return rc end
  rc = tonumber(rc)
  if MISUSE[rc] then error(M.errmsg(rc), (level or 1) + 1) end
  return nil, M.errmsg(rc), ffi.string(C.gt_status_name(rc))
end

-- For environmental failures: returns nil, message, code name when rc < 0, else rc.
function M.try(rc)
  if rc < 0 then
    rc = tonumber(rc)
    return nil, M.errmsg(rc), ffi.string(C.gt_status_name(rc))
  end
  return rc
end

-- For misuse: raises at the caller's caller when rc < 0.
function M.check(rc, level)
  if rc < 0 then error(M.errmsg(tonumber(rc)), (level or 1) + 1) end
  return rc
end

-- Structs and fields as Lua sees them, parsed from the cdef text. Convention in
-- gt_ffi.h: `typedef struct NAME { ... } NAME;` with one field per declaration line.
function M.cdef_structs(text)
  return require("gt.cstructs").parse(text or host.cdef)
end

-- C's layout table as Lua rows {type=, field=, offset=, size=}.
function M.c_layout()
  local p = ffi.new("const gt_layout *[1]")
  local n = tonumber(C.gt_layout_table(p))
  local rows = {}
  for i = 0, n - 1 do
    local r = p[0][i]
    rows[#rows + 1] = {
      type = ffi.string(r.type),
      field = r.field ~= nil and ffi.string(r.field) or nil,
      offset = tonumber(r.offset), size = tonumber(r.size),
    }
  end
  return rows
end

-- Compares a layout table (default: C's) with LuaJIT's view of the same structs, and
-- checks that every struct and field Lua declares is in the table. Returns true, or
-- nil and a message naming each disagreeing struct and field.
function M.check_layout(rows, structs)
  rows = rows or M.c_layout()
  structs = structs or M.cdef_structs()
  local errs, known = {}, {}
  for _, r in ipairs(rows) do
    local key = r.type .. "." .. (r.field or "")
    known[key] = true
    -- Offsets and struct sizes: a field whose size differs moves a later offset or
    -- the struct's size, so both catch it.
    local ok, lsize, loff = pcall(function()
      if r.field then return nil, ffi.offsetof(r.type, r.field) end
      return ffi.sizeof(r.type), -1
    end)
    if not ok then
      errs[#errs + 1] = ("%s.%s: unknown to the FFI (%s)"):format(r.type, r.field or "", lsize)
    elseif r.field and loff == nil then
      errs[#errs + 1] = ("struct %s field %s: unknown to the FFI"):format(r.type, r.field)
    elseif r.field and loff ~= r.offset then
      errs[#errs + 1] = ("struct %s field %s: offset %d in C, %d in the FFI")
        :format(r.type, r.field, r.offset, loff)
    elseif not r.field and lsize ~= r.size then
      errs[#errs + 1] = ("struct %s: size %d in C, %d in the FFI"):format(r.type, r.size, lsize)
    end
  end
  for _, s in ipairs(structs) do
    if not known[s.name .. "."] then
      errs[#errs + 1] = ("struct %s: missing from the C layout table (gt.c)"):format(s.name)
    end
    for _, f in ipairs(s.fields) do
      if not known[s.name .. "." .. f] then
        errs[#errs + 1] = ("struct %s field %s: missing from the C layout table (gt.c)")
          :format(s.name, f)
      end
    end
  end
  if #errs > 0 then return nil, table.concat(errs, "\n") end
  return true
end

return M
