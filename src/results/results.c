/* results.c - the results rows: statuses, and the row writer and reader
 * generated from the schema table; see include/lstmsweep/results.h. */
#include "lstmsweep/results.h"

#include <stdio.h>
#include <string.h>

static const char *status_names[LS_NSTATUS] = {"ok", "diverged", "failed", "interrupted",
                                               "paused", "stopped"};

const char *ls_status_name(ls_status s)
{
    return (unsigned)s < LS_NSTATUS ? status_names[s] : "unknown";
}

int ls_status_final(ls_status s, int retry_failed)
{
    return s != LS_STATUS_INTERRUPTED && s != LS_STATUS_PAUSED &&
           !(s == LS_STATUS_FAILED && retry_failed);
}

int ls_status_parse(const char *name, ls_status *s)
{
    for (int i = 0; i < LS_NSTATUS; i++)
        if (!strcmp(name, status_names[i])) {
            *s = (ls_status)i;
            return 0;
        }
    return LS_EINVAL;
}

void ls_result_init(ls_result *r)
{
    memset(r, 0, sizeof *r);
    r->val_error = -1;
    r->test_error = -1;
    r->numa_node = -1;
    r->rung = -1;
}

/* One row in the making: fields are appended until the line ends. */
typedef struct line {
    char buf[8192];
    size_t n;
} line;

/* Append one field, quoted as needed, and the comma or newline after it. */
static void put_field(line *l, const char *v, int last)
{
    char q[2048];
    if (ls_csv_quote(v, q, sizeof q) < 0)
        snprintf(q, sizeof q, "\"(field too long)\"");
    int w = snprintf(l->buf + l->n, sizeof l->buf - l->n, "%s%c", q, last ? '\n' : ',');
    if (w > 0)
        l->n = l->n + (size_t)w < sizeof l->buf ? l->n + (size_t)w : sizeof l->buf - 1;
}

/* The row, newline included, into l. */
static void format_row(const ls_job *job, const ls_result *r, line *l)
{
    char v[1024];
    ls_job resolved = *job;

    resolved.val_size = ls_job_val_size(job);
    for (int i = 0; i < LS_NCOLUMNS; i++) {
        ls_column_format(ls_schema_at(i), LS_FORM_CSV, &resolved, r, v, sizeof v);
        put_field(l, v, i == LS_NCOLUMNS - 1);
    }
}

size_t ls_results_format(const ls_job *job, const ls_result *r, char *buf, size_t len)
{
    line local = {.n = 0};
    format_row(job, r, &local);
    if (local.n && local.buf[local.n - 1] == '\n')
        local.buf[--local.n] = '\0';
    snprintf(buf, len, "%s", local.buf);
    return local.n < len ? local.n : (len ? len - 1 : 0);
}

int ls_results_append(const char *path, const ls_job *job, const ls_result *r,
                      ls_err *err)
{
    line local = {.n = 0}; /* each call formats into its own buffer */
    format_row(job, r, &local);
    return ls_csv_append_line(path, LS_RESULTS_COLUMNS, local.buf, 1, err);
}

int ls_results_parse(int nfields, char **fields, ls_job *job, ls_result *r,
                     ls_err *err)
{
    if (nfields != LS_NCOLUMNS)
        return ls_err_set(err, LS_EFORMAT, "%d fields, expected %d", nfields,
                          LS_NCOLUMNS);
    ls_result_init(r);
    for (int i = 0; i < LS_NCOLUMNS; i++) {
        const ls_column *c = ls_schema_at(i);
        const char *text = fields[i];
        if (!*text && (c->empty == LS_EMPTY_BITCOUNT || c->empty == LS_EMPTY_MNIST))
            continue; /* another task's column: job's value stands */
        if (!*text && c->empty == LS_EMPTY_OPT && ls_column_is_number(c))
            text = "-1"; /* none, as the writer's < 0 */
        if (ls_column_parse(c, text, job, r, err)) {
            if (err)
                err->code = LS_EFORMAT; /* a bad file, not a bad argument */
            return LS_EFORMAT;
        }
    }
    return 0;
}

/* ---- rows of earlier versions -------------------------------------------- */

/* The columns added after layout 1, the layout that brought each, and what
 * the rows from before it hold. */
static const struct added {
    const char *name;
    int layout;
    const char *old_value;
} added[] = {
    {"cell", 2, "lstm"},   /* every row before it was an LSTM's */
    {"precision", 3, "f32"}, /* and ran in f32 */
    {"search", 3, ""},     /* no search tag: a grid's job */
    {"rung", 3, ""},
};

/* The layout that brought column i (1: it was always there). */
static const struct added *added_in(int i)
{
    const char *name = ls_schema_at(i)->name;
    for (size_t k = 0; k < sizeof added / sizeof *added; k++)
        if (!strcmp(added[k].name, name))
            return &added[k];
    return NULL;
}

static int layout_columns(int k)
{
    int n = 0;
    for (int i = 0; i < LS_NCOLUMNS; i++) {
        const struct added *a = added_in(i);
        n += !a || a->layout <= k;
    }
    return n;
}

int ls_results_layout_header(int k, char *buf, size_t len)
{
    size_t n = 0;
    if (k < 1 || k > LS_RESULTS_LAYOUT)
        return -1;
    buf[0] = '\0';
    for (int i = 0; i < LS_NCOLUMNS; i++) {
        const struct added *a = added_in(i);
        if (!a || a->layout <= k)
            n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
                                  ls_schema_at(i)->name);
    }
    return n < len ? 0 : -1;
}

int ls_results_upgrade(int nf, char **fields, const char *out[LS_NCOLUMNS])
{
    int k = LS_RESULTS_LAYOUT;
    while (k >= 1 && layout_columns(k) != nf)
        k--;
    if (k < 1)
        return -1;
    for (int i = 0, f = 0; i < LS_NCOLUMNS; i++) {
        const struct added *a = added_in(i);
        out[i] = a && a->layout > k ? a->old_value : fields[f++];
    }
    return k;
}
