/* durable.c - see include/lstmsweep/durable.h. */
#include "lstmsweep/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/bytes.h"
#include "lstmsweep/alloc.h"

#define DEFAULT_CHUNK ((size_t)1 << 30)

static ssize_t (*write_fn)(int, const void *, size_t) = write;
static size_t write_chunk = DEFAULT_CHUNK;
static atomic_uint tmp_serial;

void ls_write_test_hook(ssize_t (*fn)(int, const void *, size_t), size_t chunk)
{
    write_fn = fn ? fn : write;
    write_chunk = chunk ? chunk : DEFAULT_CHUNK;
}

int ls_write_all(int fd, const void *buf, size_t len, ls_err *err)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t w = write_fn(fd, p, len < write_chunk ? len : write_chunk);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ls_err_set(err, LS_EIO, "cannot write: %s",
                              w < 0 ? strerror(errno) : "no progress");
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Create a new temporary file next to `path`, named path.tmp.PID.N: unique
 * among the threads and processes that may replace the same file. */
static int tmp_create(const char *path, char *tmp, size_t cap, int *fd,
                      ls_err *err)
{
    for (int tries = 0; tries < 100; tries++) {
        unsigned k = atomic_fetch_add(&tmp_serial, 1);
        if ((size_t)snprintf(tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(), k) >= cap)
            return ls_err_set(err, LS_EINVAL, "%.300s...: path too long", path);
        if ((*fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) >= 0)
            return 0;
        if (errno != EEXIST) /* else left by a dead process of the same pid */
            break;
    }
    return ls_err_set(err, LS_EIO, "%s: cannot create: %s", tmp, strerror(errno));
}

/* fsync the directory holding `path`, so that a rename into it is
 * durable.  Filesystems that cannot fsync a directory say EINVAL: nothing
 * more can be done there. */
static int fsync_dir(const char *path, ls_err *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd, rc = 0;

    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return ls_err_set(err, LS_EIO, "%s: cannot open its directory: %s", path,
                          strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = ls_err_set(err, LS_EIO, "%s: cannot fsync its directory: %s", path,
                        strerror(errno));
    close(fd);
    return rc;
}

int ls_file_replace(const char *path, ls_file_writer write_fn, void *ctx,
                    ls_err *err)
{
    char tmp[4096];
    int fd = -1, rc;

    if ((rc = tmp_create(path, tmp, sizeof tmp, &fd, err)))
        return rc;
    if ((rc = write_fn(fd, ctx, err)))
        ls_err_prefix(err, "%s", path);
    else if (fsync(fd) != 0)
        rc = ls_err_set(err, LS_EIO, "%s: cannot fsync: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !rc)
        rc = ls_err_set(err, LS_EIO, "%s: cannot close: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = ls_err_set(err, LS_EIO, "%s: cannot rename %s over it: %s", path, tmp,
                        strerror(errno));
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return fsync_dir(path, err);
}

int ls_file_read(const char *path, unsigned char **out, size_t *len, ls_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    unsigned char *b = NULL;
    size_t got = 0;
    ssize_t r = 0;

    *out = NULL;
    if (fd < 0)
        return ls_err_set(err, LS_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0 || !(b = ls_alloc((size_t)sb.st_size + 1))) {
        close(fd);
        return ls_err_set(err, LS_EIO, "%s: cannot read: %s", path,
                          b ? strerror(errno) : "out of memory");
    }
    while (got < (size_t)sb.st_size) {
        size_t want = (size_t)sb.st_size - got;
        r = read(fd, b + got, want < DEFAULT_CHUNK ? want : DEFAULT_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)sb.st_size) {
        ls_free(b);
        return ls_err_set(err, LS_EIO, "%s: cannot read: %s", path,
                          r == 0 ? "file shrank while read" : strerror(errno));
    }
    *out = b;
    *len = got;
    return 0;
}

uint32_t ls_crc32(const void *buf, size_t len)
{
    return (uint32_t)crc32_z(0L, buf, len);
}

/* ---- ls_out ---------------------------------------------------------- */

void ls_out_init(ls_out *o, int fd, ls_err *err)
{
    o->fd = fd, o->rc = 0, o->err = err;
    o->crc = (uint32_t)crc32_z(0L, NULL, 0);
    o->n = 0;
}

/* The checksum is taken here, a buffer at a time: per value it would cost
 * more than the encoding. */
static void flush(ls_out *o)
{
    o->crc = (uint32_t)crc32_z(o->crc, o->buf, o->n);
    if (!o->rc && o->n)
        o->rc = ls_write_all(o->fd, o->buf, o->n, o->err);
    o->n = 0;
}

void ls_out_bytes(ls_out *o, const void *p, size_t len)
{
    const unsigned char *s = p;

    while (len > 0 && !o->rc) {
        size_t k = sizeof o->buf - o->n < len ? sizeof o->buf - o->n : len;
        memcpy(o->buf + o->n, s, k);
        o->n += k, s += k, len -= k;
        if (o->n == sizeof o->buf)
            flush(o);
    }
}

void ls_out_u32(ls_out *o, uint32_t v)
{
    unsigned char b[4];
    ls_put32(b, v);
    ls_out_bytes(o, b, 4);
}

void ls_out_u64(ls_out *o, uint64_t v)
{
    unsigned char b[8];
    ls_put64(b, v);
    ls_out_bytes(o, b, 8);
}

void ls_out_f64(ls_out *o, double v)
{
    ls_out_u64(o, ls_d2u(v));
}

void ls_out_f32s(ls_out *o, const float *a, size_t n)
{
    for (size_t i = 0; i < n && !o->rc; i++)
        ls_out_u32(o, ls_f2u(a[i]));
}

void ls_out_u32s(ls_out *o, const uint32_t *a, size_t n)
{
    for (size_t i = 0; i < n && !o->rc; i++)
        ls_out_u32(o, a[i]);
}

int ls_out_finish(ls_out *o)
{
    unsigned char b[4];
    flush(o);
    ls_put32(b, o->crc);
    if (!o->rc)
        o->rc = ls_write_all(o->fd, b, 4, o->err);
    return o->rc;
}
