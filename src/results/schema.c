/* schema.c - the results columns as a table, and one formatter and one
 * parser per type; see include/lstmsweep/schema.h. */
#include "lstmsweep/schema.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/cell.h"
#include "lstmsweep/precision.h"
#include "lstmsweep/job.h"
#include "lstmsweep/results.h"
#include "lstmsweep/sysinfo.h"

typedef void (*gen_fn)(const ls_job *job, char *buf, size_t len);

/* A column and where its value lives (offset -1: not in that struct). */
typedef struct col_def {
    ls_column pub;        /* first: ls_column pointers are col_def pointers */
    const char *csv;      /* REAL: printf format in the row */
    long job_off, res_off;
    size_t size;          /* TEXT: capacity of the field */
    gen_fn gen;           /* GEN: computes the value */
} col_def;

static void gen_job_id(const ls_job *job, char *buf, size_t len)
{
    char id[LS_JOB_ID_LEN];
    ls_job_id(job, id);
    snprintf(buf, len, "%s", id);
}

static void gen_onednn(const ls_job *job, char *buf, size_t len)
{
    ls_sys_onednn_version(buf, len);
}

static void gen_isa(const ls_job *job, char *buf, size_t len)
{
    snprintf(buf, len, "%s", ls_sys_isa());
}

static void gen_version(const ls_job *job, char *buf, size_t len)
{
    snprintf(buf, len, "%s", PACKAGE_VERSION);
}

#define JOB_SIZE(n) sizeof(((ls_job *)0)->n)
#define RES_SIZE(n) sizeof(((ls_result *)0)->n)
/* job_off, res_off, size, gen of each kind of `from` */
#define WHERE_GEN(n) -1, -1, 0, gen_##n
#define WHERE_JOB(n) offsetof(ls_job, n), -1, JOB_SIZE(n), NULL
#define WHERE_KEY(n) WHERE_JOB(n)
#define WHERE_RES(n) -1, offsetof(ls_result, n), RES_SIZE(n), NULL
#define WHERE_RES_KEY(n) offsetof(ls_job, n), offsetof(ls_result, n), RES_SIZE(n), NULL

#define COL_DEF(name, type, from, empty, id, csv, help)                        \
    {{#name, LS_COLUMN_##name, LS_TYPE_##type, LS_FROM_##from,                 \
      LS_EMPTY_##empty, id}, csv, WHERE_##from(name)},
static const col_def cols[] = {LS_RESULTS_SCHEMA(COL_DEF, )};

int ls_schema_count(void) { return LS_NCOLUMNS; }
const ls_column *ls_schema_at(int i) { return &cols[i].pub; }

const ls_column *ls_schema_column(const char *name)
{
    for (int i = 0; i < LS_NCOLUMNS; i++)
        if (!strcmp(cols[i].pub.name, name))
            return &cols[i].pub;
    return NULL;
}

const ls_column *ls_schema_identity(int i)
{
    for (int k = 0; k < LS_NCOLUMNS; k++)
        if (cols[k].pub.id == i + 1)
            return &cols[k].pub;
    return NULL;
}

int ls_column_is_number(const ls_column *c)
{
    return c->type >= LS_TYPE_INT;
}

int ls_column_is_integer(const ls_column *c)
{
    return ls_column_is_number(c) && c->type != LS_TYPE_REAL;
}

/* The field holding c's value, or NULL (GEN). */
static void *field_of(const col_def *d, const ls_job *job, const ls_result *r)
{
    if (r && d->res_off >= 0)
        return (char *)r + d->res_off;
    if (job && d->job_off >= 0)
        return (char *)job + d->job_off;
    return NULL;
}

static int applies(const ls_column *c, const ls_job *job)
{
    return c->empty == LS_EMPTY_BITCOUNT ? job->task == LS_TASK_BITCOUNT
         : c->empty == LS_EMPTY_MNIST ? job->task == LS_TASK_MNIST
         : 1;
}

/* A number < 0 of an OPT column is none: "" in the row, -1 in the
 * canonical text. */
static const char *none_text(const ls_column *c, ls_form form, double v)
{
    if (c->empty != LS_EMPTY_OPT || !(v < 0) || form == LS_FORM_KEY)
        return NULL;
    return form == LS_FORM_CSV ? "" : "-1";
}

static int format_real(const col_def *d, ls_form form, double v, char *buf, size_t len)
{
    const char *none = none_text(&d->pub, form, v);
    if (none)
        return snprintf(buf, len, "%s", none);
    if (form == LS_FORM_CSV)
        return snprintf(buf, len, d->csv, v);
    return snprintf(buf, len, form == LS_FORM_CANON ? "%.17g" : "%g", v);
}

static int format_integer(const ls_column *c, ls_form form, long long v, char *buf,
                          size_t len)
{
    const char *none = none_text(c, form, (double)v);
    return none ? snprintf(buf, len, "%s", none) : snprintf(buf, len, "%lld", v);
}

/* A DEFAULT column's field at its default, left out of the canonical text. */
static int holds_default(const ls_column *c, const void *f)
{
    switch (c->type) {
    case LS_TYPE_CELL: return *(const ls_cell *)f == LS_CELL_LSTM;
    case LS_TYPE_PREC: return *(const ls_precision *)f == LS_PREC_F32;
    case LS_TYPE_TEXT: return !*(const char *)f;
    default: return 0;
    }
}

int ls_column_format(const ls_column *c, ls_form form, const ls_job *job,
                     const ls_result *r, char *buf, size_t len)
{
    const col_def *d = (const col_def *)c;
    const void *f = field_of(d, job, r);

    buf[0] = '\0';
    if (form != LS_FORM_KEY && job && !applies(c, job))
        return -1;
    if (form == LS_FORM_CANON && c->empty == LS_EMPTY_DEFAULT && f && holds_default(c, f))
        return -1;
    if (d->gen) {
        d->gen(job, buf, len);
        return (int)strlen(buf);
    }
    if (!f)
        return 0; /* a result's column without a result: "" */
    switch (c->type) {
    case LS_TYPE_TEXT: return snprintf(buf, len, "%s", (const char *)f);
    case LS_TYPE_TASK: return snprintf(buf, len, "%s", ls_task_name(*(const ls_task *)f));
    case LS_TYPE_STATUS:
        return snprintf(buf, len, "%s", ls_status_name(*(const ls_status *)f));
    case LS_TYPE_CELL: return snprintf(buf, len, "%s", ls_cell_name(*(const ls_cell *)f));
    case LS_TYPE_PREC:
        return snprintf(buf, len, "%s", ls_precision_name(*(const ls_precision *)f));
    case LS_TYPE_INT: return format_integer(c, form, *(const int *)f, buf, len);
    case LS_TYPE_LONG: return format_integer(c, form, *(const long *)f, buf, len);
    case LS_TYPE_U64:
        return snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)f);
    case LS_TYPE_REAL: return format_real(d, form, *(const double *)f, buf, len);
    }
    return -1;
}

/* strtoll/strtod that accept the whole string and nothing else. */
static int parse_ll(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

static int parse_d(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && isfinite(*v) ? 0 : -1;
}

static int parse_integer(const ls_column *c, const char *text, void *f, ls_err *err)
{
    long long ll;
    if (parse_ll(text, &ll) ||
        (c->type == LS_TYPE_INT && (ll < INT_MIN || ll > INT_MAX)) ||
        (c->type == LS_TYPE_U64 && ll < 0))
        return ls_err_set(err, LS_EINVAL, "%s: '%s' is not %s", c->name, text,
                          c->type == LS_TYPE_U64 ? "a non-negative integer"
                                                 : "an integer in range");
    if (c->type == LS_TYPE_INT)
        *(int *)f = (int)ll;
    else if (c->type == LS_TYPE_LONG)
        *(long *)f = (long)ll;
    else
        *(uint64_t *)f = (uint64_t)ll;
    return 0;
}

int ls_column_parse(const ls_column *c, const char *text, ls_job *job, ls_result *r,
                    ls_err *err)
{
    const col_def *d = (const col_def *)c;
    void *f = field_of(d, job, r);
    double v;

    if (!f)
        return 0;
    switch (c->type) {
    case LS_TYPE_TEXT:
        if (strlen(text) >= d->size)
            return ls_err_set(err, LS_EINVAL, "%s: value too long", c->name);
        memcpy(f, text, strlen(text) + 1);
        return 0;
    case LS_TYPE_TASK:
        if (ls_task_parse(text, (ls_task *)f))
            return ls_err_set(err, LS_EINVAL, "%s: '%s' is not bitcount or mnist",
                              c->name, text);
        return 0;
    case LS_TYPE_CELL:
        if (ls_cell_parse(text, (ls_cell *)f))
            return ls_err_set(err, LS_EINVAL, "%s: '%s' is not lstm, gru, lbr-gru or rnn",
                              c->name, text);
        return 0;
    case LS_TYPE_PREC:
        if (ls_precision_parse(text, (ls_precision *)f))
            return ls_err_set(err, LS_EINVAL, "%s: '%s' is not f32, bf16 or auto",
                              c->name, text);
        return 0;
    case LS_TYPE_STATUS:
        if (ls_status_parse(text, (ls_status *)f))
            return ls_err_set(err, LS_EINVAL, "%s: '%s' is not ok, diverged, failed "
                              "or interrupted", c->name, text);
        return 0;
    case LS_TYPE_INT:
    case LS_TYPE_LONG:
    case LS_TYPE_U64:
        return parse_integer(c, text, f, err);
    case LS_TYPE_REAL:
        if (parse_d(text, &v))
            return ls_err_set(err, LS_EINVAL, "%s: '%s' is not a number", c->name, text);
        *(double *)f = v;
        return 0;
    }
    return LS_EINVAL;
}
