# gtengine build. `make` builds ./gtengine; `make test` runs every test; see `make help`.
# Flat rules, quiet output (V=1 shows commands). Dependencies come from Debian's packages.

PREFIX   ?= /usr/local
CC       ?= cc
LUAJIT   ?= luajit
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

PKGS     := luajit libcurl libcjson sqlite3 libedit
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(CI),true)
WARN     += -Werror
endif
OPT      ?= -O2
CFLAGS_ALL = -std=c11 $(OPT) -g -D_GNU_SOURCE $(WARN) -MMD -MP -I$(B) $(SAN) \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
# -rdynamic: LuaJIT's ffi.C finds the engine's symbols in the executable itself.
LDFLAGS_ALL = -rdynamic $(SAN) $(LDFLAGS)
LDLIBS_ALL  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread $(LDLIBS)

# Debian packages the build needs, and those only the tests need (busted runs the specs;
# headless Chromium renders the HTML report; openssl serves TLS for the certificate tests;
# GNU parallel runs the optimiser's shards).
DEB_PKGS  := luajit libluajit-5.1-dev libcurl4-openssl-dev libcjson-dev libsqlite3-dev \
             libedit-dev pkg-config gcc make
TEST_PKGS := lua-busted chromium openssl libssl-dev parallel tmux

B        ?= build
BIN      ?= gtengine
SRCS     := $(wildcard engine/*.c)
OBJS     := $(SRCS:engine/%.c=$(B)/%.o) $(B)/embedded.o
LUA_SRCS := $(shell find lua -name '*.lua' | sort)
CTESTS   := $(patsubst tests/c/%.c,$(B)/tests/%,$(wildcard tests/c/test_*.c))
BENCHES  := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))
# Plain baselines that Lua benchmarks run as separate processes (given arguments).
BENCH_TOOLS := $(patsubst tests/bench/tools/%.c,$(B)/bench-tools/%,$(wildcard tests/bench/tools/*.c))
# Each fuzz target also builds as a plain corpus-replay binary that make test runs.
REPLAYS  := $(patsubst tests/fuzz/%.c,$(B)/replay/%,$(wildcard tests/fuzz/fuzz_*.c))
# Loopback servers the tests start (fake providers, fake broker).
SERVERS  := $(patsubst tests/fakebroker/%.c,$(B)/fakebroker/%,$(wildcard tests/fakebroker/*.c))

.PHONY: all deps test-deps check-deps install-pkgs test asan asan-tests asan-run bench install clean run \
        help fuzz fuzz-lua slurm-check reliability FORCE
all: $(BIN)

help:
	@echo "make            build ./gtengine (installs missing Debian packages first)"
	@echo "make run        build and run the main workflow"
	@echo "make test       C unit tests + busted specs inside gtengine; ends 'N passed, N failed'"
	@echo "make asan       the whole suite under AddressSanitizer + UBSan"
	@echo "make bench      throughput and ratios against plain C baselines"
	@echo "make fuzz       build the libFuzzer targets (clang) into build/fuzz/"
	@echo "make fuzz-lua   mutated strategies and scripts through gtengine run/backtest on the"
	@echo "                ASan build for FUZZ_SECONDS (600); findings in build/fuzz-lua/findings"
	@echo "make slurm-check examples/optimize.sbatch on a single-node Slurm (slurm-wlm, munge)"
	@echo "make reliability the long live-broker soaks against the fake broker (FLOOD_N, FLOOD_SCALE),"
	@echo "                then a live session killed 200 times (tests/integration/live_kill.sh)"
	@echo "make install    PREFIX=$(PREFIX): binary + share/gtengine"
	@echo "make deps       install missing Debian packages (apt-get)"

# Plain `make` (and every target but deps, run and test) only checks: it never installs.
check-deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then echo "missing Debian packages:$$missing; run 'make deps' (uses apt-get)" >&2; exit 1; fi

# Installs only what is missing; does nothing (and needs no root) when all are present.
deps:
	@$(MAKE) --no-print-directory install-pkgs PKGS_WANTED="$(DEB_PKGS)"
test-deps: deps
	@$(MAKE) --no-print-directory install-pkgs PKGS_WANTED="$(TEST_PKGS)"
# A real single-node Slurm (Debian's slurm-wlm) runs examples/optimize.sbatch; the script
# starts and stops its own munged, slurmctld and slurmd in a temporary directory.
# Soaks too long for make test: the live broker against the fake Alpaca (tests/reliability),
# and the live session kill loop with 200 kills (make test runs it with 20).
reliability: all $(SERVERS)
	$(Q)$(TEST_ENV) ./$(BIN) test -o TAP tests/reliability
	$(Q)KILLS=200 GTENGINE=./$(BIN) SERVER_DIR=$(B)/fakebroker bash tests/integration/live_kill.sh

slurm-check: all
	@$(MAKE) --no-print-directory install-pkgs PKGS_WANTED="slurm-wlm munge"
	$(Q)SLURM_CHECK=1 GTENGINE=./$(BIN) bash tests/integration/optimize_slurm.sh

install-pkgs:
	@missing=""; for p in $(PKGS_WANTED); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Rebuild everything when the compiler flags change.
$(B)/flags: FORCE | check-deps
	@mkdir -p $(B)
	@echo '$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL)' | cmp -s - $@ || echo '$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL)' > $@

# Version from git describe, rewritten only when it changes.
$(B)/gt_version.h: FORCE
	@mkdir -p $(B)
	@v=$$(git describe --tags --always --dirty 2>/dev/null || echo unknown); \
	 echo "#define GT_VERSION_STRING \"0.1.0-$$v\"" | cmp -s - $@ || \
	 echo "#define GT_VERSION_STRING \"0.1.0-$$v\"" > $@

$(B)/%.o: engine/%.c $(B)/flags $(B)/gt_version.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

# The Lua library as LuaJIT bytecode with line info, plus the FFI header text, in one C file.
$(B)/embedded.c: engine/embed.lua $(wildcard engine/*.h) $(LUA_SRCS) | check-deps
	@mkdir -p $(@D)
	@echo "  EMBED   lua/ and the FFI blocks gt_ffi.h gathers"
	$(Q)$(LUAJIT) engine/embed.lua $@ $(B)/gt_layout.h engine/gt_ffi.h $(LUA_SRCS)
$(B)/gt_layout.h: $(B)/embedded.c
$(B)/gt.o: $(B)/gt_layout.h

$(B)/embedded.o: $(B)/embedded.c $(B)/flags
	$(Q)$(CC) $(CFLAGS_ALL) -Iengine -w -c $< -o $@

$(BIN): $(OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS_ALL) $(OBJS) $(LDLIBS_ALL) -o $@

# C unit tests link every engine object except main.o.
# The host (main, host, repl) is left out: C tests exercise the library units alone.
LIBOBJS = $(filter-out $(B)/main.o $(B)/host.o $(B)/repl.o $(B)/embedded.o,$(OBJS))
$(B)/tests/%: tests/c/%.c tests/c/tap.h $(LIBOBJS) $(B)/flags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Iengine -Itests/c $< $(LIBOBJS) $(LDFLAGS_ALL) $(LDLIBS_ALL) -o $@

$(B)/bench/%: tests/bench/%.c $(LIBOBJS) $(B)/flags
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) -O3 -march=native -Iengine $< $(LIBOBJS) $(LDFLAGS_ALL) $(LDLIBS_ALL) -o $@

$(B)/replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(LIBOBJS) $(B)/flags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Iengine $< tests/fuzz/replay_main.c $(LIBOBJS) $(LDFLAGS_ALL) $(LDLIBS_ALL) -o $@

$(B)/fakebroker/%: tests/fakebroker/%.c $(LIBOBJS) $(B)/flags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Iengine $< $(LIBOBJS) $(LDFLAGS_ALL) $(LDLIBS_ALL) -o $@

# fakealpaca's --tls mode (the untrusted-certificate test) uses OpenSSL when its headers
# are installed (libssl-dev, a test dependency); without them it builds without --tls.
FAKE_TLS := $(shell pkg-config --exists openssl 2>/dev/null && echo 1)
$(B)/fakebroker/fakealpaca: tests/fakebroker/fakealpaca.c $(LIBOBJS) $(B)/flags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(if $(FAKE_TLS),-DFAKE_TLS $(shell pkg-config --cflags openssl)) \
	  -Iengine $< $(LIBOBJS) $(LDFLAGS_ALL) $(LDLIBS_ALL) \
	  $(if $(FAKE_TLS),$(shell pkg-config --libs openssl)) -o $@

TEST_ENV = GTENGINE=./$(BIN) CTEST_DIR=$(B)/tests REPLAY_DIR=$(B)/replay SERVER_DIR=$(B)/fakebroker

test: test-deps all $(CTESTS) $(REPLAYS) $(SERVERS)
	$(Q)$(TEST_ENV) ./$(BIN) tests/run.lua

# A separate build tree and binary, so the sanitized objects never mix with the normal ones.
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
asan: check-deps
	$(Q)$(MAKE) --no-print-directory B=build/asan BIN=build/asan/gtengine OPT=-O1 \
	  SAN="$(ASAN_FLAGS)" build/asan/gtengine asan-tests
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(MAKE) --no-print-directory B=build/asan BIN=build/asan/gtengine asan-run
asan-tests: $(CTESTS) $(REPLAYS) $(SERVERS)
asan-run:
	$(Q)$(TEST_ENV) ./$(BIN) tests/run.lua

$(B)/bench-tools/%: tests/bench/tools/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) -std=c11 -O2 -march=native -D_GNU_SOURCE $< -lm -o $@

bench: all $(BENCHES) $(BENCH_TOOLS)
	$(Q)GTENGINE=./$(BIN) BENCH_DIR=$(B)/bench TOOLS_DIR=$(B)/bench-tools ./$(BIN) tests/bench/run.lua

fuzz: check-deps $(B)/gt_version.h
	$(Q)$(MAKE) --no-print-directory -f tests/fuzz/Makefile

# Mutated strategy files and scripts through `gtengine run` / `backtest --strategy` on the
# ASan build (tests/fuzz/lua_mutate.lua); make test runs a few seconds of it as a smoke test.
FUZZ_SECONDS ?= 600
fuzz-lua: check-deps
	$(Q)$(MAKE) --no-print-directory B=build/asan BIN=build/asan/gtengine OPT=-O1 \
	  SAN="$(ASAN_FLAGS)" build/asan/gtengine
	$(Q)ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/gtengine \
	  tests/fuzz/lua_mutate.lua --bin build/asan/gtengine --seconds $(FUZZ_SECONDS) --out build/fuzz-lua

run: deps all
	$(Q)./$(BIN) run workflows/paper.lua

SHARE = $(DESTDIR)$(PREFIX)/share/gtengine
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/lua $(SHARE)/strategies $(SHARE)/workflows $(SHARE)/examples
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/gtengine
	cp -R lua/. $(SHARE)/lua/
	cp -R strategies/. $(SHARE)/strategies/
	cp -R workflows/. $(SHARE)/workflows/
	cp -R examples/. $(SHARE)/examples/

clean:
	rm -rf build $(BIN)

-include $(wildcard $(B)/*.d $(B)/tests/*.d $(B)/replay/*.d $(B)/fakebroker/*.d)
