/* idx.c - see include/lstmsweep/idx.h.
 *
 * Reading goes through zlib's gz* interface for both plain and gzip files:
 * gzread() detects the gzip magic itself and copies anything else through
 * unchanged, so one code path covers both and the file name's suffix does
 * not matter.  Writing uses the same interface, with mode "wbT"
 * (transparent, i.e. uncompressed) for plain files. */

#include "lstmsweep/idx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lstmsweep/alloc.h"

#define IDX_TYPE_UBYTE 0x08
/* gzread() and gzwrite() take an unsigned int length; MNIST's 47 MB fit
 * in one call, but a larger file must be moved in pieces. */
#define IDX_CHUNK (1u << 30)
/* The data buffer's first size; it doubles as the data arrives. */
#define IDX_FIRST_ALLOC ((size_t)1 << 20)

/* zlib's own error text, or strerror() when zlib reports a system error.
 * A stream opened with gzdopen() prefixes its messages with "<fd:N>: ",
 * which says nothing to a user; the caller names the file instead. */
static const char *gz_message(gzFile gz)
{
    int zerr;
    const char *msg = gzerror(gz, &zerr), *colon;

    if (zerr == Z_ERRNO)
        return strerror(errno);
    if (strncmp(msg, "<fd:", 4) == 0 && (colon = strstr(msg, ": ")) != NULL)
        return colon + 2;
    return msg;
}

/* Read up to len bytes.  Returns the number read (short only at end of
 * input) or -1 on a read or decompression error. */
static long long gz_read_full(gzFile gz, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        size_t want = len - got < IDX_CHUNK ? len - got : IDX_CHUNK;
        int n = gzread(gz, buf + got, (unsigned)want);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (long long)got;
}

/* After a short read: was it a clean end of file, or did zlib fail?
 * A gzip stream cut short is Z_BUF_ERROR ("unexpected end of file"), which
 * is truncation too; anything else (bad CRC, invalid deflate data) is a
 * corrupt stream. */
static int gz_failed(gzFile gz)
{
    int zerr;
    gzerror(gz, &zerr);
    return zerr != Z_OK && zerr != Z_BUF_ERROR;
}

/* A failed gzread(): the disk (LS_EIO) or the compressed data. */
static int corrupt(ls_err *err, const char *path, gzFile gz)
{
    int zerr;
    gzerror(gz, &zerr);
    if (zerr == Z_ERRNO)
        return ls_err_set(err, LS_EIO, "%s: read error: %s", path, strerror(errno));
    return ls_err_set(err, LS_EFORMAT, "%s: corrupt gzip data: %s", path, gz_message(gz));
}

/* Parse and check the magic and the sizes; fills out->ndims/dims/size. */
static int read_header(gzFile gz, const char *path, int want_ndims,
                       ls_idx *out, ls_err *err)
{
    uint8_t magic[4], raw[4 * LS_IDX_MAX_DIMS];
    long long n = gz_read_full(gz, magic, sizeof magic);

    if (n < 0)
        return corrupt(err, path, gz);
    if (n < (long long)sizeof magic)
        return ls_err_set(err, LS_EFORMAT,
                          "%s: truncated: %lld bytes, too short for an IDX header",
                          path, n);
    if (magic[0] != 0 || magic[1] != 0)
        return ls_err_set(err, LS_EFORMAT, "%s: not an IDX file (magic 0x%02x%02x%02x%02x)",
                          path, magic[0], magic[1], magic[2], magic[3]);
    if (magic[2] != IDX_TYPE_UBYTE)
        return ls_err_set(err, LS_EFORMAT,
                          "%s: unsupported IDX data type 0x%02x (only unsigned bytes, 0x08)",
                          path, magic[2]);
    if (magic[3] != want_ndims)
        return ls_err_set(err, LS_EFORMAT, "%s: has %d dimensions, expected %d",
                          path, magic[3], want_ndims);

    size_t hlen = 4 * (size_t)want_ndims;
    n = gz_read_full(gz, raw, hlen);
    if (n < 0)
        return corrupt(err, path, gz);
    if (n < (long long)hlen)
        return ls_err_set(err, LS_EFORMAT, "%s: truncated inside the IDX header", path);

    out->ndims = want_ndims;
    out->size = 1;
    for (int d = 0; d < want_ndims; d++) {
        const uint8_t *p = raw + 4 * d;
        uint32_t dim = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (dim == 0)
            return ls_err_set(err, LS_EFORMAT, "%s: dimension %d is 0", path, d);
        if (out->size > SIZE_MAX / dim)
            return ls_err_set(err, LS_EFORMAT, "%s: dimensions overflow size_t", path);
        out->dims[d] = dim;
        out->size *= dim;
    }
    return 0;
}

/* Grow out->data for the next piece of data: doubling from IDX_FIRST_ALLOC,
 * never past out->size. */
static int grow(ls_idx *out, size_t *cap)
{
    size_t want = *cap == 0 ? IDX_FIRST_ALLOC : 2 * *cap;
    uint8_t *p;

    if (want > out->size || want < *cap)
        want = out->size;
    if (!(p = ls_realloc(out->data, want)))
        return -1;
    out->data = p;
    *cap = want;
    return 0;
}

/* Read exactly out->size data bytes, then make sure nothing follows.  The
 * buffer grows with the data actually read, so a corrupt header that
 * announces gigabytes costs no more memory than the file holds and is
 * reported as truncated, not as out of memory. */
static int read_data(gzFile gz, const char *path, ls_idx *out, ls_err *err)
{
    uint8_t extra;
    size_t cap = 0, got = 0;
    long long n;

    while (got < out->size) {
        if (got == cap && grow(out, &cap))
            return ls_err_set(err, LS_ENOMEM, "%s: out of memory for %zu bytes of data",
                              path, out->size);
        n = gz_read_full(gz, out->data + got, cap - got);
        if (n < 0)
            return corrupt(err, path, gz);
        got += (size_t)n;
        if (got < cap)
            break;                        /* end of input */
    }
    if (got < out->size && gz_failed(gz))
        return corrupt(err, path, gz);
    if (got < out->size)
        return ls_err_set(err, LS_EFORMAT,
                          "%s: truncated: header announces %zu bytes of data, file holds %zu",
                          path, out->size, got);
    n = gz_read_full(gz, &extra, 1);
    if (n < 0)
        return corrupt(err, path, gz);
    if (n > 0)
        return ls_err_set(err, LS_EFORMAT,
                          "%s: trailing data after the %zu bytes of data the header announces",
                          path, out->size);
    return 0;
}

int ls_idx_read(ls_idx *out, const char *path, int want_ndims, ls_err *err)
{
    int rc, fd;
    gzFile gz;

    memset(out, 0, sizeof *out);
    if (want_ndims < 1 || want_ndims > LS_IDX_MAX_DIMS)
        return ls_err_set(err, LS_EINVAL, "%s: cannot read %d-dimensional IDX data",
                          path, want_ndims);
    /* open() then gzdopen(), so that an open failure has a reliable errno. */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ls_err_set(err, LS_EIO, "%s: %s", path, strerror(errno));
    gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return ls_err_set(err, LS_ENOMEM, "%s: out of memory opening the file", path);
    }
    gzbuffer(gz, 1u << 17);

    rc = read_header(gz, path, want_ndims, out, err);
    if (rc)
        goto out_close;
    rc = read_data(gz, path, out, err);

out_close:
    gzclose_r(gz);
    if (rc)
        ls_idx_free(out);
    return rc;
}

static int write_all(gzFile gz, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        unsigned n = len < IDX_CHUNK ? (unsigned)len : IDX_CHUNK;
        if (gzwrite(gz, buf, n) != (int)n)
            return -1;
        buf += n;
        len -= n;
    }
    return 0;
}

int ls_idx_write(const char *path, int ndims, const uint32_t *dims,
                 const uint8_t *data, int gz_on, ls_err *err)
{
    uint8_t header[4 + 4 * LS_IDX_MAX_DIMS] = { 0, 0, IDX_TYPE_UBYTE, 0 };
    size_t size = 1;
    gzFile gz;
    int rc = 0;

    if (ndims < 1 || ndims > LS_IDX_MAX_DIMS)
        return ls_err_set(err, LS_EINVAL, "%s: cannot write %d-dimensional IDX data",
                          path, ndims);
    header[3] = (uint8_t)ndims;
    for (int d = 0; d < ndims; d++) {
        if (dims[d] == 0 || size > SIZE_MAX / dims[d])
            return ls_err_set(err, LS_EINVAL, "%s: bad IDX dimension %d (%u)",
                              path, d, (unsigned)dims[d]);
        size *= dims[d];
        for (int b = 0; b < 4; b++)
            header[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
    }

    errno = 0;
    gz = gzopen(path, gz_on ? "wb" : "wbT");
    if (!gz)
        return ls_err_set(err, LS_EIO, "%s: %s", path,
                          errno ? strerror(errno) : "out of memory");
    if (write_all(gz, header, 4 + 4 * (size_t)ndims) || write_all(gz, data, size))
        rc = ls_err_set(err, LS_EIO, "%s: write failed: %s", path, gz_message(gz));
    /* gzclose flushes the last compressed block: its failure is a failed
     * write too (a full disk shows up here). */
    if (gzclose_w(gz) != Z_OK && !rc)
        rc = ls_err_set(err, LS_EIO, "%s: write failed: %s", path, strerror(errno));
    if (rc)
        remove(path);
    return rc;
}

void ls_idx_free(ls_idx *idx)
{
    if (!idx)
        return;
    ls_free(idx->data);
    memset(idx, 0, sizeof *idx);
}
