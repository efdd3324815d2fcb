/* csv.h - the CSV format both ways: quoting a field, appending a line
 * crash-safely, and reading a file back.  Every CSV file lstmsweep writes
 * (results, curves, merged results) goes through here; what the rows mean
 * is results.h's and schema.h's business.
 *
 * Writing.  ls_csv_append_line formats nothing: it takes one whole line and
 * writes it with one write(2) on an O_APPEND descriptor under an exclusive
 * flock, then (if asked) fsync's it, so a kill at any moment leaves whole
 * lines only and concurrent writers (threads or processes) never
 * interleave.  A new (empty) file gets the header first, with missing
 * parent directories created; an existing file must start with exactly the
 * same header, or the append is refused (LS_EFORMAT) rather than mixing
 * formats.  A last line torn by an earlier crash is ended first, so it
 * cannot swallow the new row; a short write (disk full) is undone by
 * truncating back to the old length.
 *
 * Reading.  RFC 4180 fields: quoted fields may hold commas, doubled quotes
 * and newlines.  A last line without its newline is a row torn by a crash
 * or a full disk: it is skipped and reported through *torn (never an
 * error, so a killed sweep can always be resumed).  Any other malformed row
 * is LS_EFORMAT with "FILE:LINE: ..." in err.
 *
 * Threading: no shared state; every function may run in several threads at
 * once (appends to one file are serialised by the flock).
 * Errors: LS_EIO (open, lock, write, fsync, read), LS_EFORMAT (header or
 * row), LS_ENOMEM, each with a message naming the file in err.
 */
#ifndef LSTMSWEEP_CSV_H
#define LSTMSWEEP_CSV_H

#include <stddef.h>

#include "lstmsweep/error.h"

/* ---- writing ---- */

/* Write field into out (capacity cap) quoted as CSV requires (quotes
 * doubled, field quoted if it holds , " CR or LF).  Returns the length
 * written, or -1 if it does not fit. */
int ls_csv_quote(const char *field, char *out, size_t cap);

/* Append `line` (one or more whole records, each ending in '\n') to the CSV
 * at path under `header` (without its newline), as described above; sync:
 * fsync after the write (the results row is a commit point; curve rows are
 * not). */
int ls_csv_append_line(const char *path, const char *header,
                       const char *line, int sync, ls_err *err);

/* ---- reading ---- */

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

/* The next field of the record at *p (one line, RFC 4180: quotes doubled
 * inside quotes), unquoted into out, which must have room for the rest of
 * the record; *p moves past the field and its comma.  Lenient: for rows
 * this program wrote (the server's stored rows), not for files. */
void ls_csv_next_field(const char **p, char *out);

/* Split one record in place (strict, as ls_csv_read): rec holds it
 * without its newline; quoted fields are unquoted in place; fields has
 * room for LS_CSV_MAX_FIELDS.  The field count, or -1 for a malformed
 * quote or too many fields. */
#define LS_CSV_MAX_FIELDS 256
int ls_csv_split(char *rec, char **fields);

/* Index of `name` in the comma-separated header, or -1. */
int ls_csv_column(const char *header, const char *name);

/* Is s a whole number (integer: optional '-' and digits only) or a whole
 * strtod number (no leading blank, nothing after it)?  "" is neither.
 * (A CSV field check, used by the curves and the report readers.) */
int ls_csv_is_number(const char *s, int integer);

#endif
