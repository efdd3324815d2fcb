/* table.c - see include/lstmsweep/table.h. */
#include "lstmsweep/table.h"
#include "lstmsweep/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ls_table_init(ls_table *t, int ncols, unsigned left)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->left = left;
}

void ls_table_row(ls_table *t)
{
    if (t->oom)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **c = ls_realloc(t->cell, cap * (size_t)t->ncols * sizeof *c);
        if (!c) {
            t->oom = 1;
            return;
        }
        t->cell = c;
        t->cap = cap;
    }
    for (int c = 0; c < t->ncols; c++)
        t->cell[t->nrows * (size_t)t->ncols + (size_t)c] = NULL;
    t->nrows++;
    t->col = 0;
}

void ls_table_put(ls_table *t, const char *fmt, ...)
{
    va_list ap;
    char *s;
    if (t->oom || !t->nrows || t->col >= t->ncols)
        return;
    va_start(ap, fmt);
    if (!(s = ls_vstrprintf(fmt, ap)))
        t->oom = 1;
    va_end(ap);
    t->cell[(t->nrows - 1) * (size_t)t->ncols + (size_t)t->col++] = s;
}

void ls_table_free(ls_table *t)
{
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        ls_free(t->cell[i]);
    ls_free(t->cell);
}

static const char *cell(const ls_table *t, size_t row, int c)
{
    const char *s = t->cell[row * (size_t)t->ncols + (size_t)c];
    return s ? s : "";
}

/* Text: aligned columns, indented, a rule under the header. */
void ls_table_text(FILE *f, const ls_table *t)
{
    size_t w[64] = {0};
    int nc = t->ncols < 64 ? t->ncols : 64;
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < nc; c++)
            w[c] = strlen(cell(t, r, c)) > w[c] ? strlen(cell(t, r, c)) : w[c];
    for (size_t r = 0; r < t->nrows; r++) {
        fputs("  ", f);
        for (int c = 0; c < nc; c++) {
            const char *s = cell(t, r, c);
            int last = c + 1 == nc, left = (t->left >> c) & 1;
            if (left && last)
                fprintf(f, "%s%s", c ? "  " : "", s);
            else
                fprintf(f, left ? "%s%-*s" : "%s%*s", c ? "  " : "", (int)w[c], s);
        }
        fputc('\n', f);
        if (r == 0) {
            fputs("  ", f);
            for (int c = 0; c < nc; c++) {
                fputs(c ? "  " : "", f);
                for (size_t i = 0; i < w[c]; i++)
                    fputc('-', f);
            }
            fputc('\n', f);
        }
    }
}

/* Markdown: a pipe table; '|' and newlines in cells are escaped. */
void ls_table_markdown(FILE *f, const ls_table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            fputs(c ? " | " : "| ", f);
            for (const char *p = cell(t, r, c); *p; p++)
                if (*p == '|')
                    fputs("\\|", f);
                else
                    fputc(*p == '\n' ? ' ' : *p, f);
        }
        fputs(" |\n", f);
        if (r == 0) {
            for (int c = 0; c < t->ncols; c++)
                fputs((t->left >> c) & 1 ? "|:---" : "|---:", f);
            fputs("|\n", f);
        }
    }
    fputc('\n', f);
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* CSV: every line starts with the section name; skip_header for a table
 * that continues its section. */
void ls_table_csv(FILE *f, const ls_table *t, const char *section, int skip_header)
{
    for (size_t r = skip_header ? 1 : 0; r < t->nrows; r++) {
        fputs(section, f);
        for (int c = 0; c < t->ncols; c++) {
            fputc(',', f);
            csv_field(f, cell(t, r, c));
        }
        fputc('\n', f);
    }
}
