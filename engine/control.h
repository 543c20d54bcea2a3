/*
 * control.h: the control socket of a running session (`gtengine attach`, halt, resume).
 * A Unix domain stream socket, never TCP, in a private directory: the server side listens,
 * takes one client at a time (a second one gets a one-line "busy" frame and is closed),
 * checks each client's uid with SO_PEERCRED and trades frames with it without ever
 * blocking: gt_control_poll waits at most its timeout (0 between trading cycles), reads and
 * writes only what the socket takes, buffers replies up to a cap and drops a client that
 * stops reading. The client side is the same handle type, made by gt_control_connect.
 *
 * Where: gt_control_socket_path(db) gives the path for a database, by convention
 *   $XDG_RUNTIME_DIR/gtengine/<db name>-<hash of its real path>.sock when XDG_RUNTIME_DIR is
 *   an absolute path, else /tmp/gtengine-<euid>/<same name>.
 * The directory is created with mode 0700 and refused (GT_EDENIED) when it is a symlink,
 * not a directory, owned by another uid, or group/world accessible; the socket file is bound
 * under umask 0177, chmod 0600 and then checked with lstat. A socket file left by a killed
 * session (connect refused) is replaced; one that answers is another live session
 * (GT_ESTATE). Security rests on three layers: the directory mode, the socket file mode and
 * the peer uid, which must equal the session's effective uid (so root only when the session
 * runs as root). The client refuses a server whose uid is neither its own nor root.
 *
 * Frames, both ways: a header line "<kind> <id> <length>\n" (kind: 1-16 letters a-z; id and
 * length decimal) and then exactly <length> bytes of body. A client sends at most
 * GT_CONTROL_MAX_REQUEST bytes of body, a server GT_CONTROL_MAX_REPLY; a malformed or
 * oversized header ends the connection. The C side only frames; kinds are the Lua side's
 * (lua/gt/attach.lua) except those C sends itself: "busy", "refused" and "error" (id 0).
 *
 * Uses POSIX sockets only. The caller owns each handle (gt_control_listen or
 * gt_control_connect, then gt_control_close, which also unlinks the socket file a listener
 * created, if it is still the same file). Frames returned by gt_control_frame are borrowed
 * until the next poll.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_CONTROL_H
#define GT_CONTROL_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- control (control.c): a session's Unix domain control socket ---- */
enum {
    GT_CONTROL_MAX_REQUEST = 65536,   /* bytes of one client frame's body */
    GT_CONTROL_MAX_REPLY = 1048576,   /* bytes of one server frame's body */
    GT_CONTROL_MAX_PENDING = 4194304, /* unsent bytes a server keeps for a slow client */
    GT_CONTROL_PATH_MAX = 108         /* sizeof sun_path, with its terminating NUL */
};
/* What gt_control_poll saw. */
enum gt_control_event {
    GT_CONTROL_NONE = 0,     /* nothing within the timeout */
    GT_CONTROL_FRAME = 1,    /* a whole frame: gt_control_frame, gt_control_frame_kind */
    GT_CONTROL_ATTACHED = 2, /* server: a client was accepted (gt_control_peer_uid) */
    GT_CONTROL_DETACHED = 3  /* the peer is gone (gt_control_detach_reason says why) */
};
typedef struct gt_control gt_control;
/* The socket path for database `db` (see above; db need not exist yet) into out (cap bytes
 * with the NUL): its length, or GT_ENOTFOUND when db's directory does not exist, GT_ERANGE
 * when the path would not fit. */
int gt_control_socket_path(const char *db, char *out, int64_t cap);
/* Creates the private directory if needed, checks it, binds and listens at path. NULL with
 * gt_errmsg(): GT_EDENIED (the directory or an existing file is not private or not ours),
 * GT_ESTATE (a live session already listens there), GT_EIO, GT_ERANGE, GT_ENOMEM. */
gt_control *gt_control_listen(const char *path);
/* Connects to a listener within timeout_ms and checks its uid. NULL with gt_errmsg():
 * GT_ENOTFOUND (no socket: no session), GT_ESTATE (a socket but nobody listens: a stale
 * file of a killed session, or the listener's backlog is full), GT_EDENIED (permission, or
 * a server of another uid), GT_EIO, GT_ENOMEM. */
gt_control *gt_control_connect(const char *path, int32_t timeout_ms);
/* Accepts NULL. A listener unlinks its socket file (only if it is still the one it bound). */
void gt_control_close(gt_control *c);
/* Serves (listener) or reads (client) for at most timeout_ms (0: one pass without waiting;
 * < 0: until something happens or the interrupt flag is raised). Returns a gt_control_event,
 * or GT_EINTR when gt_interrupted (SIGINT/SIGTERM) cut the wait short. A frame returned
 * stays readable until the next poll. */
int gt_control_poll(gt_control *c, int32_t timeout_ms);
/* The last frame's body (not NUL-terminated beyond len; it is NUL-terminated for
 * convenience), its id and length; NULL when there is none. */
const char *gt_control_frame(const gt_control *c, int64_t *id, int64_t *len);
const char *gt_control_frame_kind(const gt_control *c);
/* Queues a frame to the peer and writes what the socket takes now; poll writes the rest.
 * GT_EINVAL for a bad kind, GT_ETOOBIG past the body limit, GT_ESTATE with no peer. A
 * listener whose client has GT_CONTROL_MAX_PENDING bytes unread drops that client instead
 * (the next poll reports GT_CONTROL_DETACHED) and returns GT_OK. */
int gt_control_send(gt_control *c, const char *kind, int64_t id, const char *body, int64_t len);
/* Listener: the attached client's uid; client: the server's uid; -1 with no peer. */
int64_t gt_control_peer_uid(const gt_control *c);
/* Why the last peer went away ("" while attached): "closed", "stalled", "protocol". */
const char *gt_control_detach_reason(const gt_control *c);
const char *gt_control_path(const gt_control *c);
/* The process's effective uid. */
int64_t gt_control_uid(void);
/* ---- end ffi ---- */

#endif
