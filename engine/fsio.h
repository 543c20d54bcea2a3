/*
 * fsio.h: the files gtengine writes (reports, exports), written safely. A writer goes to a
 * temporary file created exclusively (O_EXCL, never through a symlink) in the target's own
 * directory, and only a complete, flushed file is renamed over the target: a reader sees
 * the old file or the new one, never half of one, and a planted symlink or a device node at
 * the target is refused, not written through. Messages name the caller's path, never the
 * temporary name. Uses POSIX only.
 *
 * Ownership: gt_file_create returns a handle that owns an open temporary file; it ends with
 * exactly one of gt_file_commit (rename into place) or gt_file_abort (remove; NULL-safe),
 * both of which free it. The Lua-visible declarations are in gt_ffi.h.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_FSIO_H
#define GT_FSIO_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- files gtengine writes (fsio.c) ---- */
/* A report or export written whole or not at all: a temporary file created exclusively in
 * the target's directory, renamed over the target on commit. A target that exists and is
 * not a regular file (device, symlink, directory, FIFO) is refused. Messages name path. */
typedef struct gt_file gt_file;
int gt_file_create(const char *path, gt_file **out);
int gt_file_write(gt_file *f, const char *buf, int64_t len);
/* Flushes, renames into place and frees f; on failure removes the temporary file. */
int gt_file_commit(gt_file *f);
/* Removes the temporary file and frees f (NULL-safe); the target is untouched. */
void gt_file_abort(gt_file *f);
int gt_file_write_atomic(const char *path, const char *buf, int64_t len);
/* What is at path (following symlinks): its type and, for a regular file, *size (else
 * -1). A missing path is GT_FILE_NONE, not an error. */
enum gt_file_type { GT_FILE_NONE = 0, GT_FILE_REGULAR = 1, GT_FILE_DIR = 2, GT_FILE_OTHER = 3 };
int gt_file_stat(const char *path, int64_t *size, int32_t *type);
/* What a watcher compares between polls (gt.reload): a regular file's *size and its
 * modification time in nanoseconds since the epoch. A missing path, or one that is not a
 * regular file, is GT_OK with *size = -1 and *mtime_ns = 0. One stat(2), no open. */
int gt_file_mtime(const char *path, int64_t *size, int64_t *mtime_ns);
/* ---- end ffi ---- */


#endif
