/*
 * fsio.c: atomic file writes. The temporary file is "DIR/.BASE.XXXXXX", made by mkostemp
 * (O_CREAT | O_EXCL: it never opens an existing name, so a symlink planted there cannot
 * redirect the write), in the target's directory so the final rename(2) cannot cross a
 * filesystem. The target is checked with lstat before and the rename replaces only a
 * regular file or nothing.
 */
#include "fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gt_file {
    int fd;
    char *path; /* the caller's name for the target, for messages */
    char *tmp;
    mode_t mode;
};

static const char *kind_name(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISLNK(m))
        return "a symbolic link";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* "dir" of path ("." when it has no slash), into buf. */
static void dir_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, size, ".");
    else if (slash == path)
        snprintf(buf, size, "/");
    else
        snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

/* The message for a failed create in path's directory: which path is not writable. */
static int create_failed(const char *path, int e)
{
    char dir[PATH_MAX];
    dir_of(path, dir, sizeof dir);
    if (e == EACCES || e == EPERM || e == EROFS)
        return gt_seterr(GT_EDENIED, "%s: cannot write: the directory %s is not writable (%s)",
                         path, dir, strerror(e));
    if (e == ENOENT || e == ENOTDIR)
        return gt_seterr(GT_EIO, "%s: cannot write: the directory %s does not exist", path, dir);
    return gt_seterr(GT_EIO, "%s: cannot write: %s", path, strerror(e));
}

/* The directories leading to path, made as `mkdir -p` would (a report into a fresh out/
 * just works); an existing one is left as it is, and a failure shows when the temporary
 * file cannot be created there, naming the directory. */
static void make_parents(const char *path)
{
    char dir[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof dir)
        return;
    memcpy(dir, path, n + 1);
    char *last = strrchr(dir, '/');
    if (!last || last == dir)
        return;
    *last = '\0';
    struct stat st;
    if (stat(dir, &st) == 0)
        return;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            return;
        *p = '/';
    }
    mkdir(dir, 0777);
}

int gt_file_create(const char *path, gt_file **out)
{
    if (!out)
        return gt_seterr(GT_EINVAL, "fsio: gt_file_create needs an output pointer");
    *out = NULL;
    if (!path || !path[0])
        return gt_seterr(GT_EINVAL, "fsio: empty path");
    size_t plen = strlen(path);
    if (path[plen - 1] == '/' || plen > PATH_MAX - 16)
        return gt_seterr(GT_EINVAL, "%s: not a file name", path);
    struct stat st;
    mode_t mode;
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return gt_seterr(GT_EDENIED,
                             "%s exists and is %s, not a regular file; gtengine replaces only "
                             "regular files: choose another path",
                             path, kind_name(st.st_mode));
        mode = st.st_mode & 07777; /* a rewrite keeps the file's permissions */
    } else if (errno == ENOENT) {
        /* a new file gets what open(2) would give it; reading the umask means setting it,
         * so this is not thread-safe (gtengine writes files from one thread) */
        mode_t um = umask(0);
        umask(um);
        mode = 0666 & ~um;
    } else {
        return gt_seterr(GT_EIO, "%s: %s", path, strerror(errno));
    }
    gt_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path)) || !(f->tmp = malloc(plen + 16))) {
        if (f)
            free(f->path);
        free(f);
        return gt_seterr(GT_ENOMEM, "%s: out of memory", path);
    }
    make_parents(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    snprintf(f->tmp, plen + 16, "%.*s.%s.XXXXXX", (int)(base - path), path, base);
    f->fd = mkostemp(f->tmp, O_CLOEXEC);
    if (f->fd < 0) {
        int e = errno;
        free(f->tmp);
        free(f->path);
        free(f);
        return create_failed(path, e);
    }
    f->mode = mode;
    *out = f;
    return GT_OK;
}

int gt_file_write(gt_file *f, const char *buf, int64_t len)
{
    if (!f || f->fd < 0 || len < 0 || (len > 0 && !buf))
        return gt_seterr(GT_EINVAL, "fsio: bad write arguments");
    int64_t done = 0;
    while (done < len) {
        ssize_t w = write(f->fd, buf + done, (size_t)(len - done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            return gt_seterr(e == ENOSPC ? GT_ETOOBIG : GT_EIO, "%s: cannot write: %s", f->path,
                             strerror(e));
        }
        done += w;
    }
    return GT_OK;
}

void gt_file_abort(gt_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    unlink(f->tmp);
    free(f->tmp);
    free(f->path);
    free(f);
}

int gt_file_commit(gt_file *f)
{
    if (!f)
        return gt_seterr(GT_EINVAL, "fsio: NULL file");
    int rc = GT_OK;
    struct stat st;
    /* fsync before rename: after a crash the name points at the whole file or the old one */
    if (fchmod(f->fd, f->mode) != 0 || fsync(f->fd) != 0) {
        rc = gt_seterr(GT_EIO, "%s: cannot write: %s", f->path, strerror(errno));
    } else if (close(f->fd) != 0) {
        f->fd = -1;
        rc = gt_seterr(GT_EIO, "%s: cannot write: %s", f->path, strerror(errno));
    } else {
        f->fd = -1;
        /* checked again: something may have appeared at the path while we wrote */
        if (lstat(f->path, &st) == 0 && !S_ISREG(st.st_mode))
            rc = gt_seterr(GT_EDENIED, "%s exists and is %s, not a regular file; nothing written",
                           f->path, kind_name(st.st_mode));
        else if (rename(f->tmp, f->path) != 0)
            rc = gt_seterr(GT_EIO, "%s: cannot write: %s", f->path, strerror(errno));
    }
    if (rc != GT_OK) {
        gt_file_abort(f);
        return rc;
    }
    char dir[PATH_MAX];
    dir_of(f->path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename itself durable; best effort (some filesystems refuse) */
        fsync(dfd);
        close(dfd);
    }
    free(f->tmp);
    free(f->path);
    free(f);
    return GT_OK;
}

int gt_file_write_atomic(const char *path, const char *buf, int64_t len)
{
    gt_file *f = NULL;
    int rc = gt_file_create(path, &f);
    if (rc != GT_OK)
        return rc;
    if ((rc = gt_file_write(f, buf, len)) != GT_OK) {
        gt_file_abort(f);
        return rc;
    }
    return gt_file_commit(f);
}

int gt_file_stat(const char *path, int64_t *size, int32_t *type)
{
    if (!path || !size || !type)
        return gt_seterr(GT_EINVAL, "fsio: gt_file_stat needs a path and outputs");
    *size = -1;
    *type = GT_FILE_NONE;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        return e == ENOENT ? GT_OK : gt_seterr(GT_EIO, "%s: %s", path, strerror(e));
    }
    if (S_ISREG(st.st_mode)) {
        *type = GT_FILE_REGULAR;
        *size = (int64_t)st.st_size;
    } else {
        *type = S_ISDIR(st.st_mode) ? GT_FILE_DIR : GT_FILE_OTHER;
    }
    return GT_OK;
}

int gt_file_mtime(const char *path, int64_t *size, int64_t *mtime_ns)
{
    if (!path || !size || !mtime_ns)
        return gt_seterr(GT_EINVAL, "fsio: gt_file_mtime needs a path and outputs");
    *size = -1;
    *mtime_ns = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        return e == ENOENT || e == ENOTDIR ? GT_OK : gt_seterr(GT_EIO, "%s: %s", path, strerror(e));
    }
    if (S_ISREG(st.st_mode)) {
        *size = (int64_t)st.st_size;
        *mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + (int64_t)st.st_mtim.tv_nsec;
    }
    return GT_OK;
}
