-- workflows/demo.lua: what `make run` runs until the paper-trading workflow exists.
-- It shows the engine is wired: the C core answers through the FFI, and every Lua
-- module the binary carries is listed.
local gt = require "gt"

print(("gtengine %s"):format(gt.version))
local ok, err = require("gt.ffi").check_layout()
print(("C <-> Lua contract: %s"):format(ok and "layouts agree" or err))
print("modules: gt." .. table.concat(gt.modules(), ", gt."))
