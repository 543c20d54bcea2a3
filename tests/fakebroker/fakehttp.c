/*
 * fakehttp.c: a scripted loopback HTTP/1.1 server for tests. Binds 127.0.0.1 on an
 * ephemeral port, prints the port as its first stdout line, serves canned responses and
 * logs every request, and exits by itself after max-requests requests or max-seconds
 * seconds (default 1000 and 60; never more than 600 s). Single-threaded: one poll loop
 * over the listening socket and up to 16 keep-alive connections; a scripted delay
 * blocks the whole server (fine for one client under test).
 *
 * usage: fakehttp SCRIPT [LOG]
 *
 * SCRIPT, one directive per line ('#' lines and blank lines are ignored):
 *   max-requests N        stop after N requests
 *   max-seconds S         stop after S seconds
 *   route [METHOD] PREFIX requests whose target (path and query) starts with PREFIX, and
 *                         whose method is METHOD when given; the first matching route wins
 *   respond STATUS        the route's next canned response; responses are served in order
 *                         and the last one repeats
 *   header NAME: VALUE    a header of the current response
 *   body TEXT             the body is the rest of the line
 *   file PATH             the body is the content of PATH (read at start-up)
 *   fill N                the body is N bytes of 'x'
 *   delay MS              wait MS milliseconds before answering
 *   truncate N            announce the full Content-Length, send N body bytes, close
 *   nolength              no Content-Length: the body ends when the connection closes
 *   close                 close the connection without a response
 *   echo-headers          the body is {"message":"<the request's header lines, raw>"}
 *                         (a server that quotes what it was sent, secrets included)
 *   trickle MS            send the body one byte every MS milliseconds
 *   huge-header N         add a header X-Huge with N bytes of 'h'
 * (a server that accepts and never answers: delay longer than the client waits)
 * Unmatched requests get 404. Content-Length and Connection are added automatically.
 *
 * LOG gets, per request, flushed at once:
 *   REQUEST <n> <METHOD> <target>
 *   AT <seconds since start-up when the request was complete>
 *   HEADER <Name>: <value>        (one per request header, as received)
 *   BODY <length> <body with \ r n escaped as \\ \r \n>   (when there is a body)
 *   END
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 64
#define MAX_RESP 64
#define MAX_CONN 16
#define BUF_CAP (1 << 20)

typedef struct resp {
    int status;
    char headers[4096];
    size_t hlen;
    char *body;
    size_t blen;
    long delay_ms;
    long truncate; /* -1: send the whole body */
    int nolength;
    int close_only;
    int echo;
    long trickle_ms;
    long huge;
} resp;

typedef struct route {
    char method[16]; /* "" matches any */
    char prefix[1024];
    resp r[MAX_RESP];
    int n, next;
} route;

typedef struct conn {
    int fd;
    char *buf;
    size_t len;
} conn;

static route routes[MAX_ROUTES];
static int nroutes;
static long max_requests = 1000;
static double max_seconds = 60;
static FILE *reqlog;
static double t_start;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int line)
{
    fprintf(stderr, "fakehttp: script line %d: %s\n", line, what);
    exit(2);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    for (int i = 0; b && i < 100000; i++) {
        if (n == cap) {
            char *nb = cap < ((size_t)1 << 30) ? realloc(b, cap *= 2) : NULL;
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *len = n;
    return b;
}

static void load_script(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "fakehttp: cannot open script %s\n", path);
        exit(2);
    }
    char line[65536];
    int lineno = 0;
    route *rt = NULL;
    resp *rp = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *arg = strchr(line, ' ');
        if (arg)
            *arg++ = '\0';
        else
            arg = line + n;
        if (strcmp(line, "max-requests") == 0) {
            max_requests = atol(arg);
        } else if (strcmp(line, "max-seconds") == 0) {
            max_seconds = atof(arg);
            if (!(max_seconds > 0) || max_seconds > 600)
                max_seconds = 600;
        } else if (strcmp(line, "route") == 0) {
            if (nroutes == MAX_ROUTES)
                die("too many routes", lineno);
            rt = &routes[nroutes++];
            rp = NULL;
            char *sp = strchr(arg, ' ');
            if (sp) {
                *sp = '\0';
                snprintf(rt->method, sizeof rt->method, "%s", arg);
                arg = sp + 1;
            }
            snprintf(rt->prefix, sizeof rt->prefix, "%s", arg);
        } else if (strcmp(line, "respond") == 0) {
            if (!rt)
                die("respond before route", lineno);
            if (rt->n == MAX_RESP)
                die("too many responses", lineno);
            rp = &rt->r[rt->n++];
            rp->status = atoi(arg);
            rp->truncate = -1;
            rp->body = strdup("");
        } else if (!rp) {
            die("directive before respond", lineno);
        } else if (strcmp(line, "header") == 0) {
            int w = snprintf(rp->headers + rp->hlen, sizeof rp->headers - rp->hlen, "%s\r\n", arg);
            if (w < 0 || (size_t)w >= sizeof rp->headers - rp->hlen)
                die("headers too long", lineno);
            rp->hlen += (size_t)w;
        } else if (strcmp(line, "body") == 0) {
            free(rp->body);
            rp->body = strdup(arg);
            rp->blen = strlen(arg);
        } else if (strcmp(line, "file") == 0) {
            free(rp->body);
            rp->body = read_file(arg, &rp->blen);
            if (!rp->body)
                die("cannot read body file", lineno);
        } else if (strcmp(line, "fill") == 0) {
            long k = atol(arg);
            if (k < 0 || k > (1L << 30))
                die("fill out of range", lineno);
            free(rp->body);
            rp->body = malloc((size_t)k + 1);
            if (!rp->body)
                die("out of memory", lineno);
            memset(rp->body, 'x', (size_t)k);
            rp->blen = (size_t)k;
        } else if (strcmp(line, "delay") == 0) {
            rp->delay_ms = atol(arg);
        } else if (strcmp(line, "truncate") == 0) {
            rp->truncate = atol(arg);
        } else if (strcmp(line, "nolength") == 0) {
            rp->nolength = 1;
        } else if (strcmp(line, "close") == 0) {
            rp->close_only = 1;
        } else if (strcmp(line, "echo-headers") == 0) {
            rp->echo = 1;
        } else if (strcmp(line, "trickle") == 0) {
            rp->trickle_ms = atol(arg);
        } else if (strcmp(line, "huge-header") == 0) {
            rp->huge = atol(arg);
            if (rp->huge < 0 || rp->huge > (1L << 24))
                die("huge-header out of range", lineno);
        } else {
            die("unknown directive", lineno);
        }
    }
    fclose(f);
}

/* Sends all of p or fails; bounded by the socket's send timeout. */
static int send_all(int fd, const char *p, size_t n)
{
    for (int i = 0; n > 0 && i < 1000000; i++) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return n == 0 ? 0 : -1;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 207:
        return "Multi-Status";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    }
    return "Status";
}

static void log_body(const char *b, size_t n)
{
    fprintf(reqlog, "BODY %zu ", n);
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (c == '\\')
            fputs("\\\\", reqlog);
        else if (c == '\n')
            fputs("\\n", reqlog);
        else if (c == '\r')
            fputs("\\r", reqlog);
        else
            fputc(c, reqlog);
    }
    fputc('\n', reqlog);
}

static void sleep_ms(long ms)
{
    double end = now_s() + (double)ms / 1000.0, limit = t_start + max_seconds;
    if (end > limit)
        end = limit;
    for (int i = 0; i < 100000; i++) {
        double left = end - now_s();
        if (left <= 0)
            return;
        if (left > 0.05)
            left = 0.05;
        struct timespec ts = {0, (long)(left * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* Answers one request. Returns 1 to keep the connection open, 0 to close it. */
static int answer(int fd, long seq, const char *method, const char *target, const char *hdrs,
                  size_t hdrs_len, const char *body, size_t blen)
{
    if (reqlog) {
        fprintf(reqlog, "REQUEST %ld %s %s\nAT %.6f\n", seq, method, target, now_s() - t_start);
        const char *p = hdrs, *end = hdrs + hdrs_len;
        while (p < end) {
            const char *e = memchr(p, '\n', (size_t)(end - p));
            size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
            size_t m = n;
            if (m && p[m - 1] == '\r')
                m--;
            if (m)
                fprintf(reqlog, "HEADER %.*s\n", (int)m, p);
            p += n + 1;
        }
        if (blen)
            log_body(body, blen);
        fputs("END\n", reqlog);
        fflush(reqlog);
    }
    resp *r = NULL;
    for (int i = 0; i < nroutes && !r; i++) {
        route *rt = &routes[i];
        if ((rt->method[0] && strcmp(rt->method, method) != 0) ||
            strncmp(target, rt->prefix, strlen(rt->prefix)) != 0 || rt->n == 0)
            continue;
        r = &rt->r[rt->next < rt->n ? rt->next : rt->n - 1];
        rt->next++;
    }
    char head[8192];
    if (!r) {
        char msg[1200];
        int bl = snprintf(msg, sizeof msg, "no route for %.1000s\n", target);
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                          "Content-Length: %d\r\n\r\n",
                          bl);
        return send_all(fd, head, (size_t)hl) == 0 && send_all(fd, msg, (size_t)bl) == 0;
    }
    if (r->delay_ms > 0)
        sleep_ms(r->delay_ms);
    if (r->close_only)
        return 0;
    const char *bbody = r->body;
    size_t bblen = r->blen;
    char *echo = NULL;
    if (r->echo) {
        echo = malloc(hdrs_len + 32);
        if (!echo)
            return 0;
        bblen = (size_t)sprintf(echo, "{\"message\":\"%.*s\"}", (int)hdrs_len, hdrs);
        bbody = echo;
    }
    if (r->huge > 0) {
        size_t n = (size_t)r->huge;
        char *big = malloc(n + 16);
        static const char top[] = "HTTP/1.1 200 OK\r\nX-Huge: ";
        if (!big || send_all(fd, top, sizeof top - 1) != 0) {
            free(big);
            free(echo);
            return 0;
        }
        memset(big, 'h', n);
        memcpy(big + n, "\r\n", 2);
        int ok = send_all(fd, big, n + 2) == 0;
        free(big);
        free(echo);
        static const char tail[] = "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
        if (ok)
            send_all(fd, tail, sizeof tail - 1);
        return 0;
    }
    int keep = !r->nolength && r->truncate < 0 && r->trickle_ms <= 0;
    int hl;
    if (r->nolength)
        hl = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n%.*sConnection: close\r\n\r\n",
                      r->status, reason(r->status), (int)r->hlen, r->headers);
    else
        hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\n%.*sContent-Length: %zu\r\nConnection: %s\r\n\r\n",
                      r->status, reason(r->status), (int)r->hlen, r->headers, bblen,
                      keep ? "keep-alive" : "close");
    int ok = send_all(fd, head, (size_t)hl) == 0;
    size_t n = bblen;
    if (r->truncate >= 0 && (size_t)r->truncate < n)
        n = (size_t)r->truncate;
    if (ok && r->trickle_ms > 0) {
        for (size_t i = 0; ok && i < n && now_s() - t_start < max_seconds; i++) {
            ok = send_all(fd, bbody + i, 1) == 0;
            sleep_ms(r->trickle_ms);
        }
        ok = 0;
    } else if (ok) {
        ok = send_all(fd, bbody, n) == 0;
    }
    free(echo);
    return ok && keep;
}

static size_t header_value(const char *hdrs, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = hdrs, *end = hdrs + len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        if ((size_t)(e - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < e && *v == ' ')
                v++;
            size_t n = (size_t)(e - v);
            if (n && v[n - 1] == '\r')
                n--;
            if (n >= cap)
                n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return n;
        }
        p = e + 1;
    }
    out[0] = '\0';
    return 0;
}

/* Serves every complete request in c's buffer. Returns 0 when c must be closed. */
static int serve_conn(conn *c, long *served)
{
    for (int guard = 0; guard < 1000; guard++) {
        char *eoh = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!eoh)
            return c->len < BUF_CAP;
        size_t hdr_end = (size_t)(eoh - c->buf) + 4;
        char *le = memchr(c->buf, '\n', hdr_end);
        char method[16], target[8192];
        char *sp1 = memchr(c->buf, ' ', (size_t)(le - c->buf));
        char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1)) : NULL;
        if (!sp1 || !sp2 || (size_t)(sp1 - c->buf) >= sizeof method ||
            (size_t)(sp2 - sp1 - 1) >= sizeof target)
            return 0;
        memcpy(method, c->buf, (size_t)(sp1 - c->buf));
        method[sp1 - c->buf] = '\0';
        memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
        target[sp2 - sp1 - 1] = '\0';
        const char *hdrs = le + 1;
        size_t hdrs_len = (size_t)(eoh + 2 - hdrs);
        char v[64];
        if (header_value(hdrs, hdrs_len, "Transfer-Encoding", v, sizeof v))
            return 0; /* chunked uploads are not supported */
        header_value(hdrs, hdrs_len, "Content-Length", v, sizeof v);
        long clen = atol(v);
        if (clen < 0 || (size_t)clen > BUF_CAP - hdr_end)
            return 0;
        if (c->len < hdr_end + (size_t)clen)
            return 1; /* wait for the rest of the body */
        (*served)++;
        int keep =
            answer(c->fd, *served, method, target, hdrs, hdrs_len, c->buf + hdr_end, (size_t)clen);
        size_t used = hdr_end + (size_t)clen;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        if (!keep || *served >= max_requests)
            return 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: fakehttp SCRIPT [LOG]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    load_script(argv[1]);
    if (argc == 3) {
        reqlog = fopen(argv[2], "a");
        if (!reqlog) {
            fprintf(stderr, "fakehttp: cannot open log %s\n", argv[2]);
            return 2;
        }
    }
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 16) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
        perror("fakehttp: socket");
        return 2;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);

    t_start = now_s();
    conn conns[MAX_CONN];
    int nc = 0;
    long served = 0;
    while (served < max_requests && now_s() - t_start < max_seconds) {
        struct pollfd pf[MAX_CONN + 1];
        pf[0].fd = ls;
        pf[0].events = POLLIN;
        for (int i = 0; i < nc; i++) {
            pf[i + 1].fd = conns[i].fd;
            pf[i + 1].events = POLLIN;
        }
        int pr = poll(pf, (nfds_t)nc + 1, 200);
        if (pr <= 0)
            continue;
        for (int i = nc - 1; i >= 0; i--) {
            if (!(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            conn *c = &conns[i];
            ssize_t r = recv(c->fd, c->buf + c->len, BUF_CAP - c->len, 0);
            int keep = r > 0;
            if (keep) {
                c->len += (size_t)r;
                keep = serve_conn(c, &served);
            }
            if (!keep) {
                close(c->fd);
                free(c->buf);
                conns[i] = conns[--nc];
            }
        }
        if (pf[0].revents & POLLIN) {
            int fd = accept(ls, NULL, NULL);
            if (fd >= 0 && nc < MAX_CONN && (conns[nc].buf = malloc(BUF_CAP))) {
                struct timeval tv = {5, 0};
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                conns[nc].fd = fd;
                conns[nc].len = 0;
                nc++;
            } else if (fd >= 0) {
                close(fd);
            }
        }
    }
    for (int i = 0; i < nc; i++) {
        close(conns[i].fd);
        free(conns[i].buf);
    }
    close(ls);
    if (reqlog)
        fclose(reqlog);
    return 0;
}
