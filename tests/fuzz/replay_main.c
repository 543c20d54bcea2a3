/*
 * replay_main.c: runs a libFuzzer target's LLVMFuzzerTestOneInput over saved corpus
 * files without libFuzzer, so `make test` (gcc, or ASan under `make asan`) replays every
 * corpus on any machine. One TAP line per corpus directory; a crash aborts the binary,
 * which the test runner counts as a failure.
 * usage: fuzz_X DIR_OR_FILE...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int t = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long count = 0, errors = 0;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                if (run_file(path) == 0)
                    count++;
                else
                    errors++;
            }
            if (d)
                closedir(d);
        } else if (run_file(argv[i]) == 0) {
            count++;
        } else {
            errors++;
        }
        int ok = errors == 0 && count > 0;
        failed += !ok;
        printf("%sok %d - replayed %ld inputs from %s\n", ok ? "" : "not ", ++t, count, argv[i]);
    }
    printf("1..%d\n", t);
    return failed ? 1 : 0;
}
