/*
 * repl.c: the interactive loop. libedit reads lines (editing, history in
 * ~/.gtengine_history, tab completion); lua/gt/repl.lua decides what a line means
 * (expression or statement, complete or not) and prints results. `gtengine attach` runs the
 * same loop with another module (gt.cmd.attach: evaluation in the running session), its own
 * prompt and history file: any module with eval(chunk), complete(prefix) and banner() will do.
 */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>
/* editline after stdio: its readline.h uses FILE */
#include <editline/readline.h>

#include "gt.h"
#include "host.h"

static lua_State *repl_L;
static int repl_ref = LUA_NOREF; /* the gt.repl module table */
static volatile sig_atomic_t got_sigint;
static char *pending_line;
static int line_ready, line_eof;

static void on_line(char *line)
{
    line_ready = 1;
    if (!line)
        line_eof = 1;
    pending_line = line;
}

static void on_sigint(int sig)
{
    (void)sig;
    got_sigint = 1;
}

/* Calls gt.repl[fname](arg) under pcall; leaves one result on the stack. */
static int call_repl(lua_State *L, const char *fname, const char *arg)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
    lua_getfield(L, -1, fname);
    lua_remove(L, -2);
    lua_pushstring(L, arg);
    return gt_host_pcall(L, 1, 1);
}

static char **completions;
static size_t ncompletions, next_completion;

static char *completion_gen(const char *text, int state)
{
    (void)text;
    if (state == 0)
        next_completion = 0;
    if (next_completion < ncompletions)
        return strdup(completions[next_completion++]);
    return NULL;
}

static void free_completions(void)
{
    for (size_t i = 0; i < ncompletions; i++)
        free(completions[i]);
    free(completions);
    completions = NULL;
    ncompletions = 0;
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    lua_State *L = repl_L;
    free_completions();
    rl_attempted_completion_over = 1; /* never fall back to file names */
    if (call_repl(L, "complete", text) != 0 || !lua_istable(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    size_t n = lua_objlen(L, -1);
    completions = calloc(n ? n : 1, sizeof *completions);
    for (size_t i = 0; completions && i < n; i++) {
        lua_rawgeti(L, -1, (int)i + 1);
        const char *s = lua_tostring(L, -1);
        if (s && (completions[ncompletions] = strdup(s)))
            ncompletions++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return ncompletions ? rl_completion_matches(text, completion_gen) : NULL;
}

/* Reads one line; returns NULL on end of input. A Ctrl-C abandons the line being typed
 * and returns "" with *cancelled set. */
static char *read_line(const char *prompt, int *cancelled)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint; /* no SA_RESTART: select() returns EINTR */
    sigaction(SIGINT, &sa, &old);
    *cancelled = 0;
    line_ready = line_eof = 0;
    pending_line = NULL;
    got_sigint = 0;
    rl_callback_handler_install(prompt, on_line);
    while (!line_ready) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(STDIN_FILENO, &fds);
        int r = select(STDIN_FILENO + 1, &fds, NULL, NULL, NULL);
        if (got_sigint) {
            got_sigint = 0;
            *cancelled = 1;
            fputs("^C\n", stdout);
            rl_replace_line("", 0);
            break;
        }
        if (gt_host_signal() == SIGTERM || (r < 0 && errno != EINTR)) {
            line_eof = 1;
            break;
        }
        if (r > 0)
            rl_callback_read_char();
    }
    rl_callback_handler_remove();
    sigaction(SIGINT, &old, NULL);
    if (*cancelled)
        return strdup("");
    if (line_eof && !pending_line)
        return NULL;
    return pending_line;
}

static char *history_path(const char *name)
{
    const char *home = getenv("HOME");
    if (!home || !*home || !name || !*name || strchr(name, '/'))
        return NULL;
    size_t n = strlen(home) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", home, name);
    return p;
}

int gt_repl_run(lua_State *L)
{
    return gt_repl_run_with(L, "gt.repl", "gt> ", ".gtengine_history");
}

int gt_repl_run_with(lua_State *L, const char *module, const char *prompt, const char *history)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    if (gt_host_pcall(L, 1, 1) != 0) {
        fprintf(stderr, "gtengine: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return 1;
    }
    repl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    repl_L = L;
    gt_host_repl_mode(L, 1);

    char *hist = history_path(history);
    using_history();
    stifle_history(1000);
    if (hist)
        read_history(hist);
    rl_attempted_completion_function = complete;
    rl_readline_name = "gtengine";

    if (call_repl(L, "banner", "") == 0 && lua_isstring(L, -1))
        printf("%s\n", lua_tostring(L, -1));
    lua_pop(L, 1);

    size_t cap = 256, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return 1;
    buf[0] = '\0';
    for (;;) {
        int cancelled;
        char *line = read_line(len ? "..> " : prompt, &cancelled);
        if (!line) {
            fputc('\n', stdout);
            break;
        }
        if (cancelled) {
            free(line);
            len = 0;
            buf[0] = '\0';
            continue;
        }
        size_t ll = strlen(line);
        if (len + ll + 2 > cap) {
            size_t ncap = (len + ll + 2) * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(line);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        if (len)
            buf[len++] = '\n';
        memcpy(buf + len, line, ll + 1);
        len += ll;
        free(line);
        if (len == 0)
            continue;

        /* gt.repl.eval prints results and errors itself; it returns true while the
         * chunk is incomplete and "quit" for quit or exit. Ctrl-C during evaluation
         * raises "interrupted", also in JIT-compiled loops (see gt_host_repl_mode). */
        gt_host_interrupt_reset(L);
        int st = call_repl(L, "eval", buf);
        gt_host_interrupt_reset(L);
        int quit = st == 0 && lua_type(L, -1) == LUA_TSTRING; /* "quit": quit or exit */
        int incomplete = st == 0 && !quit && lua_toboolean(L, -1);
        if (st != 0)
            fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        if (quit) {
            add_history(buf);
            break;
        }
        if (gt_host_signal() == SIGTERM)
            break;
        if (incomplete)
            continue;
        add_history(buf);
        len = 0;
        buf[0] = '\0';
    }
    if (hist) {
        write_history(hist);
        free(hist);
    }
    free(buf);
    free_completions();
    gt_host_repl_mode(L, 0);
    luaL_unref(L, LUA_REGISTRYINDEX, repl_ref);
    repl_ref = LUA_NOREF;
    return gt_host_signal() ? 128 + gt_host_signal() : 0;
}
