/* idx.h - reading and writing IDX files (the MNIST container format),
 * plain or gzip-compressed.
 *
 * An IDX file is a 4-byte magic (0, 0, type, ndims), ndims big-endian
 * uint32 sizes, then the data.  Only unsigned-byte data (type 0x08) is
 * supported, which is what MNIST and Fashion-MNIST use.
 */
#ifndef LSTMSWEEP_IDX_H
#define LSTMSWEEP_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "lstmsweep/error.h"

#define LS_IDX_MAX_DIMS 4

typedef struct ls_idx {
    int ndims;
    uint32_t dims[LS_IDX_MAX_DIMS];
    size_t size;     /* product of dims: bytes in data */
    uint8_t *data;   /* owned; freed by ls_idx_free */
} ls_idx;

/* Read `path` (plain or gzip; detected from content, not from the name).
 * Requires unsigned-byte data with exactly `want_ndims` dimensions and
 * exactly the number of data bytes the header announces: a short file is
 * "truncated", extra bytes are "trailing data".  Errors name the file. */
int ls_idx_read(ls_idx *out, const char *path, int want_ndims, ls_err *err);

/* Write an unsigned-byte IDX file; gzip-compressed when gz != 0. */
int ls_idx_write(const char *path, int ndims, const uint32_t *dims,
                 const uint8_t *data, int gz, ls_err *err);

void ls_idx_free(ls_idx *idx);

#endif
