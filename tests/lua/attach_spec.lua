-- gt.attach and engine/control.c: the control socket is private (0700 directory, 0600 file,
-- peer uid), takes one client at a time, survives bad clients without blocking, and the
-- commands it evaluates cannot harm the session: errors and endless loops come back as
-- answers, session data is read-only, and every command is an event for the journal.
-- The server runs in this process; clients are raw C handles (no greeting wait), or the
-- real `gtengine attach` as another uid.
local ffi = require "ffi"
local gt = require "gt"
local gtffi = require "gt.ffi"
local C = gtffi.C
local attach = require "gt.attach"
local t = require "tests.lua.support"

local function sh(cmd) local out = t.sh(cmd); return (out:gsub("\n$", "")) end
local function mode(path) return sh("stat -c %a " .. t.quote(path)) end

local id, len = ffi.new("int64_t[1]"), ffi.new("int64_t[1]")
local function frame(h)
  local p = C.gt_control_frame(h, id, len)
  return ffi.string(C.gt_control_frame_kind(h)), tonumber(id[0]), p ~= nil and ffi.string(p, len[0]) or nil
end

-- A private directory for one test's socket (the convention's /tmp/gtengine-UID is shared).
local function sockdir()
  local d = t.tmpdir()
  return d, d .. "/ctl/s.sock"
end

local function session(dir)
  local wf = gt.workflow.from_table({ mode = "paper", strategy = "sma_cross", symbols = { "AAA", "BBB" },
    capital = 100000, db = dir .. "/a.db", data = { source = "synthetic", bars = 300, seed = 3 },
    feed = { warmup = 60 }, risk = "paper", journal = { enabled = false } }, "spec/wf.lua")
  return assert(gt.orchestrator.new(wf, { quiet = true }))
end

-- One request through a raw client, the server polled in between: kind, body.
local function ask(srv, cl, body, kind)
  assert.equal(0, C.gt_control_send(cl, kind or "eval", 9, body, #body))
  assert.equal(C.GT_CONTROL_FRAME, srv:poll(1000))
  assert.equal(C.GT_CONTROL_FRAME, C.gt_control_poll(cl, 2000))
  local k, rid, b = frame(cl)
  assert.equal(9, rid)
  return k, b
end

local function serve(dir)
  local sess = session(dir)
  local _, path = sockdir()
  local srv = assert(attach.serve(sess, { socket = path }))
  local seen = {}
  sess.bus:subscribe("command", function(ev) seen[#seen + 1] = ev end)
  local cl = C.gt_control_connect(path, 1000)
  assert.is_not_nil(cl)
  cl = ffi.gc(cl, C.gt_control_close)
  assert.equal(C.GT_CONTROL_ATTACHED, srv:poll(1000))
  assert.equal(C.GT_CONTROL_FRAME, C.gt_control_poll(cl, 1000))
  assert.equal("hello", (frame(cl)))
  return sess, srv, cl, seen, path
end

describe("the control socket", function()
  it("lives in a 0700 directory as a 0600 socket, and is removed at close", function()
    local d, path = sockdir()
    local h = C.gt_control_listen(path)
    assert.is_not_nil(h, gtffi.errmsg())
    assert.equal("700", mode(d .. "/ctl"))
    assert.equal("600", mode(path))
    assert.equal("socket", sh("stat -c %F " .. t.quote(path)))
    C.gt_control_close(h)
    assert.is_nil(io.open(path))
    -- the convention: one path per database, in the runtime directory or /tmp/gtengine-UID
    local p1 = assert(attach.socket_path(d .. "/x.db"))
    assert.equal(p1, attach.socket_path(d .. "/../" .. d:match("[^/]+$") .. "/x.db"))
    assert.not_equal(p1, attach.socket_path(d .. "/y.db"))
    assert.matches("/gtengine%-?%d*/x%.db%-%x+%.sock$", p1)
    os.execute("rm -rf " .. t.quote(d))
  end)

  it("refuses a directory that is not private: group or world access, another owner, a symlink", function()
    local d, path = sockdir()
    os.execute(("mkdir -m 0770 %s/ctl"):format(t.quote(d)))
    assert.is_true(C.gt_control_listen(path) == nil)
    assert.equal(C.GT_EDENIED, C.gt_errcode())
    assert.matches("mode 0770", gtffi.errmsg())
    os.execute(("chmod 0755 %s/ctl"):format(t.quote(d)))
    assert.is_true(C.gt_control_listen(path) == nil)
    assert.matches("mode 0755", gtffi.errmsg())
    os.execute(("rmdir %s/ctl && mkdir %s/real && ln -s real %s/ctl"):format(t.quote(d), t.quote(d), t.quote(d)))
    assert.is_true(C.gt_control_listen(path) == nil)
    assert.matches("not a directory", gtffi.errmsg())
    if tonumber(C.gt_control_uid()) == 0 then
      os.execute(("rm %s/ctl && mkdir -m 0700 %s/ctl && chown 65534 %s/ctl"):format(t.quote(d), t.quote(d), t.quote(d)))
      assert.is_true(C.gt_control_listen(path) == nil)
      assert.matches("owned by uid 65534", gtffi.errmsg())
    end
    os.execute("rm -rf " .. t.quote(d))
  end)

  it("replaces a stale socket and will not take over a live one", function()
    local d, path = sockdir()
    -- a socket file nobody listens on: what a killed session leaves
    t.sh(("mkdir -m 0700 %s/ctl && %s -e 'local C = require(\"gt.ffi\").C; C.gt_control_listen(arg[1]); os.exit(0, false)' %s")
      :format(t.quote(d), t.quote(t.gtengine), t.quote(path)))
    assert.equal("socket", sh("stat -c %F " .. t.quote(path)))
    assert.is_true(C.gt_control_connect(path, 500) == nil)
    assert.equal(C.GT_ESTATE, C.gt_errcode())
    local h = C.gt_control_listen(path)
    assert.is_not_nil(h, gtffi.errmsg())
    assert.is_true(C.gt_control_listen(path) == nil)
    assert.equal(C.GT_ESTATE, C.gt_errcode())
    assert.matches("another session is listening", gtffi.errmsg())
    C.gt_control_close(h)
    -- a plain file in its place is never removed
    t.write(path, "x")
    assert.is_true(C.gt_control_listen(path) == nil)
    assert.equal(C.GT_EDENIED, C.gt_errcode())
    os.execute("rm -rf " .. t.quote(d))
  end)

  it("takes one client at a time: a second one gets a one-line busy and is closed", function()
    local d, path = sockdir()
    local srv = ffi.gc(C.gt_control_listen(path), C.gt_control_close)
    local a = ffi.gc(C.gt_control_connect(path, 500), C.gt_control_close)
    assert.equal(C.GT_CONTROL_ATTACHED, C.gt_control_poll(srv, 500))
    assert.equal(tonumber(C.gt_control_uid()), tonumber(C.gt_control_peer_uid(srv)))
    local b = ffi.gc(C.gt_control_connect(path, 500), C.gt_control_close)
    assert.equal(C.GT_CONTROL_NONE, C.gt_control_poll(srv, 50))
    assert.equal(C.GT_CONTROL_FRAME, C.gt_control_poll(b, 1000))
    local kind, _, body = frame(b)
    assert.equal("busy", kind)
    assert.matches("^busy: another client %(uid %d+%) is attached to this session; one at a time\n$", body)
    assert.equal(C.GT_CONTROL_DETACHED, C.gt_control_poll(b, 1000))
    -- the first client is still served
    assert.equal(0, C.gt_control_send(a, "ping", 1, "", 0))
    assert.equal(C.GT_CONTROL_FRAME, C.gt_control_poll(srv, 500))
    assert.equal("ping", (frame(srv)))
    -- when it leaves, the next one is taken
    C.gt_control_close(ffi.gc(a, nil))
    assert.equal(C.GT_CONTROL_DETACHED, C.gt_control_poll(srv, 500))
    assert.equal("closed", ffi.string(C.gt_control_detach_reason(srv)))
    local c2 = ffi.gc(C.gt_control_connect(path, 500), C.gt_control_close)
    assert.equal(C.GT_CONTROL_ATTACHED, C.gt_control_poll(srv, 500))
    assert.is_not_nil(c2)
    os.execute("rm -rf " .. t.quote(d))
  end)

  it("ends a connection that sends garbage, an oversized frame, or stops reading, and never waits on it", function()
    local d, path = sockdir()
    local srv = ffi.gc(C.gt_control_listen(path), C.gt_control_close)
    local function raw(bytes)
      -- a shell client that writes bytes and keeps the connection open for a moment
      os.execute(("(printf %s; sleep 1) | timeout 3 python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); "
        .. "s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); print(s.recv(400).decode())' %s > %s/raw.out 2>&1 &")
        :format(t.quote(bytes), t.quote(path), t.quote(d)))
      assert.equal(C.GT_CONTROL_ATTACHED, C.gt_control_poll(srv, 3000))
      -- whatever the client sent so far, a poll without timeout returns at once
      local t0 = C.gt_clock_seconds()
      local ev = C.gt_control_poll(srv, 0)
      assert.is_true(C.gt_clock_seconds() - t0 < 0.05)
      if ev ~= C.GT_CONTROL_DETACHED then assert.equal(C.GT_CONTROL_DETACHED, C.gt_control_poll(srv, 3000)) end
      return ffi.string(C.gt_control_detach_reason(srv))
    end
    assert.equal("protocol", raw("hello there\\n"))
    assert.equal("protocol", raw("eval 1 99999999\\n"))
    os.execute("sleep 1.2")
    assert.matches("^error 0 %d+\nerror: not a frame", t.sh("cat " .. t.quote(d .. "/raw.out")))
    -- a client that asks and never reads: its replies pile up to the cap, then it is dropped
    local cl = ffi.gc(C.gt_control_connect(path, 500), C.gt_control_close)
    assert.equal(C.GT_CONTROL_ATTACHED, C.gt_control_poll(srv, 500))
    local big = ("x"):rep(C.GT_CONTROL_MAX_REPLY)
    local t0 = C.gt_clock_seconds()
    local sent = 0
    for _ = 1, 8 do
      if C.gt_control_send(srv, "ok", 1, big, #big) ~= 0 then break end
      sent = sent + 1
    end
    assert.is_true(sent >= 3 and sent <= 5, tostring(sent)) -- 4 MB pending at most
    assert.is_true(C.gt_clock_seconds() - t0 < 1)
    assert.equal(C.GT_CONTROL_DETACHED, C.gt_control_poll(srv, 0))
    assert.equal("stalled", ffi.string(C.gt_control_detach_reason(srv)))
    assert.equal(C.GT_ETOOBIG, C.gt_control_send(srv, "ok", 1, big .. "x", #big + 1))
    assert.is_not_nil(cl)
    os.execute("rm -rf " .. t.quote(d))
  end)

  it("refuses another uid: the directory, the file mode, and SO_PEERCRED with both loosened", function()
    if tonumber(C.gt_control_uid()) ~= 0 or os.execute("command -v setpriv >/dev/null") ~= 0 then
      pending("needs root and setpriv to run a client as uid 65534")
      return
    end
    local d, path = sockdir()
    os.execute("chmod 0755 " .. t.quote(d)) -- mktemp -d is 0700: let uid 65534 reach ctl/
    local srv = ffi.gc(C.gt_control_listen(path), C.gt_control_close)
    local exe = sh("readlink -f " .. t.quote(t.gtengine))
    local function as_nobody()
      os.execute(("(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp %s attach --socket %s "
        .. "--eval 'positions()' > %s/nobody.out 2>&1; echo $? >> %s/nobody.out) &")
        :format(t.quote(exe), t.quote(path), t.quote(d), t.quote(d)))
      local out
      for _ = 1, 50 do -- the server keeps serving while the client tries
        local ev = C.gt_control_poll(srv, 100)
        assert.is_not.equal(C.GT_CONTROL_ATTACHED, ev)
        out = t.sh("cat " .. t.quote(d .. "/nobody.out"))
        if out:match("\n%d+\n$") then break end
      end
      return out
    end
    -- 1. the directory (0700) stops it before the socket
    assert.equal("700", mode(d .. "/ctl"))
    assert.matches("permission denied.*\n1\n$", as_nobody())
    -- 2. with the directory open, the socket's 0600 mode does: connect is EACCES
    os.execute("chmod 0711 " .. t.quote(d .. "/ctl"))
    assert.matches("permission denied.*\n1\n$", as_nobody())
    -- 3. with the file loosened too, the session checks the peer's uid and refuses it
    os.execute("chmod 0666 " .. t.quote(path))
    assert.matches("refused: uid 65534 is not this session's user %(uid 0%)\n1\n$", as_nobody())
    os.execute("rm -rf " .. t.quote(d))
  end)
end)

describe("gt.attach commands", function()
  it("answer errors and endless loops with a message, and the session is unharmed", function()
    local d = t.tmpdir()
    local sess, srv, cl, seen = serve(d)
    local k, b = ask(srv, cl, "1 + 2")
    assert.equal("ok", k); assert.equal("3\n", b)
    k, b = ask(srv, cl, "x = 41")
    assert.equal("ok", k); assert.equal("", b)
    k, b = ask(srv, cl, "x + 1, 'a'")
    assert.equal("ok", k); assert.equal("42\t\"a\"\n", b)
    k, b = ask(srv, cl, "print('p', 1) return len(session.state.symbols)")
    assert.equal("ok", k); assert.equal("p\t1\n2\n", b)
    k, b = ask(srv, cl, "error('boom')")
    assert.equal("error", k)
    assert.matches("^attach:1: boom\nstack traceback:", b)
    k, b = ask(srv, cl, "1 +")
    assert.equal("error", k); assert.matches("^attach:1: unexpected symbol", b)
    for _, loop in ipairs { "while true do end", "local x = 0 while true do x = x + 1 end",
      "local function f() return f() end while true do pcall(f) end",
      "while true do pcall(function() while true do end end) end", "local t = {} while true do t[#t + 1] = {} end" } do
      local t0 = os.clock()
      k, b = ask(srv, cl, loop)
      assert.equal("interrupted", k, loop)
      assert.matches("^interrupted: the command ", b)
      assert.is_true(os.clock() - t0 < 2, loop)
    end
    -- read-only data, no escape hatches, no bytecode
    k, b = ask(srv, cl, "session.state.equity = 1")
    assert.equal("error", k); assert.matches("read%-only: attach cannot change", b)
    k, b = ask(srv, cl, "session.state.positions[1].qty = 5")
    assert.equal("error", k); assert.matches("read%-only", b)
    k, b = ask(srv, cl, "gt.data = nil")
    assert.equal("error", k); assert.matches("read%-only: gt.data cannot be set", b)
    for _, name in ipairs { "os", "io", "debug", "require", "jit", "coroutine", "dofile", "loadfile" } do
      k, b = ask(srv, cl, name)
      assert.equal("ok", k); assert.equal("nil\n", b, name)
    end
    k, b = ask(srv, cl, "gt.ffi")
    assert.equal("error", k); assert.matches("gt.ffi is not available", b)
    k, b = ask(srv, cl, "assert(load(string.dump(function() end)))")
    assert.equal("error", k); assert.matches("bytecode", b)
    k, b = ask(srv, cl, string.dump(function() end))
    assert.equal("error", k); assert.matches("bytecode is refused", b)
    k, b = ask(srv, cl, "string.rep = nil; return ('ab'):rep(2)")
    assert.equal("ok", k); assert.equal("\"abab\"\n", b) -- the sandbox's string is a copy
    -- the session then runs to the end exactly as one never attached
    srv:close()
    local sm = assert(sess:run())
    local plain = assert(session(d):run())
    assert.equal(plain.cycles, sm.cycles)
    assert.equal(plain.equity, sm.equity)
    assert.equal(plain.fills, sm.fills)
    assert.equal(plain.trades, sm.trades)
    assert.is_true(plain.trades > 0)
    -- every command was an event (ok, error, interrupted) with its text and the client's uid
    local by = {}
    for _, ev in ipairs(seen) do by[ev.status] = (by[ev.status] or 0) + 1 end
    assert.equal(1, by.attached)
    assert.equal(5, by.interrupted)
    assert.is_true(by.error >= 6 and by.ok >= 10)
    assert.equal("1 + 2", seen[2].text)
    assert.equal(tonumber(C.gt_control_uid()), seen[2].uid)
    assert.equal("attach:1: boom", seen[6].reason)
    os.execute("rm -rf " .. t.quote(d))
  end)

  it("halts the gate, changes a checked parameter, shows positions and events, completes names", function()
    local d = t.tmpdir()
    local sess, srv, cl = serve(d)
    local k, b = ask(srv, cl, "positions()")
    assert.equal("ok", k); assert.equal("no open positions\n", b)
    k, b = ask(srv, cl, "halt('from the spec')")
    assert.equal("ok", k)
    assert.equal("HALTED: from the spec; the breaker event follows at the next cycle\n", b)
    assert.equal("HALTED", sess.gate:state().state)
    assert.equal("from the spec", sess.gate:state().halt_reason)
    k, b = ask(srv, cl, "resume()")
    assert.equal("ok", k); assert.matches("^resumed %(was HALTED: from the spec%)", b)
    assert.equal("ACTIVE", sess.gate:state().state)
    k, b = ask(srv, cl, "set_param('sma_cross', 'fast', 2.5)")
    assert.equal("error", k); assert.matches("fast takes a whole number", b)
    k, b = ask(srv, cl, "set_param('sma_cross', 'nope', 1)")
    assert.equal("error", k); assert.matches("sma_cross has no parameter 'nope' %(fast, short, slow%)", b)
    k, b = ask(srv, cl, "set_param('sma_cross', 'fast', 5)")
    assert.equal("ok", k); assert.equal("sma_cross.fast = 5 (was 10) from the next cycle\n", b)
    assert.equal(5, sess.sym[2].strat.sma_cross.p.fast)
    k, b = ask(srv, cl, "params('sma_cross').fast")
    assert.equal("ok", k); assert.equal("5\n", b)
    k, b = ask(srv, cl, "se", "complete")
    assert.equal("completions", k)
    assert.equal("select\nsession\nset_param\nsetmetatable", b)
    k, b = ask(srv, cl, "session.ga", "complete")
    assert.equal("completions", k); assert.equal("session.gate", b)
    k, b = ask(srv, cl, "gt.ind.sm", "complete")
    assert.equal("completions", k); assert.matches("gt.ind.sma", b, 1, true)
    -- the session runs on; events() reads the ring of its last events
    srv.sess.bus:publish { type = "fill", ts = 0, symbol = "AAA", qty = 3, price = 10 }
    k, b = ask(srv, cl, "events(2)")
    assert.equal("ok", k); assert.matches("command .*\n.*fill +AAA .*3 +10%.00", b)
    k, b = ask(srv, cl, "len(events(5, 'fill'))")
    assert.equal("ok", k); assert.equal("1\n", b)
    os.execute("rm -rf " .. t.quote(d))
  end)
end)
