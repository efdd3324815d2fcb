/* csv.h - reading the CSV files lstmsweep writes (results, curves), for
 * resume, merge and report.
 *
 * RFC 4180 fields: quoted fields may hold commas, doubled quotes and
 * newlines.  A last line without its newline is a row torn by a crash or a
 * full disk: it is skipped and reported through *torn (never an error, so a
 * killed sweep can always be resumed).  Any other malformed row is
 * LS_EFORMAT with "FILE:LINE: ..." in err.
 */
#ifndef LSTMSWEEP_CSV_H
#define LSTMSWEEP_CSV_H

#include "lstmsweep/error.h"

/* Called for each data row (not the header).  fields[0..nfields) are
 * NUL-terminated and valid only during the call.  Return 0 to go on, or a
 * negative code (with err set) to stop reading and return that code. */
typedef int (*ls_csv_row_fn)(void *ctx, const char *path, long line,
                             int nfields, char **fields, ls_err *err);

/* Read path.  If header is not NULL the first line must equal it exactly
 * (else LS_EFORMAT "FILE:1: unexpected header"), and every row must have as
 * many fields as the header.  A missing file is LS_EIO.  *torn (may be
 * NULL) is set to 1 if a torn last line was skipped. */
int ls_csv_read(const char *path, const char *header, ls_csv_row_fn fn,
                void *ctx, int *torn, ls_err *err);

/* Index of `name` in the comma-separated header, or -1. */
int ls_csv_column(const char *header, const char *name);

#endif
