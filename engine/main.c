/*
 * main.c: the gtengine executable. Everything past start-up is Lua (lua/gt/cli.lua owns
 * the command table, so `--help` and dispatch live in one place); main only creates the
 * host and turns its result into an exit code.
 */
#include <stdio.h>

#include "host.h"

int main(int argc, char **argv)
{
    struct lua_State *L = gt_host_new(argc, argv);
    if (!L) {
        fprintf(stderr, "gtengine: cannot start the Lua runtime (out of memory?)\n");
        return 1;
    }
    int code = gt_host_main(L, argc, argv);
    gt_host_free(L);
    return code;
}
