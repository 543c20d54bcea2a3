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
#ifndef GT_FSIO_H
#define GT_FSIO_H

#include "gt.h"

#endif
