-- A database in a read-only directory or filesystem: the read-only commands (data list,
-- data export, backtest --no-save) work; the writing ones say which path is not writable.
-- Root ignores permissions, so as root the directory is a read-only bind mount (skipped
-- where mounting is not allowed); otherwise chmod makes it read-only.
local t = require "tests.lua.support"

describe("a database on a read-only directory", function()
  local dir, ro, mounted
  before_each(function()
    dir = t.tmpdir()
    os.execute("mkdir " .. t.quote(dir .. "/src") .. " " .. t.quote(dir .. "/ro"))
  end)
  after_each(function()
    if mounted then os.execute("umount " .. t.quote(ro)) end
    os.execute("chmod -R u+w " .. t.quote(dir) .. " 2>/dev/null; rm -rf " .. t.quote(dir))
    mounted = false
  end)

  local function make_read_only()
    local root = (t.sh("id -u")):match("^0") ~= nil
    if root then
      ro = dir .. "/ro"
      local _, _, c1 = t.sh(("mount --bind %s %s"):format(t.quote(dir .. "/src"), t.quote(ro)))
      if c1 ~= 0 then return false end
      mounted = true
      local _, _, c2 = t.sh("mount -o remount,bind,ro " .. t.quote(ro))
      return c2 == 0
    end
    ro = dir .. "/src"
    os.execute("chmod 444 " .. t.quote(ro .. "/t.db") .. "; chmod 555 " .. t.quote(ro))
    return true
  end

  it("lists, exports and backtests with --no-save; import and --out name what is not writable", function()
    local rows = { "Date,Open,High,Low,Close,Volume" }
    for d = 1, 28 do rows[#rows + 1] = ("2024-02-%02d,%d,%d,%d,%d,100"):format(d, 10 + d % 5, 12 + d % 5, 9 + d % 5, 11 + d % 5) end
    local csv = t.write(dir .. "/R.csv", table.concat(rows, "\n") .. "\n")
    assert.equal(0, select(3, t.run(("data import %s --db %s"):format(csv, dir .. "/src/t.db"))))
    if not make_read_only() then return pending("cannot make a read-only directory here (mount not permitted)") end
    local db = ro .. "/t.db"
    local out, err, code = t.run("data list --db " .. db)
    assert.equal(0, code, err)
    assert.matches("R%s+1d%s+28", out)
    out, err, code = t.run("data export --symbol R --db " .. db)
    assert.equal(0, code, err)
    assert.matches("2024-02-28,13,15,12,14,100", out, 1, true) -- 28 % 5 = 3: 10+3, 12+3, 9+3, 11+3
    _, err, code = t.run("backtest --strategy buy_and_hold --symbol R --no-save --db " .. db)
    assert.equal(0, code, err)
    _, err, code = t.run(("data import %s --symbol Z --db %s"):format(csv, db))
    assert.equal(1, code)
    assert.matches("store " .. db .. ": writing bars: attempt to write a readonly database (opened read-only: the file or its directory is not writable", err, 1, true)
    _, err, code = t.run(("data export --symbol R --db %s --out %s"):format(db, ro .. "/x.csv"))
    assert.equal(1, code)
    assert.matches(ro .. "/x.csv: cannot write: the directory " .. ro .. " is not writable", err, 1, true)
    _, err, code = t.run("data list --db " .. ro .. "/new.db")
    assert.equal(1, code)
    assert.matches("store " .. ro .. "/new.db: cannot create it: the directory " .. ro .. " is not writable", err, 1, true)
  end)
end)
