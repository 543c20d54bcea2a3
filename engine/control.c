/*
 * control.c: the session's control socket (see control.h for the contract and the
 * security reasoning). One struct serves both roles: a listener with at most one attached
 * client, and a client connected to a listener; both read and write through `conn`, which
 * frames bytes and never blocks.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HEADER_MAX 64 /* "<kind> <id> <length>\n": 16 + 1 + 20 + 1 + 20 + 1 */
#define KIND_MAX 16
#define ACCEPTS_PER_POLL 8 /* a flood of connections cannot keep one poll busy */

typedef struct conn {
    int fd;
    char *in; /* received bytes; in_len of them, capacity in_cap */
    size_t in_len, in_cap;
    size_t frame_used;       /* bytes of `in` the current frame occupies (0: none) */
    size_t max_body;         /* the peer's frame limit */
    int eof;                 /* the peer closed its side: hand out whole frames, then drop */
    char *out;               /* unsent bytes out[out_off .. out_len) */
    size_t out_off, out_len, out_cap;
    char kind[KIND_MAX + 1]; /* the current frame */
    int64_t id;
    const char *body;
    size_t body_len;
} conn;

struct gt_control {
    int listener;      /* 1: the server side */
    int lfd;           /* listening socket, -1 on a client */
    conn c;            /* the peer: the attached client, or the server; c.fd -1 when none */
    int64_t peer_uid;  /* -1 with no peer */
    int detached;      /* a detach not yet reported by poll */
    const char *why;   /* its reason */
    dev_t dev;         /* the socket file the listener bound, to unlink only that one */
    ino_t ino;
    char path[GT_CONTROL_PATH_MAX];
};

int64_t gt_control_uid(void)
{
    return (int64_t)geteuid();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

int gt_control_socket_path(const char *db, char *out, int64_t cap)
{
    if (!db || !out || cap <= 0)
        return gt_seterr(GT_EINVAL, "control: socket_path needs a database path and a buffer");
    /* The real path names the database however it was spelled; a database not created yet
     * is named by its directory's real path and its file name. */
    char real[PATH_MAX];
    if (!realpath(db, real)) {
        char dir[PATH_MAX];
        const char *slash = strrchr(db, '/');
        const char *file = slash ? slash + 1 : db;
        int dl = slash ? (int)(slash - db) : 1;
        snprintf(dir, sizeof dir, "%.*s", dl ? dl : 1, slash ? (dl ? db : "/") : ".");
        char rdir[PATH_MAX];
        if (!*file || !realpath(dir, rdir))
            return gt_seterr(GT_ENOTFOUND, "control: %s: %s", db, strerror(errno));
        if (snprintf(real, sizeof real, "%s/%s", strcmp(rdir, "/") ? rdir : "", file) >=
            (int)sizeof real)
            return gt_seterr(GT_ERANGE, "control: %s: path too long", db);
    }
    /* a readable name: the database's file name, cut and limited to safe characters */
    const char *base = strrchr(real, '/');
    base = base ? base + 1 : real;
    char name[33];
    size_t n = 0;
    for (; base[n] && n < sizeof name - 1; n++) {
        char ch = base[n];
        int safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '.' || ch == '-' || ch == '_';
        name[n] = safe ? ch : '_';
    }
    name[n] = '\0';
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int len;
    if (xdg && xdg[0] == '/')
        len = snprintf(out, (size_t)cap, "%s/gtengine/%s-%08x.sock", xdg, name, fnv1a(real));
    else
        len = snprintf(out, (size_t)cap, "/tmp/gtengine-%lld/%s-%08x.sock", (long long)geteuid(),
                       name, fnv1a(real));
    if (len < 0 || (int64_t)len >= cap || len >= GT_CONTROL_PATH_MAX)
        return gt_seterr(GT_ERANGE, "control: the socket path for %s is too long (%d bytes; a Unix "
                         "socket path has at most %d)", db, len, GT_CONTROL_PATH_MAX - 1);
    return len;
}

/* ---- framing ---- */

static int conn_init(conn *k, int fd, size_t max_body)
{
    memset(k, 0, sizeof *k);
    k->fd = fd;
    k->max_body = max_body;
    k->in_cap = HEADER_MAX + max_body + 1;
    k->in = malloc(k->in_cap);
    if (!k->in)
        return gt_seterr(GT_ENOMEM, "control: no memory for a %zu-byte buffer", k->in_cap);
    return GT_OK;
}

static void conn_fini(conn *k)
{
    if (k->fd >= 0)
        close(k->fd);
    free(k->in);
    free(k->out);
    memset(k, 0, sizeof *k);
    k->fd = -1;
}

/* Forgets the frame poll returned last: its bytes leave the input buffer. */
static void conn_consume(conn *k)
{
    if (!k->frame_used)
        return;
    memmove(k->in, k->in + k->frame_used, k->in_len - k->frame_used);
    k->in_len -= k->frame_used;
    k->frame_used = 0;
    k->body = NULL;
    k->body_len = 0;
    k->kind[0] = '\0';
}

static int parse_uint(const char **p, const char *end, uint64_t max, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    int digits = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (++digits > 19)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (!digits || x > max)
        return -1;
    *p = s;
    *v = x;
    return 0;
}

/* 1: a whole frame is at the start of `in` (now current); 0: more bytes needed; -1: the
 * bytes are not a frame, or one past the limit. */
static int conn_parse(conn *k)
{
    if (k->frame_used)
        return 1;
    char *nl = memchr(k->in, '\n', k->in_len < HEADER_MAX ? k->in_len : HEADER_MAX);
    if (!nl)
        return k->in_len >= HEADER_MAX ? -1 : 0;
    const char *p = k->in, *end = nl;
    size_t kl = 0;
    while (p < end && *p >= 'a' && *p <= 'z' && kl < KIND_MAX)
        k->kind[kl++] = *p++;
    k->kind[kl] = '\0';
    uint64_t id, len;
    if (kl == 0 || p >= end || *p++ != ' ' || parse_uint(&p, end, (1ull << 53), &id) != 0 || p >= end ||
        *p++ != ' ' || parse_uint(&p, end, k->max_body, &len) != 0 || p != end)
        return -1;
    size_t head = (size_t)(nl - k->in) + 1;
    if (k->in_len < head + len)
        return 0;
    k->id = (int64_t)id;
    k->body = k->in + head;
    k->body_len = (size_t)len;
    k->frame_used = head + (size_t)len;
    return 1;
}

/* Reads what the socket has, up to the buffer's room. 1: read something (or nothing was
 * there), 0: the peer closed, -1: an error. */
static int conn_read(conn *k)
{
    while (k->in_len < k->in_cap - 1) {
        ssize_t r = read(k->fd, k->in + k->in_len, k->in_cap - 1 - k->in_len);
        if (r > 0) {
            k->in_len += (size_t)r;
            k->in[k->in_len] = '\0';
            continue;
        }
        if (r == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
    }
    return 1;
}

/* Writes what the socket takes. 1: all or some written (or would block), -1: error. */
static int conn_flush(conn *k)
{
    while (k->out_off < k->out_len) {
        ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            k->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        return -1;
    }
    k->out_off = k->out_len = 0;
    return 1;
}

static int check_kind(const char *kind)
{
    size_t n = kind ? strlen(kind) : 0;
    if (n == 0 || n > KIND_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (kind[i] < 'a' || kind[i] > 'z')
            return -1;
    return 0;
}

/* Appends a frame to the output buffer; GT_ETOOBIG when it would pass `pending_cap`. */
static int conn_queue(conn *k, const char *kind, int64_t id, const char *body, size_t len,
                      size_t pending_cap)
{
    char head[HEADER_MAX];
    int hl = snprintf(head, sizeof head, "%s %lld %zu\n", kind, (long long)id, len);
    size_t unsent = k->out_len - k->out_off;
    if (unsent + (size_t)hl + len > pending_cap)
        return GT_ETOOBIG;
    if (k->out_off) { /* compact */
        memmove(k->out, k->out + k->out_off, unsent);
        k->out_len = unsent;
        k->out_off = 0;
    }
    size_t need = k->out_len + (size_t)hl + len;
    if (need > k->out_cap) {
        size_t ncap = k->out_cap ? k->out_cap : 4096;
        while (ncap < need)
            ncap *= 2;
        char *nb = realloc(k->out, ncap);
        if (!nb)
            return gt_seterr(GT_ENOMEM, "control: no memory for a %zu-byte reply", need);
        k->out = nb;
        k->out_cap = ncap;
    }
    memcpy(k->out + k->out_len, head, (size_t)hl);
    if (len)
        memcpy(k->out + k->out_len + hl, body, len);
    k->out_len = need;
    return GT_OK;
}

/* ---- the listener ---- */

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int fill_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof a->sun_path)
        return gt_seterr(GT_ERANGE, "control: socket path '%s' is empty or longer than %zu bytes",
                         path, sizeof a->sun_path - 1);
    memcpy(a->sun_path, path, n + 1);
    return GT_OK;
}

/* The directory must be ours alone: a directory (not a symlink), owned by our euid, with
 * no group or other permission bits. */
static int private_dir(const char *path)
{
    char dir[GT_CONTROL_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return gt_seterr(GT_EDENIED, "control: %s: the socket must be in a private directory, "
                         "not in / or the current directory", path);
    *slash = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return gt_seterr(GT_EIO, "control: cannot create %s: %s", dir, strerror(errno));
    struct stat st;
    if (lstat(dir, &st) != 0)
        return gt_seterr(GT_EIO, "control: %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return gt_seterr(GT_EDENIED, "control: %s is not a directory (a symlink?); refusing it",
                         dir);
    if (st.st_uid != geteuid())
        return gt_seterr(GT_EDENIED, "control: %s is owned by uid %lld, not by this session's uid "
                         "%lld; refusing it", dir, (long long)st.st_uid, (long long)geteuid());
    if (st.st_mode & 077)
        return gt_seterr(GT_EDENIED, "control: %s has mode %04o; a control directory must be "
                         "0700 (chmod 700 %s)", dir, (unsigned)(st.st_mode & 07777), dir);
    return GT_OK;
}

/* An existing file at path: a socket of ours that nobody answers is stale and removed. */
static int clear_stale(const char *path, const struct sockaddr_un *a)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? GT_OK : gt_seterr(GT_EIO, "control: %s: %s", path, strerror(errno));
    if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
        return gt_seterr(GT_EDENIED, "control: %s exists and is not a socket of this uid; "
                         "refusing to replace it", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return gt_seterr(GT_EIO, "control: socket: %s", strerror(errno));
    int r = connect(fd, (const struct sockaddr *)a, sizeof *a);
    int e = errno;
    close(fd);
    if (r == 0 || e == EAGAIN)
        return gt_seterr(GT_ESTATE, "control: %s: another session is listening there", path);
    if (e != ECONNREFUSED && e != ENOENT)
        return gt_seterr(GT_EIO, "control: %s: %s", path, strerror(e));
    if (unlink(path) != 0 && errno != ENOENT)
        return gt_seterr(GT_EIO, "control: cannot remove the stale socket %s: %s", path,
                         strerror(errno));
    return GT_OK;
}

static gt_control *control_new(const char *path, int listener)
{
    gt_control *c = calloc(1, sizeof *c);
    if (!c) {
        gt_seterr(GT_ENOMEM, "control: no memory");
        return NULL;
    }
    c->listener = listener;
    c->lfd = -1;
    c->c.fd = -1;
    c->peer_uid = -1;
    c->why = "";
    snprintf(c->path, sizeof c->path, "%s", path);
    return c;
}

gt_control *gt_control_listen(const char *path)
{
    struct sockaddr_un a;
    if (!path || fill_addr(&a, path) != GT_OK)
        return path ? NULL : (gt_seterr(GT_EINVAL, "control: listen needs a path"), NULL);
    if (private_dir(path) != GT_OK || clear_stale(path, &a) != GT_OK)
        return NULL;
    gt_control *c = control_new(path, 1);
    if (!c)
        return NULL;
    c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->lfd < 0) {
        gt_seterr(GT_EIO, "control: socket: %s", strerror(errno));
        goto fail;
    }
    /* The file is created by bind with the umask applied: 0177 leaves 0600, so there is no
     * moment when it is open to others; chmod and lstat then make sure of it. */
    mode_t old = umask(0177);
    int r = bind(c->lfd, (const struct sockaddr *)&a, sizeof a);
    int e = errno;
    umask(old);
    if (r != 0) {
        gt_seterr(e == EADDRINUSE ? GT_ESTATE : GT_EIO, "control: bind %s: %s", path, strerror(e));
        goto fail;
    }
    struct stat st;
    if (chmod(path, 0600) != 0 || lstat(path, &st) != 0) {
        gt_seterr(GT_EIO, "control: %s: %s", path, strerror(errno));
        unlink(path);
        goto fail;
    }
    if (!S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0600 || st.st_uid != geteuid()) {
        gt_seterr(GT_EDENIED, "control: %s has mode %04o after chmod 0600; refusing to serve it",
                  path, (unsigned)(st.st_mode & 07777));
        unlink(path);
        goto fail;
    }
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    if (listen(c->lfd, 4) != 0) {
        gt_seterr(GT_EIO, "control: listen %s: %s", path, strerror(errno));
        unlink(path);
        goto fail;
    }
    return c;
fail:
    if (c->lfd >= 0)
        close(c->lfd);
    free(c);
    return NULL;
}

static int64_t peer_uid(int fd)
{
    struct ucred cr;
    socklen_t n = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) != 0 || n != sizeof cr)
        return -1;
    return (int64_t)cr.uid;
}

/* A one-frame answer to a connection we do not keep; the socket buffer of a new
 * connection takes it whole, and if it does not, the client simply sees the close. */
static void refuse(int fd, const char *kind, const char *msg)
{
    char buf[HEADER_MAX + 256];
    int n = snprintf(buf, sizeof buf, "%s 0 %zu\n%s", kind, strlen(msg), msg);
    if (n > 0 && (size_t)n < sizeof buf) {
        ssize_t w = send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    close(fd);
}

static void drop(gt_control *c, const char *why)
{
    conn_fini(&c->c);
    c->peer_uid = -1;
    c->detached = 1;
    c->why = why;
}

/* Accepts waiting connections: the first allowed one is kept when nobody is attached.
 * Returns 1 when a client attached. */
static int accept_some(gt_control *c)
{
    for (int i = 0; i < ACCEPTS_PER_POLL; i++) {
        int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return 0; /* EAGAIN, or an error the next poll sees again */
        int64_t uid = peer_uid(fd);
        if (uid < 0 || uid != (int64_t)geteuid()) {
            char msg[160];
            snprintf(msg, sizeof msg, "refused: uid %lld is not this session's user (uid %lld)\n",
                     (long long)uid, (long long)geteuid());
            refuse(fd, "refused", msg);
            continue;
        }
        if (c->c.fd >= 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "busy: another client (uid %lld) is attached to this "
                     "session; one at a time\n", (long long)c->peer_uid);
            refuse(fd, "busy", msg);
            continue;
        }
        if (conn_init(&c->c, fd, GT_CONTROL_MAX_REQUEST) != GT_OK) {
            refuse(fd, "error", "error: the session is out of memory\n");
            c->c.fd = -1;
            continue;
        }
        c->peer_uid = uid;
        c->why = "";
        return 1;
    }
    return 0;
}

/* ---- the client ---- */

gt_control *gt_control_connect(const char *path, int32_t timeout_ms)
{
    struct sockaddr_un a;
    if (!path || fill_addr(&a, path) != GT_OK)
        return path ? NULL : (gt_seterr(GT_EINVAL, "control: connect needs a path"), NULL);
    gt_control *c = control_new(path, 0);
    if (!c)
        return NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        gt_seterr(GT_EIO, "control: socket: %s", strerror(errno));
        goto fail;
    }
    /* A Unix socket connects at once or fails at once, except with a full backlog: bound
     * that wait with a send timeout (connect honours SO_SNDTIMEO). */
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    if (timeout_ms > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ENOTDIR)
            gt_seterr(GT_ENOTFOUND, "control: no socket at %s", path);
        else if (e == ECONNREFUSED)
            gt_seterr(GT_ESTATE, "control: nobody listens at %s (a stale socket)", path);
        else if (e == EAGAIN || e == EINPROGRESS || e == ETIMEDOUT)
            gt_seterr(GT_ESTATE, "control: %s: the session does not accept connections now", path);
        else if (e == EACCES || e == EPERM)
            gt_seterr(GT_EDENIED, "control: %s: permission denied (the socket belongs to "
                      "another user)", path);
        else
            gt_seterr(GT_EIO, "control: connect %s: %s", path, strerror(e));
        goto fail;
    }
    int64_t uid = peer_uid(fd);
    if (uid < 0 || (uid != (int64_t)geteuid() && uid != 0)) {
        close(fd);
        gt_seterr(GT_EDENIED, "control: %s is served by uid %lld, neither you nor root; not "
                  "talking to it", path, (long long)uid);
        goto fail;
    }
    tv.tv_sec = tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (set_nonblock(fd) != 0 || conn_init(&c->c, fd, GT_CONTROL_MAX_REPLY) != GT_OK) {
        if (c->c.fd < 0)
            close(fd);
        gt_seterr(GT_EIO, "control: cannot set up the connection");
        goto fail;
    }
    c->peer_uid = uid;
    return c;
fail:
    conn_fini(&c->c);
    free(c);
    return NULL;
}

/* ---- both ---- */

void gt_control_close(gt_control *c)
{
    if (!c)
        return;
    conn_fini(&c->c);
    if (c->lfd >= 0) {
        close(c->lfd);
        struct stat st; /* a newer session may have replaced the file: leave that one */
        if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
            unlink(c->path);
    }
    free(c);
}

int gt_control_poll(gt_control *c, int32_t timeout_ms)
{
    if (!c)
        return gt_seterr(GT_EINVAL, "control: poll on NULL");
    conn *k = &c->c;
    if (k->fd >= 0)
        conn_consume(k);
    int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : INT64_MAX;
    /* Each pass handles what poll(2) reported and returns on an event; otherwise it goes
     * round until the deadline, so the loop ends for any input. */
    for (int pass = 0;; pass++) {
        if (c->detached) {
            c->detached = 0;
            return GT_CONTROL_DETACHED;
        }
        if (k->fd >= 0) {
            int p = conn_parse(k);
            if (p > 0)
                return GT_CONTROL_FRAME;
            if (p < 0) {
                if (c->listener) {
                    char msg[128];
                    snprintf(msg, sizeof msg, "error: not a frame (\"<kind> <id> <length>\\n\" "
                             "and at most %d bytes of body); closing\n", GT_CONTROL_MAX_REQUEST);
                    conn_queue(k, "error", 0, msg, strlen(msg), GT_CONTROL_MAX_PENDING);
                    conn_flush(k);
                }
                drop(c, "protocol");
                continue;
            }
            if (k->eof) {
                drop(c, "closed");
                continue;
            }
        }
        int64_t left = deadline == INT64_MAX ? -1 : deadline - now_ms();
        if (deadline != INT64_MAX && left <= 0) {
            if (pass > 0)
                return GT_CONTROL_NONE;
            left = 0;
        }
        if (gt_interrupted)
            return gt_seterr(GT_EINTR, "control: interrupted");
        struct pollfd pf[2];
        int n = 0, li = -1, ci = -1;
        if (c->lfd >= 0) {
            pf[n].fd = c->lfd;
            pf[n].events = POLLIN;
            li = n++;
        }
        if (k->fd >= 0) {
            pf[n].fd = k->fd;
            pf[n].events = (short)((k->in_len < k->in_cap - 1 ? POLLIN : 0) |
                                   (k->out_len > k->out_off ? POLLOUT : 0));
            ci = n++;
        }
        if (n == 0)
            return GT_CONTROL_NONE; /* a client whose server went away, reported already */
        /* wait in slices so a raised interrupt flag is seen even if no signal reaches poll */
        int wait = left < 0 || left > 100 ? 100 : (int)left;
        int r = poll(pf, (nfds_t)n, wait);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return gt_seterr(GT_EIO, "control: poll: %s", strerror(errno));
        }
        if (ci >= 0 && pf[ci].revents) {
            if ((pf[ci].revents & POLLOUT) && conn_flush(k) < 0) {
                drop(c, "closed");
                continue;
            }
            if (pf[ci].revents & (POLLIN | POLLHUP | POLLERR)) {
                int rr = conn_read(k);
                if (rr < 0) {
                    drop(c, "closed");
                    continue;
                }
                k->eof = rr == 0; /* the next pass hands out what is whole, then drops */
            }
        }
        /* a detach is reported before the next client is taken */
        if (li >= 0 && !c->detached && (pf[li].revents & POLLIN) && accept_some(c))
            return GT_CONTROL_ATTACHED;
    }
}

const char *gt_control_frame(const gt_control *c, int64_t *id, int64_t *len)
{
    if (!c || !c->c.frame_used)
        return NULL;
    if (id)
        *id = c->c.id;
    if (len)
        *len = (int64_t)c->c.body_len;
    return c->c.body;
}

const char *gt_control_frame_kind(const gt_control *c)
{
    return c && c->c.frame_used ? c->c.kind : "";
}

int gt_control_send(gt_control *c, const char *kind, int64_t id, const char *body, int64_t len)
{
    if (!c || check_kind(kind) != 0 || id < 0 || len < 0 || (len > 0 && !body))
        return gt_seterr(GT_EINVAL, "control: send needs a kind of 1-%d letters a-z, an id >= 0 "
                         "and a body", KIND_MAX);
    size_t limit = c->listener ? GT_CONTROL_MAX_REPLY : GT_CONTROL_MAX_REQUEST;
    if ((uint64_t)len > limit)
        return gt_seterr(GT_ETOOBIG, "control: a %lld-byte frame is over the %zu-byte limit",
                         (long long)len, limit);
    conn *k = &c->c;
    if (k->fd < 0)
        return gt_seterr(GT_ESTATE, "control: no peer to send to");
    int rc = conn_queue(k, kind, id, body, (size_t)len,
                        c->listener ? GT_CONTROL_MAX_PENDING : GT_CONTROL_MAX_REQUEST + HEADER_MAX);
    if (rc == GT_ETOOBIG && c->listener) { /* the client does not read: let it go */
        drop(c, "stalled");
        return GT_OK;
    }
    if (rc == GT_ETOOBIG)
        return gt_seterr(GT_ETOOBIG, "control: the previous request is still unsent");
    if (rc != GT_OK)
        return rc;
    if (conn_flush(k) < 0)
        drop(c, "closed");
    return GT_OK;
}

int64_t gt_control_peer_uid(const gt_control *c)
{
    return c ? c->peer_uid : -1;
}

const char *gt_control_detach_reason(const gt_control *c)
{
    return c ? c->why : "";
}

const char *gt_control_path(const gt_control *c)
{
    return c ? c->path : "";
}
