/*
 * host.c: lua_State set-up, the embedded-module searcher, the `gt.host` table of facts
 * only C knows (executable path, library versions, terminal), SIGINT, and the protected
 * entry into Lua that main.c uses.
 */
#include "host.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <limits.h>
#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <lualib.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt.h"

static lua_State *sig_L;

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted");
}

/* Same approach as lua.c: the hook fires at the next call, return or count check in
 * interpreted code. JIT-compiled loops ignore hooks, so C loops also poll gt_interrupted. */
static void on_sigint(int sig)
{
    signal(sig, SIG_DFL); /* a second Ctrl-C ends the process */
    gt_interrupted = 1;
    if (sig_L)
        lua_sethook(sig_L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void gt_host_sigint_install(lua_State *L)
{
    sig_L = L;
    signal(SIGINT, on_sigint);
}

void gt_host_sigint_default(void)
{
    signal(SIGINT, SIG_DFL);
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
    lua_pushinteger(L, gt_repl_run(L));
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
    gt_host_sigint_install(L);
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
    return code;
script_error:
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "usage");
        fprintf(stderr, "gtengine: %s\n", lua_isstring(L, -1) ? lua_tostring(L, -1) : "usage error");
        return 2;
    }
    fprintf(stderr, "gtengine: %s\n", lua_isstring(L, -1) ? lua_tostring(L, -1) : "(error object is not a string)");
    return 1;
}
