-- gt.fsio: files gtengine writes, whole or not at all (engine/fsio.c). The text goes to a
-- temporary file created exclusively beside the target and is renamed over it only when
-- complete; a target that is a device, a symlink or a directory is refused. Errors name
-- the caller's path.
--   assert(fsio.write("out/r.html", html))
--   local w = assert(fsio.open("x.csv")); w:write("a", "b"); assert(w:commit())  -- or w:abort()
--   fsio.stat(path) -> "none" | "file" | "dir" | "other", size (files only)
--   fsio.mtime(path) -> size, mtime_ns of a regular file (nil when there is none); one
--                       stat(2), no allocation: what a watcher polls (gt.reload)
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

function M.write(path, text)
  if type(path) ~= "string" or path == "" then error("gt.fsio.write: path must be a string", 2) end
  if type(text) ~= "string" then error("gt.fsio.write: text must be a string", 2) end
  local rc = C.gt_file_write_atomic(path, text, #text)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return true
end

local Writer = {}
Writer.__index = Writer
local FLUSH = 1024 * 1024 -- bytes buffered in Lua before one C write

-- A streaming writer: write(...) buffers, commit() puts the file in place, abort() drops it.
function M.open(path)
  if type(path) ~= "string" or path == "" then error("gt.fsio.open: path must be a string", 2) end
  local out = ffi.new("gt_file *[1]")
  local rc = C.gt_file_create(path, out)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return setmetatable({ _f = ffi.gc(out[0], C.gt_file_abort), _buf = {}, _n = 0, path = path }, Writer)
end

local function flush(self)
  if self._n == 0 then return true end
  local s = table.concat(self._buf)
  self._buf, self._n = {}, 0
  local rc = C.gt_file_write(self._f, s, #s)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return true
end

-- Like file:write: returns the writer, or nil, err. After a failed write the rest are
-- dropped and commit() returns that error, so a loop need not check every call.
function Writer:write(...)
  if self._f == nil then error("gt.fsio: " .. self.path .. " is already closed", 2) end
  if self._err then return nil, self._err end
  local buf = self._buf
  for i = 1, select("#", ...) do
    local v = tostring((select(i, ...)))
    buf[#buf + 1] = v
    self._n = self._n + #v
  end
  if self._n >= FLUSH then
    local ok, err = flush(self)
    if not ok then self._err = err; return nil, err end
  end
  return self
end

function Writer:commit()
  if self._f == nil then error("gt.fsio: " .. self.path .. " is already closed", 2) end
  local ok, err = true, self._err
  if err then ok = nil else ok, err = flush(self) end
  local f = ffi.gc(self._f, nil)
  self._f = nil
  if not ok then C.gt_file_abort(f); return nil, err end
  local rc = C.gt_file_commit(f)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return true
end

function Writer:abort()
  if self._f ~= nil then C.gt_file_abort(ffi.gc(self._f, nil)); self._f = nil end
end

local TYPES = { [0] = "none", "file", "dir", "other" }

function M.stat(path)
  if type(path) ~= "string" then error("gt.fsio.stat: path must be a string", 2) end
  local size, kind = ffi.new("int64_t[1]"), ffi.new("int32_t[1]")
  local rc = C.gt_file_stat(path, size, kind)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return TYPES[kind[0]], size[0] >= 0 and tonumber(size[0]) or nil
end

local msize, mns = ffi.new("int64_t[1]"), ffi.new("int64_t[1]")
function M.mtime(path)
  if type(path) ~= "string" then error("gt.fsio.mtime: path must be a string", 2) end
  local rc = C.gt_file_mtime(path, msize, mns)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  if msize[0] < 0 then return nil end
  return tonumber(msize[0]), tonumber(mns[0])
end

return M
