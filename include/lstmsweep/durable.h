/* durable.h - writing files so that a crash leaves the old content or the
 * new, never a mix, and what was written survives a power loss.
 *
 * One way for every file the program replaces (checkpoints, model files,
 * merged results): ls_file_replace writes a temporary file in the same
 * directory through the caller's write function, fsyncs it, renames it
 * over the target and fsyncs the directory (without which the rename
 * itself may be lost).  On any failure the temporary file is removed and
 * the old file, if any, is untouched.
 *
 * ls_write_all writes a whole buffer of any length, looping over short
 * writes and EINTR and never asking write(2) for more than 1 GiB at once
 * (Linux caps one write near 2 GiB).  ls_out is a little-endian encoder
 * on top of it that checksums what it writes (zlib crc32, computed with
 * crc32_z so buffers over 4 GiB are checksummed whole), so file formats
 * are written as streams without a file-sized buffer in memory.
 *
 * Errors: LS_EIO (LS_EINVAL for a path too long), with the path and
 * strerror in err.  Threading: the functions share no state, except the
 * test hook, which only tests may set (not thread-safe).
 */
#ifndef LSTMSWEEP_DURABLE_H
#define LSTMSWEEP_DURABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lstmsweep/error.h"

/* Writes the whole new content to fd (opened for writing, at offset 0);
 * returns 0 or a negative LS_E* code with err set.  It must not close fd. */
typedef int (*ls_file_writer)(int fd, void *ctx, ls_err *err);

/* Replace `path` (created if absent, mode 0644 before umask) with what
 * write_fn writes.  Messages are prefixed with the path.  A crash may
 * leave a `path.tmp.*` file behind; nothing ever reads it. */
int ls_file_replace(const char *path, ls_file_writer write_fn, void *ctx,
                    ls_err *err);

/* Write all `len` bytes of buf to fd. */
int ls_write_all(int fd, const void *buf, size_t len, ls_err *err);

/* Read a whole file into a new buffer (*out, freed with ls_free; one spare
 * byte past the end, zero) of *len bytes. */
int ls_file_read(const char *path, unsigned char **out, size_t *len,
                 ls_err *err);

/* Test hook: write(2) is replaced by `fn` (NULL: the real one) and the
 * largest single write becomes `chunk` bytes (0: 1 GiB). */
void ls_write_test_hook(ssize_t (*fn)(int fd, const void *buf, size_t len),
                        size_t chunk);

/* A checksummed little-endian encoder writing to fd through a small
 * buffer.  Errors are sticky: after the first, writes are ignored and
 * ls_out_finish returns it. */
typedef struct ls_out {
    int fd, rc;
    ls_err *err;
    uint32_t crc;               /* of everything flushed so far */
    size_t n;                   /* bytes in buf */
    unsigned char buf[16384];
} ls_out;

void ls_out_init(ls_out *o, int fd, ls_err *err);
void ls_out_bytes(ls_out *o, const void *p, size_t len);
void ls_out_u32(ls_out *o, uint32_t v);
void ls_out_u64(ls_out *o, uint64_t v);
void ls_out_f64(ls_out *o, double v);
void ls_out_f32s(ls_out *o, const float *a, size_t n);   /* n floats */
void ls_out_u32s(ls_out *o, const uint32_t *a, size_t n);
/* Append the u32 crc32 of everything before it, flush; 0 or the error. */
int ls_out_finish(ls_out *o);

/* crc32 of a buffer of any length (zlib's value, as crc32() gives for
 * buffers under 4 GiB). */
uint32_t ls_crc32(const void *buf, size_t len);

#endif
