/* api_jobs.c - the API's job, CSV and event endpoints; see
 * include/lstmsweep/api.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/results.h"
#include "lstmsweep/schema.h"
#include "lstmsweep/searchrun.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
#define JOB_SWEEPS_MAX 64    /* sweeps listed for one job */

static json_t *job_json(const ls_store_job_info *j)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:i, s:s, s:f}", "sweep", j->sweep, "id", j->id,
                     "pos", (json_int_t)j->pos, "state", ls_job_state_name(j->state),
                     "attempt", j->attempt, "status", j->status, "est_seconds", j->est_s);
}

/* An array of jobs' JSON, or NULL (out of memory). */
static json_t *jobs_json(const ls_store_job_info *jobs, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, job_json(&jobs[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* ---- one job ------------------------------------------------------------------- */

/* Number columns' values are numbers (null when empty), the others text:
 * the schema says which (schema.h). */
static int is_text_column(const char *name)
{
    const ls_column *c = ls_schema_column(name);
    return !c || !ls_column_is_number(c);
}

static json_t *field_json(const char *column, const char *value)
{
    const ls_column *c = ls_schema_column(column);
    char *end;
    double x;

    if (is_text_column(column))
        return json_string(value);
    if (!*value)
        return json_null();
    errno = 0;
    x = strtod(value, &end);
    if (*end || errno)
        return json_string(value);
    /* integer columns as JSON integers (the row's "64", or SQL's 64.0) */
    if (ls_column_is_integer(c) && x == (double)(json_int_t)x)
        return json_integer((json_int_t)x);
    return json_real(x);
}


/* A results row as {column: value}, or NULL (out of memory). */
static json_t *row_json(const char *row)
{
    char columns[] = LS_RESULTS_COLUMNS, *save = NULL;
    char *field = ls_alloc(strlen(row) + 1);
    json_t *o = json_object();
    const char *p = row;

    for (char *c = strtok_r(columns, ",", &save); field && o && c;
         c = strtok_r(NULL, ",", &save)) {
        ls_csv_next_field(&p, field);
        if (json_object_set_new(o, c, field_json(c, field))) {
            json_decref(o);
            o = NULL;
        }
    }
    ls_free(field);
    if (!field) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the listing ------------------------------------------------------------------ */

/* The columns a "row" shows: want[i] set for each asked. -1 with a 400 in
 * resp for an unknown one; 0 and none set without columns=. */
static int wanted_columns(const ls_api_request *req, char want[LS_NCOLUMNS], int *any,
                          ls_api_response *resp)
{
    const char *v = api_query(req, "columns");
    char buf[1024], *save = NULL;

    memset(want, 0, LS_NCOLUMNS);
    *any = v != NULL;
    if (!v)
        return 0;
    if (!strcmp(v, "all")) {
        memset(want, 1, LS_NCOLUMNS);
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", v);
    for (char *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        const ls_column *col = ls_schema_column(c);
        if (!col) {
            ls_api_error(resp, 400, "columns: no results column '%.64s'", c);
            return -1;
        }
        want[col->index] = 1;
    }
    return 0;
}

/* sort=[-]KEY into q; -1 with a 400 in resp. */
static int sort_of(const ls_api_request *req, ls_store_query *q, ls_api_response *resp)
{
    static const struct { const char *name; int key; } keys[] = {
        {"pos", LS_SORT_POS}, {"id", LS_SORT_ID}, {"state", LS_SORT_STATE},
        {"status", LS_SORT_STATUS}};
    const char *v = api_query(req, "sort");

    q->sort = LS_SORT_POS;
    if (!v || !*v)
        return 0;
    q->desc = *v == '-';
    v += q->desc;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strcmp(v, keys[i].name)) {
            q->sort = keys[i].key;
            return 0;
        }
    const ls_column *c = ls_schema_column(v);
    if (!c || c->index == LS_COLUMN_status) {
        if (c)                        /* the row's status is the job's */
            q->sort = LS_SORT_STATUS;
        else
            ls_api_error(resp, 400, "sort: '%.64s' is not pos, id, state, status or a "
                         "results column", v);
        return c ? 0 : -1;
    }
    q->sort = c->index;
    return 0;
}

/* COL=V for every results column named in the query. */
static size_t where_of(const ls_api_request *req, ls_store_where *w, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < req->nquery && n < max; i++) {
        const ls_column *c = ls_schema_column(req->query[i].key);
        if (c && c->index != LS_COLUMN_status && req->query[i].value)
            w[n++] = (ls_store_where){c->index, req->query[i].value};
    }
    return n;
}

/* The columns of a job asked for: each from its row if it has one, the
 * hyperparameters from its params if not (results: null). */
static json_t *listed_row(const char *row, const char *params, const char want[LS_NCOLUMNS])
{
    json_t *r = row ? row_json(row) : NULL, *p = !row && params ? row_json(params) : NULL;
    json_t *o = json_object();

    for (int i = 0; o && i < LS_NCOLUMNS; i++) {
        const ls_column *c = ls_schema_at(i);
        json_t *v = NULL;
        if (!want[i])
            continue;
        if (r)
            v = json_incref(json_object_get(r, c->name));
        else if (p && (c->from == LS_FROM_KEY || c->from == LS_FROM_JOB ||
                       c->from == LS_FROM_RES_KEY || i == LS_COLUMN_job_id))
            v = json_incref(json_object_get(p, c->name));
        if (json_object_set_new(o, c->name, v ? v : json_null())) {
            json_decref(o);
            o = NULL;
        }
    }
    json_decref(r);
    json_decref(p);
    return o;
}

#define WHERE_MAX 32

void api_jobs_list(ls_api *api, const ls_api_request *req, const char *name,
                   ls_api_response *resp)
{
    ls_sweep_info w;
    ls_store_where where[WHERE_MAX];
    ls_store_query q = {.sweep = name, .filter = api_query(req, "status"), .where = where};
    ls_store_job_info *jobs = NULL;
    char **rows = NULL, **params = NULL, want[LS_NCOLUMNS];
    long offset, limit;
    size_t n = 0, total = 0;
    ls_err err = {0};
    int rc, any;

    if (api_find_sweep(api, name, &w, resp) ||
        api_query_long(req, "offset", 0, 0, 1L << 40, &offset, resp) ||
        api_query_long(req, "limit", PAGE_DEFAULT, 1, PAGE_MAX, &limit, resp) ||
        sort_of(req, &q, resp) || wanted_columns(req, want, &any, resp))
        return;
    q.nwhere = where_of(req, where, WHERE_MAX);
    q.offset = (size_t)offset;
    q.max = (size_t)limit;
    if (!(jobs = ls_alloc((size_t)limit * sizeof *jobs)) ||
        !(rows = ls_calloc((size_t)limit, sizeof *rows)) ||
        !(params = ls_calloc((size_t)limit, sizeof *params))) {
        ls_api_error(resp, 500, "out of memory");
        goto out;
    }
    rc = ls_store_jobs_query(api->store, &q, jobs, any ? rows : NULL, any ? params : NULL,
                             &n, &total, &err);
    if (rc) {
        api_fail(resp, rc, &err, 400);   /* the sweep exists: a bad filter */
        goto out;
    }
    json_t *list = jobs_json(jobs, n);
    for (size_t i = 0; any && list && i < n; i++)
        if (json_object_set_new(json_array_get(list, i), "row",
                                listed_row(rows[i], params[i], want))) {
            json_decref(list);
            list = NULL;
        }
    api_json(resp, 200, list ? json_pack("{s:s, s:I, s:I, s:I, s:o}", "sweep", name,
                                         "total", (json_int_t)total, "offset",
                                         (json_int_t)offset, "limit", (json_int_t)limit,
                                         "jobs", list) : NULL);
out:
    for (size_t i = 0; i < n; i++) {
        ls_free(rows ? rows[i] : NULL);
        ls_free(params ? params[i] : NULL);
    }
    ls_free(rows);
    ls_free(params);
    ls_free(jobs);
}

#define DISTINCT_MAX 1000

/* The hyperparameter columns that take more than one value in the sweep. */
void api_sweep_params(ls_api *api, const ls_api_request *req, const char *name,
                      ls_api_response *resp)
{
    ls_sweep_info w;
    ls_err err = {0};
    json_t *o;

    if (api_find_sweep(api, name, &w, resp))
        return;
    o = json_object();
    for (int i = 0; o && i < LS_NCOLUMNS; i++) {
        const ls_column *c = ls_schema_at(i);
        char **v = NULL;
        size_t n = 0;
        if (c->from != LS_FROM_KEY && c->from != LS_FROM_RES_KEY)
            continue;
        if (ls_store_distinct(api->store, name, i, DISTINCT_MAX, &v, &n, &err)) {
            json_decref(o);
            api_fail(resp, LS_EIO, &err, 500);
            return;
        }
        json_t *a = n > 1 ? json_array() : NULL;
        for (size_t k = 0; a && k < n; k++)
            json_array_append_new(a, field_json(c->name, v[k]));
        ls_store_free_values(v, n);
        if (a && json_object_set_new(o, c->name, a)) {
            json_decref(o);
            o = NULL;
        }
    }
    api_json(resp, 200, o ? json_pack("{s:s, s:o}", "sweep", name, "params", o) : NULL);
}

static json_t *curve_json(const ls_curve_point *pts, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        const ls_curve_point *c = &pts[i];
        json_t *te = c->test_error < 0 ? json_null() : json_real(c->test_error);
        json_t *ve = c->val_error < 0 ? json_null() : json_real(c->val_error);
        if (json_array_append_new(a, json_pack("{s:i, s:f, s:f, s:o, s:o, s:f}", "epoch",
                                               c->epoch, "train_loss", c->train_loss,
                                               "train_error", c->train_error, "val_error", ve,
                                               "test_error", te, "elapsed_s", c->elapsed_s))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The job's curve: from the hook, else from the curve file of the first
 * of its sweeps that has its points. */
static json_t *job_curve(ls_api *api, const char *id, const ls_store_job_info *in, size_t n)
{
    ls_curve_point *pts = NULL;
    size_t np = 0;
    ls_err err = {0};
    char path[LS_SWEEP_PATH_MAX];

    if (api->hooks.curve_of) {
        if (api->hooks.curve_of(api->hooks.ctx, id, &pts, &np, &err))
            np = 0;   /* a curve that cannot be read is an empty one: the row stands */
    }
    for (size_t i = 0; !api->hooks.curve_of && !np && i < n; i++) {
        ls_free(pts);
        ls_submit_path(&api->policy, in[i].sweep, "curves.csv", path, sizeof path);
        if (ls_curves_of_job(path, id, &pts, &np, &err))
            np = 0;
    }
    json_t *a = curve_json(pts, np);
    ls_free(pts);
    return a;
}

static int is_job_id(const char *id)
{
    return strlen(id) == LS_JOB_ID_LEN - 1 && strspn(id, "0123456789abcdef") == LS_JOB_ID_LEN - 1;
}

void api_job_get(ls_api *api, const ls_api_request *req, const char *id,
                 ls_api_response *resp)
{
    ls_store_job_info entries[JOB_SWEEPS_MAX];
    size_t n = 0;
    char *row = NULL;
    ls_err err = {0};
    int rc;

    if (!is_job_id(id)) {
        ls_api_error(resp, 400, "'%.64s' is not a job id (16 lowercase hex digits)", id);
        return;
    }
    if ((rc = ls_store_job_of(api->store, id, entries, JOB_SWEEPS_MAX, &n, &row, &err))) {
        api_fail(resp, rc, &err, 500);
        return;
    }
    if (n == 0)
        ls_api_error(resp, 404, "no sweep has job %s", id);
    else
        api_json(resp, 200, json_pack("{s:s, s:o, s:o, s:o}", "id", id,
                                      "sweeps", jobs_json(entries, n),
                                      "row", row ? row_json(row) : json_null(),
                                      "curve", job_curve(api, id, entries, n)));
    ls_free(row);
}

/* ---- CSV files ------------------------------------------------------------------- */

/* The sweep's CSV from write; 404 for an unknown sweep. */
static void reply_csv(ls_api *api, const char *name, api_writer *write, ls_api_response *resp)
{
    ls_sweep_info w;

    if (!api_find_sweep(api, name, &w, resp))
        api_memstream(resp, "text/csv", write, api, name);
}

static int write_results(ls_api *api, const char *sweep, FILE *f, ls_err *err)
{
    return ls_store_export(api->store, sweep, f, err);
}

static int write_curves(ls_api *api, const char *sweep, FILE *f, ls_err *err)
{
    char path[LS_SWEEP_PATH_MAX];

    if (api->hooks.curves_csv)
        return api->hooks.curves_csv(api->hooks.ctx, sweep, f, err);
    ls_submit_path(&api->policy, sweep, "curves.csv", path, sizeof path);
    return ls_csv_file_copy(path, LS_CURVE_COLUMNS, f, err);
}

/* An asha sweep's audit log (searchrun.h); a grid's is just the header. */
static int write_search(ls_api *api, const char *sweep, FILE *f, ls_err *err)
{
    char path[LS_SWEEP_PATH_MAX];
    ls_submit_path(&api->policy, sweep, "search.csv", path, sizeof path);
    return ls_csv_file_copy(path, LS_SEARCH_LOG_COLUMNS, f, err);
}

void api_search_csv(ls_api *api, const ls_api_request *req, const char *name,
                    ls_api_response *resp)
{
    reply_csv(api, name, write_search, resp);
}

void api_results_csv(ls_api *api, const ls_api_request *req, const char *name,
                     ls_api_response *resp)
{
    reply_csv(api, name, write_results, resp);
}

void api_curves_csv(ls_api *api, const ls_api_request *req, const char *name,
                    ls_api_response *resp)
{
    reply_csv(api, name, write_curves, resp);
}

/* ---- events ------------------------------------------------------------------------ */

void api_events(ls_api *api, const ls_api_request *req, const char *arg,
                ls_api_response *resp)
{
    const char *last = ls_api_header(req, "Last-Event-ID");
    uint64_t now = ls_events_last(api->events), after = now;
    char *end;

    if (last) {
        errno = 0;
        unsigned long long x = strtoull(last, &end, 10);
        if (!*last || *end || errno || *last == '-') {
            ls_api_error(resp, 400, "Last-Event-ID: '%.32s' is not an event id", last);
            return;
        }
        after = x;
    }
    api_body(resp, 200, "text/event-stream", NULL, 0);
    resp->stream = 1;
    /* ids start again at 1 when the server restarts: a client ahead of
     * them has missed what happened since, and is told so */
    resp->stream_reset = after > now;
    resp->stream_after = after > now ? 0 : after;
}
