-- gt.fsio and its users (report.write, data export --out): files written whole through a
-- temporary file created exclusively beside the target; no writing through planted
-- symlinks, no replacing devices or FIFOs; errors name the user's path.
local fsio = require "gt.fsio"
local t = require "tests.lua.support"

local function slurp(p)
  local f = io.open(p, "rb"); if not f then return nil end
  local s = f:read("*a"); f:close(); return s
end
local function ls(dir) return (t.sh("ls -A " .. t.quote(dir))) end
local root = (t.sh("id -u")):match("^0") ~= nil

describe("gt.fsio", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() os.execute("chmod -R u+w " .. t.quote(dir) .. "; rm -rf " .. t.quote(dir)) end)

  it("writes and replaces a file, leaving no temporary file behind", function()
    assert.is_true(fsio.write(dir .. "/a.txt", "one"))
    assert.is_true(fsio.write(dir .. "/a.txt", "two"))
    assert.equal("two", slurp(dir .. "/a.txt"))
    assert.equal("a.txt\n", ls(dir))
    local w = assert(fsio.open(dir .. "/b.txt"))
    w:write("x", 1, "y"); w:write(("z"):rep(2 * 1024 * 1024)) -- past the 1 MiB flush
    assert.is_nil(slurp(dir .. "/b.txt"), "nothing at the target before commit")
    assert.is_true(w:commit())
    assert.equal("x1y" .. ("z"):rep(2 * 1024 * 1024), slurp(dir .. "/b.txt"))
    local w2 = assert(fsio.open(dir .. "/c.txt"))
    w2:write("half"); w2:abort()
    assert.equal("a.txt\nb.txt\n", ls(dir), "abort leaves nothing")
  end)

  it("refuses a target that is a FIFO, a symlink or a directory, naming it", function()
    os.execute("mkfifo " .. t.quote(dir .. "/fifo"))
    local ok, err = fsio.write(dir .. "/fifo", "x")
    assert.is_nil(ok)
    assert.equal(dir .. "/fifo exists and is a FIFO, not a regular file; gtengine replaces only regular files: choose another path", err)
    t.write(dir .. "/victim", "keep")
    os.execute(("ln -s %s %s"):format(t.quote(dir .. "/victim"), t.quote(dir .. "/link")))
    ok, err = fsio.write(dir .. "/link", "x")
    assert.is_nil(ok); assert.matches("link exists and is a symbolic link", err, 1, true)
    os.execute("mkdir " .. t.quote(dir .. "/sub"))
    ok, err = fsio.write(dir .. "/sub", "x")
    assert.is_nil(ok); assert.matches("sub exists and is a directory", err, 1, true)
    assert.equal("keep", slurp(dir .. "/victim"))
    assert.is_true(t.sh("test -p " .. t.quote(dir .. "/fifo") .. " && echo fifo") == "fifo\n")
  end)

  it("makes missing directories; one that cannot be made or written is named, never a temporary file", function()
    assert.is_true(fsio.write(dir .. "/no/such/r.html", "x")) -- like mkdir -p, then the file
    assert.same({ "file", 1 }, { fsio.stat(dir .. "/no/such/r.html") })
    t.write(dir .. "/afile", "not a directory")
    local ok, err = fsio.write(dir .. "/afile/sub/r.html", "x")
    assert.is_nil(ok)
    assert.equal(dir .. "/afile/sub/r.html: Not a directory", err) -- a file stands in the way
    assert.not_matches("XXXX", err)
    if root then return pending("running as root: a read-only directory is still writable") end
    os.execute("mkdir " .. t.quote(dir .. "/ro") .. " && chmod 555 " .. t.quote(dir .. "/ro"))
    ok, err = fsio.write(dir .. "/ro/r.html", "x")
    assert.is_nil(ok)
    assert.matches("^" .. (dir .. "/ro/r.html: cannot write: the directory " .. dir .. "/ro is not writable"):gsub("%p", "%%%0"), err)
    assert.not_matches("XXXX", err); assert.not_matches("%.tmp", err)
  end)

  it("stat tells files, directories and the rest apart without opening them", function()
    t.write(dir .. "/f", "12345")
    assert.same({ "file", 5 }, { fsio.stat(dir .. "/f") })
    assert.same({ "dir" }, { fsio.stat(dir) })
    assert.same({ "none" }, { fsio.stat(dir .. "/nothing") })
    assert.same({ "other" }, { fsio.stat("/dev/null") })
  end)

  it("mtime gives a regular file's size and modification time, nil for anything else", function()
    t.write(dir .. "/f", "12345")
    os.execute("touch -d '2024-03-01 12:00:00.5 UTC' " .. t.quote(dir .. "/f"))
    local size, ns = fsio.mtime(dir .. "/f")
    assert.equals(5, size)
    -- 2024-03-01T12:00:00.5Z: 1709294400.5 s (a double keeps it to 256 ns at this size)
    assert.is_true(math.abs(ns - 1709294400.5e9) < 1e3)
    assert.is_nil(fsio.mtime(dir .. "/nothing"))
    assert.is_nil(fsio.mtime(dir .. "/nothing/below"))
    assert.is_nil(fsio.mtime(dir))
    assert.has_error(function() fsio.mtime(nil) end, "gt.fsio.mtime: path must be a string")
  end)
end)

describe("writers use gt.fsio", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  it("report.write does not follow a symlink planted at PATH.tmp, and refuses a FIFO", function()
    local gt = require "gt"
    local r = gt.backtest.run("sma_cross", (gt.data.synthetic { n = 300 }))
    t.write(dir .. "/victim", "keep")
    os.execute(("ln -s %s %s"):format(t.quote(dir .. "/victim"), t.quote(dir .. "/r.html.tmp")))
    assert.is_true(r:report(dir .. "/r.html"))
    assert.equal("keep", slurp(dir .. "/victim"))
    assert.matches("^<!DOCTYPE html>", slurp(dir .. "/r.html"))
    os.execute("mkfifo " .. t.quote(dir .. "/p.html"))
    local ok, err = require("gt.report").write(r, dir .. "/p.html")
    assert.is_nil(ok); assert.matches("p.html exists and is a FIFO", err, 1, true)
  end)

  it("data export --out refuses a FIFO and writes a file whole", function()
    local db = dir .. "/t.db"
    local csv = t.write(dir .. "/X.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1,10\n")
    assert.equal(0, select(3, t.run("data import " .. csv .. " --timeframe 1d --db " .. db)))
    os.execute("mkfifo " .. t.quote(dir .. "/out.csv"))
    local _, err, code = t.run("data export --symbol X --db " .. db .. " --out " .. dir .. "/out.csv")
    assert.equal(1, code)
    assert.matches("out.csv exists and is a FIFO", err, 1, true)
    _, err, code = t.run("data export --symbol X --db " .. db .. " --out " .. dir .. "/x.csv")
    assert.equal(0, code, err)
    assert.equal("Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1,10\n", slurp(dir .. "/x.csv"))
  end)
end)
