-- gt.paths: where user-editable files live. Strategies and workflows load from disk,
-- first relative to the working directory, then from the installed share directory
-- (<prefix>/share/gtengine, found next to the executable).
local host = require "gt.host"

local M = {}

local function dirname(p) return p:match("^(.*)/[^/]*$") or "." end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close(); return true end
  return false
end
M.exists = exists

-- Search roots, most specific first. GT_HOME overrides the share directory.
function M.roots()
  local roots = { "." }
  local home = os.getenv("GT_HOME")
  if home and home ~= "" then roots[#roots + 1] = home end
  if host.exe and host.exe ~= "" then
    -- a build tree (./gtengine next to strategies/), then an install (bin/../share/gtengine)
    local dir = dirname(host.exe)
    if dir ~= "." and exists(dir .. "/strategies/buy_and_hold.lua") then roots[#roots + 1] = dir end
    roots[#roots + 1] = dirname(dir) .. "/share/gtengine"
  end
  if host.prefix then roots[#roots + 1] = host.prefix .. "/share/gtengine" end
  return roots
end

local singular = { strategies = "strategy", workflows = "workflow", examples = "example" }

-- Finds kind/name.lua ("strategies", "sma_cross") under the roots; returns the path or
-- nil and a message that lists what is available.
function M.find(kind, name, roots)
  roots = roots or M.roots()
  if name:find("/", 1, true) or name:match("%.lua$") then
    if exists(name) then return name end
    return nil, ("no %s file '%s'"):format(kind, name)
  end
  for _, root in ipairs(roots) do
    local p = root .. "/" .. kind .. "/" .. name .. ".lua"
    if exists(p) then return p end
  end
  local avail = M.list(kind, roots)
  return nil, ("no %s named '%s' (looked in %s); available: %s"):format(
    singular[kind] or kind, name, table.concat(roots, ", "),
    #avail > 0 and table.concat(avail, ", ") or "none")
end

-- Names available under kind/ in every root, sorted, without duplicates.
function M.list(kind, roots)
  local seen, out = {}, {}
  for _, root in ipairs(roots or M.roots()) do
    local p = io.popen(("ls -1 '%s/%s' 2>/dev/null"):format(root:gsub("'", "'\\''"), kind))
    if p then
      for line in p:lines() do
        local n = line:match("^([%w_%-]+)%.lua$")
        if n and not seen[n] then seen[n] = true; out[#out + 1] = n end
      end
      p:close()
    end
  end
  table.sort(out)
  return out
end

-- Compiles a user file as Lua source only. Precompiled LuaJIT bytecode is refused:
-- LuaJIT does not verify bytecode, so a crafted file could crash the process or read
-- any memory. Returns the chunk, or nil and a message naming the file.
local raw_loadfile = loadfile -- before source_only_globals replaces the global
function M.loadfile_source(path)
  local f = io.open(path, "rb")
  if f then
    local head = f:read(4096) or ""
    f:close()
    head = head:gsub("^#[^\n]*\n?", "", 1) -- LuaJIT skips a first line starting with #
    if head:sub(1, 1) == "\27" then
      return nil, ("%s: is precompiled bytecode; gtengine loads Lua source only"):format(path)
    end
  end
  local chunk, err = raw_loadfile(path, "t")
  if not chunk and err and err:find("wrong mode", 1, true) then
    return nil, ("%s: is precompiled bytecode; gtengine loads Lua source only"):format(path)
  end
  return chunk, err
end

-- Makes every loader a script can reach source-only: load, loadstring, loadfile, dofile and
-- require of Lua files refuse precompiled bytecode (mutated bytecode crashes LuaJIT; the
-- embedded library is loaded by the host, not through these). Idempotent.
local raw_load = load
local BYTECODE = "precompiled bytecode; gtengine loads Lua source only"
function M.source_only_globals()
  if rawget(_G, "__gt_source_only") then return end
  rawset(_G, "__gt_source_only", true)
  local function text_only(chunk, err, name)
    if not chunk and err and err:find("wrong mode", 1, true) then
      return nil, ("%s: is %s"):format(name or "chunk", BYTECODE)
    end
    return chunk, err
  end
  _G.load = function(chunk, name, _, env)
    local f, err = raw_load(chunk, name, "t", env)
    return text_only(f, err, name)
  end
  _G.loadstring = function(s, name)
    local chunk, err = raw_load(s, name, "t")
    return text_only(chunk, err, name)
  end
  _G.loadfile = function(path, _, env)
    local chunk, err = M.loadfile_source(path)
    if chunk and env then setfenv(chunk, env) end
    return chunk, err
  end
  _G.dofile = function(path)
    local chunk, err = M.loadfile_source(path)
    if not chunk then error(err, 2) end
    return chunk()
  end
  -- require: the Lua-file searcher (the first after preload that is not the host's
  -- embedded-module searcher) reads source only
  local loaders = package.loaders or package.searchers
  local slot = 2
  while loaders[slot] and loaders[slot] == host.searcher do slot = slot + 1 end
  loaders[slot] = function(name)
    local path, err = package.searchpath(name, package.path)
    if not path then return err end
    local chunk, lerr = M.loadfile_source(path)
    if not chunk then error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, lerr), 0) end
    return chunk, path
  end
end

-- Loads a user file in its own environment where reading or writing an undeclared
-- global is an error (a typo in a strategy must not silently read nil); `gt` is there as
-- in a script or the REPL, without a require. Source only. text: the file's content when
-- the caller has read it already (gt.reload hashes what it compiles); messages still name
-- path and line.
function M.load_strict(path, text)
  local chunk, err
  if text ~= nil then
    if text:gsub("^#[^\n]*\n?", "", 1):sub(1, 1) == "\27" then
      return nil, ("%s: is precompiled bytecode; gtengine loads Lua source only"):format(path)
    end
    chunk, err = raw_load(text, "@" .. path, "t")
  else
    chunk, err = M.loadfile_source(path)
  end
  if not chunk then return nil, err end
  local env = setmetatable({ gt = require "gt" }, {
    __index = function(_, k)
      local v = _G[k]
      if v == nil then error(("undeclared global '%s' in %s"):format(tostring(k), path), 2) end
      return v
    end,
    __newindex = function(_, k)
      error(("assignment to undeclared global '%s' in %s (use local)"):format(tostring(k), path), 2)
    end,
  })
  setfenv(chunk, env)
  local ok, res = pcall(chunk)
  if not ok then return nil, res end
  return res
end

return M
