-- gt: the gtengine Lua library. `local gt = require "gt"`.
-- Submodules load on first use: gt.data, gt.ind, gt.backtest, ... are require("gt.data")
-- and so on, so start-up costs nothing for the parts a script does not touch.
local host = require "gt.host"

local M = {
  version = host.version,
}

local function module_missing(err, name)
  return type(err) == "string" and err:find("module '" .. name .. "' not found", 1, true)
end

setmetatable(M, {
  __index = function(t, k)
    if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then return nil end
    local name = "gt." .. k
    local ok, mod = pcall(require, name)
    if not ok then
      if module_missing(mod, name) then return nil end
      error(mod, 2) -- the module exists but failed to load: say why
    end
    rawset(t, k, mod)
    return mod
  end,
})

-- Names of every submodule, embedded or on GT_LUA_PATH, for completion and docs.
function M.modules()
  local seen, out = {}, {}
  for _, name in ipairs(host.modules()) do
    local sub = name:match("^gt%.([%w_]+)$")
    if sub and not seen[sub] then seen[sub] = true; out[#out + 1] = sub end
  end
  table.sort(out)
  return out
end

return M
