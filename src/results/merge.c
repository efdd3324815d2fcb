/* merge.c - see include/lstmsweep/merge.h.
 *
 * Every row of every input is kept in memory with its key (the job id; for
 * curves, the job id and the epoch) and its rank (final or not, order of
 * reading); sorting by key then rank puts each key's best row last in its
 * run, and a second sort restores the order of first appearance.
 */
#include "lstmsweep/merge.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/durable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/csv.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/job.h"
#include "lstmsweep/results.h"

typedef struct row {
    const char *id;  /* f[id column] */
    long epoch;      /* curves: the epoch; results: 0 */
    int final;       /* 1: ok/diverged/failed (curves: always), 0: interrupted */
    size_t seq;      /* order of reading */
    size_t first;    /* seq of the key's first row (output order) */
    char **f;        /* the fields; one allocation with their text */
} row;

typedef struct merger {
    const char *header;
    int nfields, id_col;
    int status_col;  /* results: ranks rows; -1 for curves */
    int epoch_col;   /* curves: part of the key; -1 for results */
    row *rows;
    size_t n, cap;
} merger;

/* A merger of files with this header: rows keyed by the job id and the
 * column `epoch`, ranked by the status column `status` (NULL: none). */
static merger merger_for(const char *header, const char *status, const char *epoch)
{
    merger m = {.header = header,
                .id_col = ls_csv_column(header, "job_id"),
                .status_col = status ? ls_csv_column(header, status) : -1,
                .epoch_col = epoch ? ls_csv_column(header, epoch) : -1};
    for (const char *p = header; p; p = strchr(p + 1, ','))
        m.nfields++;
    return m;
}

/* fields[0..nf) copied into one allocation: the pointers, then the text. */
static char **copy_fields(int nf, char **fields)
{
    size_t len = (size_t)nf * sizeof(char *);
    for (int i = 0; i < nf; i++)
        len += strlen(fields[i]) + 1;
    char **f = ls_alloc(len), *p;
    if (!f)
        return NULL;
    p = (char *)(f + nf);
    for (int i = 0; i < nf; i++) {
        size_t n = strlen(fields[i]) + 1;
        f[i] = memcpy(p, fields[i], n);
        p += n;
    }
    return f;
}

/* Check the row's key fields (and a curves row's numbers); its epoch and
 * rank into r. */
static int check_row(const merger *m, const char *path, long line, char **f,
                     row *r, ls_err *err)
{
    ls_status st;
    int rc;

    if (strlen(f[m->id_col]) != LS_JOB_ID_LEN - 1)
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: bad job id '%s'", path, line,
                          f[m->id_col]);
    r->final = 1;
    r->epoch = 0;
    if (m->status_col >= 0) {
        if (ls_status_parse(f[m->status_col], &st))
            return ls_err_set(err, LS_EFORMAT, "%s:%ld: unknown status '%s'", path,
                              line, f[m->status_col]);
        r->final = ls_status_final(st, 0);
    }
    if (m->epoch_col >= 0) {
        if ((rc = ls_curve_check(path, line, f, err)))
            return rc;
        r->epoch = strtol(f[m->epoch_col], NULL, 10);
    }
    return 0;
}

static int add_row(void *ctx, const char *path, long line, int nf, char **f,
                   ls_err *err)
{
    merger *m = ctx;
    row new;
    int rc = check_row(m, path, line, f, &new, err);

    if (rc)
        return rc;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        row *r = ls_realloc(m->rows, cap * sizeof *r);
        if (!r)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        m->rows = r;
        m->cap = cap;
    }
    if (!(new.f = copy_fields(nf, f)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    new.id = new.f[m->id_col];
    new.seq = m->n;
    m->rows[m->n++] = new;
    return 0;
}

static int cmp_key(const row *x, const row *y)
{
    int c = strcmp(x->id, y->id);
    return c ? c : (x->epoch > y->epoch) - (x->epoch < y->epoch);
}

/* Same key together; within a key, the best row last. */
static int by_key_then_rank(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = cmp_key(x, y);
    if (c)
        return c;
    if (x->final != y->final)
        return x->final - y->final;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_first(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Keep the best row of each key, in order of the key's first appearance. */
static size_t pick_best(merger *m, ls_merge_stats *st)
{
    size_t w = 0;
    if (m->n == 0)
        return 0; /* no rows: m->rows is NULL, which qsort must not get */
    qsort(m->rows, m->n, sizeof *m->rows, by_key_then_rank);
    for (size_t i = 0; i < m->n; i++) {
        size_t first = m->rows[i].seq;
        size_t j = i;
        while (j + 1 < m->n && !cmp_key(&m->rows[j + 1], &m->rows[i])) {
            j++;
            first = m->rows[j].seq < first ? m->rows[j].seq : first;
        }
        for (size_t k = i; k < j; k++)
            ls_free(m->rows[k].f);
        st->replaced += j - i;
        st->interrupted += !m->rows[j].final;
        m->rows[w] = m->rows[j];
        m->rows[w++].first = first;
        i = j;
    }
    qsort(m->rows, w, sizeof *m->rows, by_first);
    return w;
}

/* The kept rows into out (the row array becomes out->rows). */
static int keep(merger *m, size_t n, ls_merged *out, ls_err *err)
{
    char ***rows = ls_alloc((n + 1) * sizeof *rows);
    if (!rows)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        rows[i] = m->rows[i].f;
    out->rows = rows;
    out->nrows = n;
    out->nfields = m->nfields;
    return 0;
}

/* A row of an earlier layout (results.h), in today's. */
static int add_old_row(void *ctx, const char *path, long line, int nf, char **f,
                       ls_err *err)
{
    const char *now[LS_NCOLUMNS];
    if (ls_results_upgrade(nf, f, now) < 0)
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: %d fields", path, line, nf);
    return add_row(ctx, path, line, LS_NCOLUMNS, (char **)now, err);
}

/* The layout of the results file at path: k < LS_RESULTS_LAYOUT when its
 * header is an earlier layout's, else LS_RESULTS_LAYOUT (today's, or
 * another header, which ls_csv_read then refuses). */
static int file_layout(const char *path, char *header, size_t len)
{
    char line[4096];
    FILE *f = fopen(path, "r");
    int k = LS_RESULTS_LAYOUT;
    if (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        for (int j = 1; j < LS_RESULTS_LAYOUT && k == LS_RESULTS_LAYOUT; j++)
            if (!ls_results_layout_header(j, header, len) && !strcmp(header, line))
                k = j;
    }
    if (f)
        fclose(f);
    return k;
}

/* Read one input: a results file of an earlier layout is upgraded row by
 * row (so `merge` converts old files and `report` reads them). */
static int read_input(merger *m, const char *path, int *torn, ls_err *err)
{
    char old[4096];
    int results = !strcmp(m->header, LS_RESULTS_COLUMNS);
    if (results && file_layout(path, old, sizeof old) < LS_RESULTS_LAYOUT)
        return ls_csv_read(path, old, add_old_row, m, torn, err);
    return ls_csv_read(path, m->header, add_row, m, torn, err);
}

static int merge_load(merger *m, ls_merged *out, const char *const *inputs,
                      int ninputs, ls_merge_stats *stats, ls_err *err)
{
    ls_merge_stats st = {0};
    size_t kept = 0;
    int rc = 0;

    memset(out, 0, sizeof *out);
    for (int i = 0; i < ninputs && !rc; i++) {
        int torn = 0;
        rc = read_input(m, inputs[i], &torn, err);
        st.torn += (size_t)torn;
    }
    st.rows = m->n;
    kept = m->n;
    if (!rc) {
        kept = pick_best(m, &st);
        st.jobs = kept;
        rc = keep(m, kept, out, err);
    }
    if (rc)
        for (size_t i = 0; i < kept; i++)
            ls_free(m->rows[i].f);
    ls_free(m->rows);
    if (stats)
        *stats = st;
    return rc;
}

void ls_merged_free(ls_merged *m)
{
    for (size_t i = 0; i < m->nrows; i++)
        ls_free(m->rows[i]);
    ls_free(m->rows);
    memset(m, 0, sizeof *m);
}

int ls_results_merge_load(ls_merged *out, const char *const *inputs, int ninputs,
                          ls_merge_stats *stats, ls_err *err)
{
    merger m = merger_for(LS_RESULTS_COLUMNS, "status", NULL);
    return merge_load(&m, out, inputs, ninputs, stats, err);
}

/* Re-quote the fields into one CSV line, with its newline. */
static char *serialize(int nf, char **f)
{
    size_t cap = 64;
    for (int i = 0; i < nf; i++)
        cap += 2 * strlen(f[i]) + 3;
    char *line = ls_alloc(cap), *p = line;
    if (!line)
        return NULL;
    for (int i = 0; i < nf; i++) {
        int w = ls_csv_quote(f[i], p, cap - (size_t)(p - line));
        p += w < 0 ? 0 : w;
        *p++ = i + 1 < nf ? ',' : '\n';
    }
    *p = '\0';
    return line;
}

typedef struct content {
    const char *header;
    const ls_merged *m;
} content;

/* The header and the rows into f. */
/* The merged file's content, for ls_file_replace (durable.h), which makes
 * the replacement atomic and durable. */
static int write_rows(int fd, void *ctx, ls_err *err)
{
    const content *c = ctx;
    int rc = ls_write_all(fd, c->header, strlen(c->header), err);
    if (!rc)
        rc = ls_write_all(fd, "\n", 1, err);
    for (size_t i = 0; !rc && i < c->m->nrows; i++) {
        char *line = serialize(c->m->nfields, c->m->rows[i]);
        if (!line)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        rc = ls_write_all(fd, line, strlen(line), err);
        ls_free(line);
    }
    return rc;
}

static int merge_into(merger *m, const char *out, const char *const *inputs,
                      int ninputs, ls_merge_stats *stats, ls_err *err)
{
    ls_merged rows;
    int rc = merge_load(m, &rows, inputs, ninputs, stats, err);
    content c = {m->header, &rows};
    if (!rc)
        rc = ls_file_replace(out, write_rows, &c, err);
    ls_merged_free(&rows);
    return rc;
}

int ls_results_merge(const char *out, const char *const *inputs, int ninputs,
                     ls_merge_stats *stats, ls_err *err)
{
    merger m = merger_for(LS_RESULTS_COLUMNS, "status", NULL);
    return merge_into(&m, out, inputs, ninputs, stats, err);
}

int ls_curves_merge(const char *out, const char *const *inputs, int ninputs,
                    ls_merge_stats *stats, ls_err *err)
{
    merger m = merger_for(LS_CURVE_COLUMNS, NULL, "epoch");
    return merge_into(&m, out, inputs, ninputs, stats, err);
}
