/*
 * host.c: lua_State set-up, the embedded-module searcher, the `gt.host` table of facts
 * only C knows (executable path, library versions, terminal), SIGINT/SIGTERM, and the protected
 * entry into Lua that main.c uses.
 */
#include "host.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <luajit.h>
#include <lualib.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt.h"

static lua_State *volatile sig_L;       /* read by the signal handler */
static volatile sig_atomic_t sig_first; /* the first SIGINT/SIGTERM, 0 before one came */
static struct timespec sig_first_at;     /* when it came (monotonic) */
static volatile sig_atomic_t sig_repl;  /* the REPL owns SIGINT: it never ends the process */
static volatile sig_atomic_t sig_count; /* Ctrl-Cs during the current REPL chunk */
static sem_t grace_sem;                 /* posted by the first signal: starts the watchdog */
static int grace_ready;

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted");
}

/* Same approach as lua.c: the hook fires at the next call, return or count check in
 * interpreted code (lua_sethook only stores the hook and updates the dispatch table,
 * which LuaJIT's own profiler also does from a signal handler). */
static void arm_hook(void)
{
    gt_interrupted = 1;
    lua_State *L = sig_L;
    if (L)
        lua_sethook(L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void say(const char *msg)
{
    ssize_t r = write(STDERR_FILENO, msg, strlen(msg));
    (void)r;
}

static void on_kill_signal(int sig)
{
    (void)sig;
    gt_risk_kill_all(); /* sets a flag: async-signal-safe */
}

/* Only async-signal-safe calls here: write, _exit, sem_post and setting the hook. */
static void on_signal(int sig)
{
    if (sig_repl && sig == SIGINT) {
        if (++sig_count >= 3)
            say("\ngtengine: the running code does not answer Ctrl-C (a long C call?); "
                "Ctrl-\\ ends the session\n");
        arm_hook();
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* async-signal-safe (POSIX) */
    if (sig_first) {
        /* The same signal twice within 200 ms is one request: `timeout` (and some service
         * managers) signal the child and then its whole process group. A later one is a
         * person insisting: no more waiting. */
        long long ms = (long long)(now.tv_sec - sig_first_at.tv_sec) * 1000 +
                       (now.tv_nsec - sig_first_at.tv_nsec) / 1000000;
        if (sig == sig_first && ms < 200)
            return;
        _exit(128 + sig);
    }
    sig_first_at = now;
    sig_first = sig;
    arm_hook();
    if (grace_ready)
        sem_post(&grace_sem);
}

/* The watchdog: sleeps until the first signal, then gives the script GT_HOST_GRACE_MS to
 * stop. Past that it flushes stdout if no thread is inside a stdio call on it (a stuck
 * writer keeps its lock, and waiting for it would hang the exit) and ends the process. */
static void *grace_main(void *arg)
{
    (void)arg;
    while (sem_wait(&grace_sem) != 0)
        ;
    struct timespec ts = {GT_HOST_GRACE_MS / 1000, (GT_HOST_GRACE_MS % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    int sig = sig_first;
    if (ftrylockfile(stdout) == 0)
        fflush(stdout); /* the lock stays held: nothing writes after this flush */
    char msg[160];
    snprintf(msg, sizeof msg, "gtengine: still running %.1f s after %s; exiting (status %d)\n",
             GT_HOST_GRACE_MS / 1000.0, sig == SIGTERM ? "SIGTERM" : "SIGINT", 128 + sig);
    say(msg);
    _exit(128 + sig);
    return NULL;
}

/* fork() copies only the calling thread: a child has no watchdog until it installs one. */
static void forget_watchdog(void)
{
    grace_ready = 0;
}

static void handle(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

void gt_host_signals_install(lua_State *L)
{
    static int atfork_done;
    sig_L = L;
    if (!atfork_done)
        atfork_done = pthread_atfork(NULL, NULL, forget_watchdog) == 0;
    if (!grace_ready && sem_init(&grace_sem, 0, 0) == 0) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        sigset_t all, old;
        sigfillset(&all); /* the signals are for the main thread, never the watchdog */
        pthread_sigmask(SIG_SETMASK, &all, &old);
        grace_ready = pthread_create(&t, &attr, grace_main, NULL) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    handle(SIGINT, on_signal);
    handle(SIGTERM, on_signal);
    /* SIGUSR1 is the kill switch: every risk gate in the process halts (nothing else stops) */
    handle(SIGUSR1, on_kill_signal);
}

int gt_host_signal(void)
{
    return sig_first;
}

static void profile_tick(void *data, lua_State *L, int samples, int vmstate)
{
    /* Nothing to record: the tick exists to take JIT code back to the interpreter. */
    (void)data;
    (void)L;
    (void)samples;
    (void)vmstate;
}

void gt_host_repl_mode(lua_State *L, int on)
{
    sig_L = L;
    sig_count = 0;
    sig_repl = on;
    /* 'l': traces check for a tick at each new source line; i20: a tick per 20 ms of CPU.
     * Starting and stopping flush compiled traces, so this happens once per session. */
    if (on)
        luaJIT_profile_start(L, "li20", profile_tick, NULL);
    else
        luaJIT_profile_stop(L);
}

void gt_host_interrupt_reset(lua_State *L)
{
    sig_count = 0;
    gt_clear_interrupt();
    if (lua_gethook(L) == stop_hook)
        lua_sethook(L, NULL, 0, 0);
}

static int traceback(lua_State *L)
{
    if (!lua_isstring(L, 1)) /* tables (usage errors) and other values pass through */
        return 1;
    lua_getglobal(L, "debug");
    lua_getfield(L, -1, "traceback");
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

int gt_host_pcall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    int st = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return st;
}

/* package.loaders entry: finds a module compiled into the binary. */
static int embedded_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    for (const gt_host_module *m = gt_host_modules; m->name; m++) {
        if (strcmp(m->name, name) == 0) {
            if (luaL_loadbuffer(L, (const char *)m->bc, m->len, m->chunkname) != 0)
                return lua_error(L);
            return 1;
        }
    }
    lua_pushfstring(L, "\n\tno embedded module '%s'", name);
    return 1;
}

static int host_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int host_repl(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, gt_repl_run(L));
        return 1;
    }
    const char *module = luaL_checkstring(L, 1);
    const char *prompt = luaL_optstring(L, 2, "gt> ");
    const char *history = luaL_optstring(L, 3, ".gtengine_history");
    lua_pushinteger(L, gt_repl_run_with(L, module, prompt, history));
    return 1;
}

static int host_modules(lua_State *L)
{
    lua_newtable(L);
    int i = 1;
    for (const gt_host_module *m = gt_host_modules; m->name; m++) {
        lua_pushstring(L, m->name);
        lua_rawseti(L, -2, i++);
    }
    return 1;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

/* The `gt.host` module: facts and services only the host can provide. */
static void push_host_table(lua_State *L)
{
    lua_newtable(L);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    set_str(L, "exe", exe);
    set_str(L, "version", gt_version());
    set_str(L, "luajit", LUAJIT_VERSION);
    set_str(L, "curl", curl_version_info(CURLVERSION_NOW)->version);
    set_str(L, "sqlite", sqlite3_libversion());
    set_str(L, "cjson", cJSON_Version());
#ifdef GT_PREFIX
    set_str(L, "prefix", GT_PREFIX);
#endif
    set_str(L, "cdef", gt_host_cdef);
    lua_pushcfunction(L, host_isatty);
    lua_setfield(L, -2, "isatty");
    lua_pushcfunction(L, host_repl);
    lua_setfield(L, -2, "repl");
    lua_pushcfunction(L, host_modules);
    lua_setfield(L, -2, "modules");
}

/* GT_LUA_PATH puts on-disk modules ahead of the embedded ones (for developers); a
 * template ending in ?.lua also gets its ?/init.lua sibling so `require "gt"` works. */
static const char setup_paths[] =
    "local loaders, embedded, dev = package.loaders, ...\n"
    "package.loaded['gt.host'].searcher = embedded\n"
    "if dev and dev ~= '' then\n"
    "  local t = {}\n"
    "  for tpl in dev:gmatch('[^;]+') do\n"
    "    t[#t+1] = tpl\n"
    "    if tpl:sub(-5) == '?.lua' then t[#t+1] = tpl:sub(1, -6) .. '?/init.lua' end\n"
    "  end\n"
    "  package.path = table.concat(t, ';') .. ';' .. package.path\n"
    "  table.insert(loaders, 3, embedded)\n"
    "else\n"
    "  table.insert(loaders, 2, embedded)\n"
    "end\n";

lua_State *gt_host_new(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    lua_State *L = luaL_newstate();
    if (!L)
        return NULL;
    lua_gc(L, LUA_GCSTOP, 0);
    luaL_openlibs(L);
    lua_gc(L, LUA_GCRESTART, -1);

    /* package.loaded["gt.host"]: require "gt.host" returns the table directly. */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    push_host_table(L);
    lua_setfield(L, -2, "gt.host");
    lua_pop(L, 2);

    if (luaL_loadbuffer(L, setup_paths, sizeof setup_paths - 1, "=host") != 0)
        goto fail;
    lua_pushcfunction(L, embedded_searcher);
    lua_pushstring(L, getenv("GT_LUA_PATH"));
    if (lua_pcall(L, 2, 0, 0) != 0)
        goto fail;
    return L;
fail:
    lua_close(L);
    return NULL;
}

void gt_host_free(lua_State *L)
{
    if (sig_L == L)
        sig_L = NULL; /* a signal from here on must not set a hook on a closed state */
    if (L)
        lua_close(L);
}

static void push_args(lua_State *L, int argc, char **argv)
{
    lua_createtable(L, argc, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
}

int gt_host_main(lua_State *L, int argc, char **argv)
{
    gt_host_signals_install(L);
    lua_getglobal(L, "require");
    lua_pushstring(L, "gt.cli");
    if (gt_host_pcall(L, 1, 1) != 0)
        goto script_error;
    lua_getfield(L, -1, "main");
    push_args(L, argc, argv);
    if (gt_host_pcall(L, 1, 1) != 0)
        goto script_error;
    int code = lua_isnumber(L, -1) ? (int)lua_tointeger(L, -1) : 0;
    lua_pop(L, 2);
    /* a run that failed because it was stopped says so in its status, like a shell */
    return code != 0 && gt_host_signal() ? 128 + gt_host_signal() : code;
script_error:
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "usage");
        fprintf(stderr, "gtengine: %s\n",
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "usage error");
        return 2;
    }
    fprintf(stderr, "gtengine: %s\n",
            lua_isstring(L, -1) ? lua_tostring(L, -1) : "(error object is not a string)");
    return gt_host_signal() ? 128 + gt_host_signal() : 1;
}
