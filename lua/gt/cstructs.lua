-- gt.cstructs: the structs of a C declaration text and their fields, by the convention of
-- gt_ffi.h (`typedef struct NAME { ... } NAME;`, one field per declaration). Used at build
-- time by engine/embed.lua (to generate C's struct layout table) and at run time by gt.ffi
-- (to compare that table with LuaJIT's view), so both read the header the same way. Plain
-- Lua: it must run under a bare luajit during the build.
local M = {}

function M.parse(text)
  local out = {}
  for name, body in text:gmatch("typedef%s+struct%s+([%w_]+)%s*(%b{})") do
    local fields = {}
    for decl in body:sub(2, -2):gsub("/%*.-%*/", ""):gmatch("[^;]+;") do
      local field = decl:match("([%a_][%w_]*)%s*%[[^%]]*%]%s*;") or decl:match("([%a_][%w_]*)%s*;")
      if field then fields[#fields + 1] = field end
    end
    out[#out + 1] = { name = name, fields = fields }
  end
  return out
end

return M
