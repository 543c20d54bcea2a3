-- Issue 8 "data safety" and issue 9's small import cases: importing other values over stored
-- bars needs --replace; messages for directories, FIFOs and header errors.
local t = require "tests.lua.support"

describe("data import over stored bars", function()
  local dir, db
  before_each(function() dir = t.tmpdir(); db = dir .. "/t.db" end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  local HEAD = "Date,Open,High,Low,Close,Volume\n"
  -- b.csv differs from a.csv in one bar only (2024-01-03: close 10.5 instead of 10) and adds 2024-01-05
  local A = HEAD .. "2024-01-02,10,11,9,10,100\n2024-01-03,10,11,9,10,100\n2024-01-04,10,11,9,10,100\n"
  local B = HEAD .. "2024-01-02,10,11,9,10,100\n2024-01-03,10,11,9,10.5,100\n2024-01-04,10,11,9,10,100\n"
    .. "2024-01-05,10,11,9,10,100\n"

  local function closes()
    local out, err, code = t.run("data export --symbol X --db " .. db)
    assert.equal(0, code, err)
    local c = {}
    for close in out:gmatch("\n[^,\n]+,[^,]+,[^,]+,[^,]+,([^,]+),") do c[#c + 1] = close end
    return table.concat(c, " ")
  end

  it("refuses without --replace, naming how many bars would change, and stores nothing", function()
    local a, b = t.write(dir .. "/a.csv", A), t.write(dir .. "/b.csv", B)
    assert.equal(0, select(3, t.run("data import " .. a .. " --symbol X --db " .. db)))
    local _, err, code = t.run("data import " .. b .. " --symbol X --db " .. db)
    assert.equal(1, code)
    assert.matches("1 bar already stored for X 1d in " .. db .. " holds different values (the first at 2024-01-03)",
      err, 1, true)
    assert.matches("--replace", err, 1, true)
    assert.not_matches("on%-error skip", err)
    assert.equal("10 10 10", closes(), "nothing changed, not even the new 2024-01-05 bar")
    -- the same file again changes nothing, so it is not refused
    assert.equal(0, select(3, t.run("data import " .. a .. " --symbol X --db " .. db)))
    -- with --replace the file's bars win (keep-last)
    local out, err2, code2 = t.run("data import " .. b .. " --symbol X --replace --db " .. db)
    assert.equal(0, code2, err2)
    assert.matches("4 bars", out, 1, true)
    assert.equal("10 10.5 10 10", closes())
  end)

  it("gt.data.import takes replace = true", function()
    local gt = require "gt"
    local a, b = t.write(dir .. "/a.csv", A), t.write(dir .. "/b.csv", B)
    assert.is_table(gt.data.import(a, { symbol = "X", db = db }))
    local r, err = gt.data.import(b, { symbol = "X", db = db })
    assert.is_nil(r)
    assert.matches("1 bar already stored", err, 1, true)
    assert.is_table(gt.data.import(b, { symbol = "X", db = db, replace = true }))
  end)

  it("two backtrader files that both default to symbol 2006 do not silently replace each other", function()
    local p1, why = t.shared_file("data/backtrader/2006-day-001.txt")
    if not p1 then return pending(why) end
    local p2 = assert(t.shared_file("data/backtrader/2006-volume-day-001.txt"))
    assert.equal(0, select(3, t.run("data import " .. p1 .. " --db " .. db)))
    local before = t.run("data export --symbol 2006 --db " .. db)
    local _, err, code = t.run("data import " .. p2 .. " --db " .. db)
    assert.equal(1, code)
    assert.matches("already stored for 2006 1d", err, 1, true)
    assert.equal(before, (t.run("data export --symbol 2006 --db " .. db)))
  end)
end)

describe("data import messages", function()
  local dir, db
  before_each(function() dir = t.tmpdir(); db = dir .. "/t.db" end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  it("a directory: no size line, no --on-error hint", function()
    os.execute("mkdir " .. t.quote(dir .. "/d"))
    local _, err, code = t.run("data import " .. dir .. "/d --db " .. db)
    assert.equal(1, code)
    assert.matches(dir .. "/d: is a directory", err, 1, true)
    assert.not_matches("MB", err)
    assert.not_matches("on%-error skip", err)
  end)

  it("a bad header gets no --on-error hint; a bad row does", function()
    local h = t.write(dir .. "/h.csv", "a,b\n1,2\n")
    local _, err = t.run("data import " .. h .. " --db " .. db)
    assert.matches("not an OHLCV header", err, 1, true)
    assert.not_matches("on%-error skip", err)
    local r = t.write(dir .. "/r.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1,10\n2024-01-03,1,2,0.5,x,10\n")
    _, err = t.run("data import " .. r .. " --db " .. db)
    assert.matches("r.csv:3: field 'close': not a number", err, 1, true)
    assert.matches("--on-error skip loads the valid rows", err, 1, true)
  end)

  it("a FIFO is read like a file", function()
    local fifo = dir .. "/X.csv"
    os.execute("mkfifo " .. t.quote(fifo))
    os.execute(("(printf 'Date,Open,High,Low,Close,Volume\\n2024-01-02,1,2,0.5,1,10\\n' > %s &)"):format(t.quote(fifo)))
    local out, err, code = t.run("data import " .. fifo .. " --timeframe 1d --db " .. db)
    assert.equal(0, code, err)
    assert.matches("X 1d, 1 bars", out, 1, true)
    assert.not_matches("attempt to", err)
  end)
end)

describe("input size cap", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  -- 2,000,000 bytes of a valid CSV: header + rows of 40 bytes ("2024-01-02,1,2,0.5,1,10" padded)
  local function big(path, bytes)
    local row = "2024-01-02,1,2,0.5,1,10" .. (" "):rep(16) .. "\n" -- 40 bytes
    return t.write(path, ("x"):rep(0) .. "Date,Open,High,Low,Close,Volume\n" .. row:rep(math.floor(bytes / 40)))
  end

  it("a file over --max-size is refused before it is read, naming the file and the fix", function()
    local f = big(dir .. "/B.csv", 2000000)
    local _, err, code = t.run(("data import %s --max-size 1 --db %s"):format(f, dir .. "/t.db"))
    assert.equal(1, code)
    -- 32-byte header + 50,000 rows of 40 bytes = 2,000,032 bytes = 2.0 MB
    assert.matches(f .. ": 2.0 MB is over the 1.0 MB input limit; nothing was read", err, 1, true)
    assert.matches("--max-size MB", err, 1, true)
  end)

  it("a pipe is cut off at the limit too, and gt.data.load takes max_bytes", function()
    local f = big(dir .. "/B.csv", 2000000)
    local _, err, code = t.sh(("cat %s | %s data import /dev/stdin --max-size 1 --db %s"):format(
      f, t.quote(t.gtengine), dir .. "/t.db"))
    assert.equal(1, code)
    assert.matches("/dev/stdin: more than the 1.0 MB input limit arrived; nothing was loaded", err, 1, true)
    local gt = require "gt"
    local s, lerr = gt.data.load(f, { max_bytes = 1000000 })
    assert.is_nil(s)
    assert.matches("over the 1.0 MB input limit", lerr, 1, true)
    assert.has_error(function() gt.data.load(f, { max_bytes = -1 }) end, "gt.csv.read: max_bytes must be a number >= 0")
  end)
end)

describe("csv out of memory", function()
  it("names the file (under ulimit -v)", function()
    local dir = t.tmpdir()
    local f = dir .. "/M.csv"
    local h = assert(io.open(f, "w"))
    h:write("Date,Open,High,Low,Close,Volume\n")
    for i = 1, 2000000 do h:write(1e9 + i * 60, ",1,2,0.5,1,10\n") end -- 48 MB
    h:close()
    -- 150 MB of address space: the binary starts, the file's bars do not fit
    local _, err, code = t.sh(("ulimit -v 150000; %s data import %s --timeframe 1m --db %s"):format(
      t.quote(t.gtengine), f, dir .. "/t.db"))
    os.execute("rm -rf " .. t.quote(dir))
    if err:find("Sanitizer", 1, true) or not err:find("out of memory", 1, true) then
      return pending("this build or machine does not run out of memory under ulimit -v 150000: " .. err:sub(1, 200))
    end
    assert.equal(1, code)
    assert.matches(f:gsub("%p", "%%%0") .. ": out of memory after %d+ rows of this 48000032%-byte input", err)
    assert.not_matches("import: csv: out of memory", err, 1, true)
  end)
end)

describe("gt.data.align misuse", function()
  it("says what is wrong instead of an internal error", function()
    local gt = require "gt"
    assert.has_error(function() gt.data.align(nil) end, "gt.data.align: expected a list of series, got nil")
    assert.has_error(function() gt.data.align({ 1, 2 }) end, "gt.data.align: item 1 is a number, not a series")
    local s = gt.data.synthetic { n = 10 }
    assert.has_error(function() gt.data.align({ s, "x" }) end, "gt.data.align: item 2 is a string, not a series")
    assert.equal(10, gt.data.align({ s, s })[1].n)
  end)
end)

describe("a file named like an option", function()
  it("-rf.csv: the usage error says how to name it; without a symbol in its name it asks for one", function()
    local dir = t.tmpdir()
    local bin = t.gtengine:match("^/") and t.gtengine or os.getenv("PWD") .. "/" .. t.gtengine
    t.write(dir .. "/-rf.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1,10\n2024-01-03,1,2,0.5,1,10\n")
    local _, err, code = t.sh(("cd %s && %s data import -rf.csv --db t.db"):format(t.quote(dir), t.quote(bin)))
    assert.equal(2, code)
    assert.matches("unknown option -rf.csv; for the file of that name write ./-rf.csv or put it after --", err, 1, true)
    _, err, code = t.sh(("cd %s && %s data import --db t.db ./-rf.csv"):format(t.quote(dir), t.quote(bin)))
    assert.equal(1, code)
    assert.matches("./-rf.csv: cannot tell a symbol from the file name; give one (--symbol S", err, 1, true)
    local out, err2, code2 = t.sh(("cd %s && %s data import --db t.db --symbol RF -- -rf.csv"):format(t.quote(dir), t.quote(bin)))
    assert.equal(0, code2, err2)
    assert.matches("RF 1d, 2 bars", out, 1, true)
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
