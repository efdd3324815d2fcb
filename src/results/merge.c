/* merge.c - see include/lstmsweep/merge.h. */
#include "lstmsweep/merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/csv.h"
#include "lstmsweep/job.h"
#include "lstmsweep/results.h"

typedef struct row {
    char id[LS_JOB_ID_LEN];
    int final;       /* 1: ok/diverged/failed, 0: interrupted */
    size_t seq;      /* order of reading */
    size_t first;    /* seq of the job's first row (output order) */
    char *line;      /* re-serialized, with newline */
} row;

typedef struct merger {
    row *rows;
    size_t n, cap;
    int id_col, status_col;
} merger;

/* Re-quote the fields into one CSV line. */
static char *serialize(int nf, char **f)
{
    size_t cap = 64;
    for (int i = 0; i < nf; i++)
        cap += 2 * strlen(f[i]) + 3;
    char *line = malloc(cap), *p = line;
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

static int add_row(void *ctx, const char *path, long line, int nf, char **f,
                   ls_err *err)
{
    merger *m = ctx;
    ls_status st;

    if (strlen(f[m->id_col]) != LS_JOB_ID_LEN - 1)
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: bad job id '%s'", path, line,
                          f[m->id_col]);
    if (ls_status_parse(f[m->status_col], &st))
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: unknown status '%s'", path,
                          line, f[m->status_col]);
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        row *r = realloc(m->rows, cap * sizeof *r);
        if (!r)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        m->rows = r;
        m->cap = cap;
    }
    row *r = &m->rows[m->n];
    memcpy(r->id, f[m->id_col], LS_JOB_ID_LEN);
    r->final = st != LS_STATUS_INTERRUPTED;
    r->seq = m->n;
    if (!(r->line = serialize(nf, f)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    m->n++;
    return 0;
}

/* Same job together; within a job, the best row last. */
static int by_id_then_rank(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->id, y->id);
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

/* Keep the best row of each job, in order of the job's first appearance. */
static size_t pick_best(merger *m, ls_merge_stats *st)
{
    size_t w = 0;
    if (m->n == 0)
        return 0; /* no rows: m->rows is NULL, which qsort must not get */
    qsort(m->rows, m->n, sizeof *m->rows, by_id_then_rank);
    for (size_t i = 0; i < m->n; i++) {
        size_t first = m->rows[i].seq;
        size_t j = i;
        while (j + 1 < m->n && !strcmp(m->rows[j + 1].id, m->rows[i].id)) {
            j++;
            first = m->rows[j].seq < first ? m->rows[j].seq : first;
        }
        for (size_t k = i; k < j; k++)
            free(m->rows[k].line);
        st->replaced += j - i;
        st->interrupted += !m->rows[j].final;
        m->rows[w] = m->rows[j];
        m->rows[w++].first = first;
        i = j;
    }
    qsort(m->rows, w, sizeof *m->rows, by_first);
    return w;
}

static int write_out(const char *out, merger *m, size_t n, ls_err *err)
{
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    if (!(f = fopen(tmp, "w")))
        return ls_err_set(err, LS_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    fputs(LS_RESULTS_COLUMNS "\n", f);
    for (size_t i = 0; i < n; i++)
        fputs(m->rows[i].line, f);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
        fclose(f);
        unlink(tmp);
        return ls_err_set(err, LS_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    }
    fclose(f);
    if (rename(tmp, out) != 0) {
        unlink(tmp);
        return ls_err_set(err, LS_EIO, "%s: cannot rename: %s", out, strerror(errno));
    }
    return 0;
}

int ls_results_merge(const char *out, const char *const *inputs, int ninputs,
                     ls_merge_stats *stats, ls_err *err)
{
    merger m = {.id_col = ls_csv_column(LS_RESULTS_COLUMNS, "job_id"),
                .status_col = ls_csv_column(LS_RESULTS_COLUMNS, "status")};
    ls_merge_stats st = {0};
    size_t kept = 0;
    int rc = 0;

    for (int i = 0; i < ninputs && !rc; i++) {
        int torn = 0;
        rc = ls_csv_read(inputs[i], LS_RESULTS_COLUMNS, add_row, &m, &torn, err);
        st.torn += (size_t)torn;
    }
    st.rows = m.n;
    if (!rc) {
        kept = pick_best(&m, &st);
        st.jobs = kept;
        rc = write_out(out, &m, kept, err);
    } else {
        kept = m.n;
    }
    for (size_t i = 0; i < kept; i++)
        free(m.rows[i].line);
    free(m.rows);
    if (stats)
        *stats = st;
    return rc;
}
