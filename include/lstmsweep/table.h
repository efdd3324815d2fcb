/* table.h - a table of text cells, filled row by row and printed as
 * aligned text, a markdown pipe table, or CSV lines.
 *
 *   ls_table t;
 *   ls_table_init(&t, 2, 0x1u);          column 0 text (left), 1 a number
 *   ls_table_row(&t);                    row 0 is the header
 *   ls_table_put(&t, "name"), ls_table_put(&t, "jobs");
 *   ls_table_row(&t);
 *   ls_table_put(&t, "%s", name), ls_table_put(&t, "%zu", n);
 *   ls_table_text(stdout, &t);
 *   ls_table_free(&t);
 *
 * Filling never fails loudly: when memory runs out the table stops growing
 * and sets t.oom, which the caller checks once before trusting the output.
 * Cells not filled are printed empty.
 */
#ifndef LSTMSWEEP_TABLE_H
#define LSTMSWEEP_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct ls_table {
    int ncols;
    size_t nrows, cap;
    char **cell;       /* nrows x ncols, row 0 the header; NULL = "" */
    int col;           /* cells filled in the last row */
    unsigned left;     /* bit c: column c is text, aligned left */
    int oom;           /* 1: a row or a cell was lost to a failed allocation */
} ls_table;

/* An empty table of ncols columns; `left` as in the struct. */
void ls_table_init(ls_table *t, int ncols, unsigned left);

/* Start a new row (the first one is the header). */
void ls_table_row(ls_table *t);

/* Fill the next cell of the last row, printf-style; extra cells beyond
 * ncols are dropped. */
void ls_table_put(ls_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Free the cells; t can be initialized again. */
void ls_table_free(ls_table *t);

/* Text: aligned columns, indented two spaces, a rule under the header
 * (at most 64 columns are printed). */
void ls_table_text(FILE *f, const ls_table *t);

/* Markdown: a pipe table ('|' in cells escaped, newlines made spaces),
 * then a blank line. */
void ls_table_markdown(FILE *f, const ls_table *t);

/* CSV: every line starts with `section` (e.g. "summary,..."); fields are
 * quoted as RFC 4180 requires.  skip_header leaves out row 0, for a table
 * that continues a section already printed. */
void ls_table_csv(FILE *f, const ls_table *t, const char *section, int skip_header);

#endif
