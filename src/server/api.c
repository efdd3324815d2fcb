/* api.c - the HTTP API's routing, authentication and sweep endpoints; see
 * include/lstmsweep/api.h.  The job, CSV and event endpoints are in
 * api_jobs.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/metrics.h"
#include "lstmsweep/results.h"

#define JSON_TYPE "application/json"

/* ---- responses ---------------------------------------------------------------- */

void api_body(ls_api_response *resp, int status, const char *type, char *body, size_t len)
{
    resp->status = status;
    resp->content_type = type;
    resp->body = body;
    resp->body_len = len;
}

void api_json(ls_api_response *resp, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (!text) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        api_body(resp, 500, JSON_TYPE, strdup(oom), sizeof oom - 1);
        if (!resp->body)
            resp->body_len = 0;
        return;
    }
    api_body(resp, status, JSON_TYPE, text, strlen(text));
}

void ls_api_error(ls_api_response *resp, int status, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    api_json(resp, status, json_pack("{s:s}", "error", msg));
}

void api_fail(ls_api_response *resp, int rc, const ls_err *err, int einval_status)
{
    int status = rc == LS_EINVAL ? einval_status : rc == LS_ECONFLICT ? 409 : 500;
    ls_api_error(resp, status, "%s", err->msg[0] ? err->msg : ls_strerror(rc));
}

void ls_api_response_free(ls_api_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

/* ---- requests ------------------------------------------------------------------- */

const char *ls_api_header(const ls_api_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strcasecmp(req->headers[i].key, name))
            return req->headers[i].value;
    return NULL;
}

const char *api_query(const ls_api_request *req, const char *key)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (!strcmp(req->query[i].key, key))
            return req->query[i].value ? req->query[i].value : "";
    return NULL;
}

int api_query_long(const ls_api_request *req, const char *key, long def, long min,
                   long max, long *out, ls_api_response *resp)
{
    const char *v = api_query(req, key);
    char *end;

    *out = def;
    if (!v)
        return 0;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < min || x > max) {
        ls_api_error(resp, 400, "%s: '%.64s' is not an integer in %ld..%ld", key, v, min, max);
        return -1;
    }
    *out = x;
    return 0;
}

int ls_api_authorized(const ls_api *api, const char *authorization)
{
    static const char scheme[] = "Bearer ";

    if (!authorization || strncasecmp(authorization, scheme, sizeof scheme - 1))
        return 0;
    return ls_token_equal(authorization + sizeof scheme - 1, api->token);
}

/* ---- sweeps ----------------------------------------------------------------------- */

int api_find_sweep(ls_api *api, const char *name, ls_sweep_info *info,
                   ls_api_response *resp)
{
    ls_err err = {0};
    int rc = ls_submit_check_name(name, &err);

    if (rc) {
        ls_api_error(resp, 400, "%s", err.msg);
        return -1;
    }
    if ((rc = ls_store_sweep(api->store, name, info, NULL, &err))) {
        api_fail(resp, rc, &err, 404);
        return -1;
    }
    return 0;
}

/* Seconds to finish at the pace of the cores it holds (or, holding none
 * yet, of the whole node); null unless the sweep is active. */
static json_t *eta(const ls_sweep_info *w, double left, int busy, const ls_node_status *node)
{
    int cores = busy > 0 ? busy : node->total_cores;
    if (w->state != LS_SWEEP_ACTIVE || cores <= 0)
        return json_null();
    return json_real(left / cores);
}

static json_t *sweep_json(ls_api *api, const ls_sweep_info *w, const ls_node_status *node)
{
    const size_t *j = w->by_state, *r = w->by_status;
    int busy = api->hooks.busy_cores_of ? api->hooks.busy_cores_of(api->hooks.ctx, w->name) : 0;
    double left = 0;
    ls_err err = {0};

    if (ls_store_left(api->store, w->name, &left, &err))
        return NULL;
    return json_pack("{s:s, s:s, s:i, s:f, s:f, s:{s:I, s:I, s:I, s:I, s:I}, "
                     "s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:i, s:f, s:o, s:o}",
                     "name", w->name, "state", ls_sweep_state_name(w->state),
                     "priority", w->priority, "submitted", w->submitted,
                     "core_seconds", w->core_s,
                     "jobs", "total", (json_int_t)(j[0] + j[1] + j[2] + j[3]),
                     "queued", (json_int_t)j[LS_JOB_QUEUED], "running",
                     (json_int_t)j[LS_JOB_RUNNING], "done", (json_int_t)j[LS_JOB_DONE],
                     "cancelled", (json_int_t)j[LS_JOB_CANCELLED],
                     "results", "ok", (json_int_t)r[LS_STATUS_OK], "diverged",
                     (json_int_t)r[LS_STATUS_DIVERGED], "failed", (json_int_t)r[LS_STATUS_FAILED],
                     "stopped", (json_int_t)r[LS_STATUS_STOPPED],
                     "interrupted", (json_int_t)r[LS_STATUS_INTERRUPTED],
                     "paused", (json_int_t)r[LS_STATUS_PAUSED],
                     "busy_cores", busy, "left_core_seconds", left,
                     "eta_seconds", eta(w, left, busy, node),
                     "error", w->error[0] ? json_string(w->error) : json_null());
}

static void node_of(ls_api *api, ls_node_status *node)
{
    memset(node, 0, sizeof *node);
    if (api->hooks.node_status)
        api->hooks.node_status(api->hooks.ctx, node);
}

/* 200 with the sweep as it is now (after a change: its new state). */
static void reply_sweep(ls_api *api, const char *name, int status, ls_api_response *resp)
{
    ls_sweep_info w;
    ls_node_status node;

    if (api_find_sweep(api, name, &w, resp))
        return;
    node_of(api, &node);
    api_json(resp, status, sweep_json(api, &w, &node));
}

static void h_sweep_get(ls_api *api, const ls_api_request *req, const char *name,
                        ls_api_response *resp)
{
    reply_sweep(api, name, 200, resp);
}

static void h_sweeps_list(ls_api *api, const ls_api_request *req, const char *arg,
                          ls_api_response *resp)
{
    ls_sweep_info *w;
    ls_node_status node;
    size_t n;
    ls_err err = {0};
    int rc = ls_store_sweeps(api->store, &w, &n, &err);
    json_t *list = json_array();

    if (rc) {
        json_decref(list);
        api_fail(resp, rc, &err, 500);
        return;
    }
    node_of(api, &node);
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, sweep_json(api, &w[i], &node))) {
            json_decref(list);
            list = NULL;
        }
    ls_free(w);
    api_json(resp, 200, list ? json_pack("{s:o}", "sweeps", list) : NULL);
}

/* Tell the event stream and the scheduler that the sweep changed. */
static void changed(ls_api *api, const char *name)
{
    ls_sweep_info w;
    ls_err err = {0};
    char data[256];

    if (!ls_store_sweep(api->store, name, &w, NULL, &err)) {
        snprintf(data, sizeof data, "{\"sweep\":\"%s\",\"state\":\"%s\",\"priority\":%d}",
                 name, ls_sweep_state_name(w.state), w.priority);
        ls_events_push(api->events, "sweep_state", data, NULL, NULL);
    }
    if (api->hooks.on_state_change)
        api->hooks.on_state_change(api->hooks.ctx, name);
}

static void set_state(ls_api *api, const char *name, ls_sweep_state to,
                      ls_api_response *resp)
{
    ls_sweep_info w;
    ls_err err = {0};
    int rc;

    if (api_find_sweep(api, name, &w, resp))
        return;
    if ((rc = ls_store_set_state(api->store, name, to, &err))) {
        api_fail(resp, rc, &err, 404);
        return;
    }
    changed(api, name);
    reply_sweep(api, name, 200, resp);
}

static void h_cancel(ls_api *api, const ls_api_request *req, const char *name,
                     ls_api_response *resp)
{
    set_state(api, name, LS_SWEEP_CANCELLED, resp);
}

static void h_pause(ls_api *api, const ls_api_request *req, const char *name,
                    ls_api_response *resp)
{
    set_state(api, name, LS_SWEEP_PAUSED, resp);
}

static void h_resume(ls_api *api, const ls_api_request *req, const char *name,
                     ls_api_response *resp)
{
    set_state(api, name, LS_SWEEP_ACTIVE, resp);
}

#define PRIORITY_MAX 1000000L

static void h_priority(ls_api *api, const ls_api_request *req, const char *name,
                       ls_api_response *resp)
{
    ls_sweep_info w;
    ls_err err = {0};
    long value;
    int rc;

    if (api_find_sweep(api, name, &w, resp) ||
        api_query_long(req, "value", LONG_MIN, -PRIORITY_MAX, PRIORITY_MAX, &value, resp))
        return;
    if (value == LONG_MIN) {
        ls_api_error(resp, 400, "value: missing (POST .../priority?value=N)");
        return;
    }
    if ((rc = ls_store_set_priority(api->store, name, (int)value, &err))) {
        api_fail(resp, rc, &err, 404);
        return;
    }
    changed(api, name);
    reply_sweep(api, name, 200, resp);
}

/* ---- submission ------------------------------------------------------------------- */

static int is_text_plain(const char *type)
{
    static const char want[] = "text/plain";
    size_t n = sizeof want - 1;
    return type && !strncasecmp(type, want, n) && (type[n] == '\0' || type[n] == ';' ||
                                                   type[n] == ' ');
}

/* The body as a C string, or NULL with a 4xx in resp. */
static char *body_text(const ls_api_request *req, ls_api_response *resp)
{
    char *text;

    if (!is_text_plain(ls_api_header(req, "Content-Type"))) {
        ls_api_error(resp, 415, "the body must be the sweep's INI text, sent as "
                     "Content-Type: text/plain");
        return NULL;
    }
    if (req->body_len > LS_API_BODY_MAX) {
        ls_api_error(resp, 413, "the body is larger than %u bytes", LS_API_BODY_MAX);
        return NULL;
    }
    if (req->body_len && memchr(req->body, '\0', req->body_len)) {
        ls_api_error(resp, 400, "the body holds a NUL byte");
        return NULL;
    }
    if (!(text = ls_alloc(req->body_len + 1))) {
        ls_api_error(resp, 500, "out of memory");
        return NULL;
    }
    memcpy(text, req->body, req->body_len);
    text[req->body_len] = '\0';
    return text;
}

/* An asha sweep's jobs carry its search's tag, so the same search under
 * another name would be the same jobs: two drivers deciding for them.
 * 409 then (the search is that sweep's).  0: free. */
static int search_taken(ls_api *api, const ls_sweep *sw, ls_api_response *resp)
{
    ls_store_job_info in[4];
    char id[LS_JOB_ID_LEN];
    size_t n = 0;
    ls_err err = {0};
    if (sw->search.method != LS_SEARCH_ASHA || !sw->njobs)
        return 0;
    ls_job_id(&sw->jobs[0], id);
    if (ls_store_job_of(api->store, id, in, 4, &n, NULL, &err)) {
        api_fail(resp, err.code, &err, 500);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].sweep, sw->name)) {
            ls_api_error(resp, 409, "sweep '%s' runs this same search (the same "
                         "configurations and [search] settings); follow it there",
                         in[i].sweep);
            return 1;
        }
    return 0;
}

/* Enter the parsed sweep in the store: 201 (new) or 200 (the same again). */
static void add_sweep(ls_api *api, const ls_sweep *sw, const char *text, long priority,
                      ls_api_response *resp)
{
    ls_store_job *jobs = ls_calloc(sw->njobs ? sw->njobs : 1, sizeof *jobs);
    ls_err err = {0};
    size_t fresh = 0;
    int rc = jobs ? 0 : ls_err_set(&err, LS_ENOMEM, "out of memory");

    if (!rc)
        rc = api->hooks.jobs_of_sweep(api->hooks.ctx, sw, jobs, &err);
    if (!rc)
        rc = ls_store_add_sweep_params(api->store, sw->name, text, (int)priority, jobs,
                                       sw->jobs, sw->njobs, &fresh, &err);
    ls_free(jobs);
    if (rc) {
        api_fail(resp, rc, &err, 400);
        return;
    }
    changed(api, sw->name);
    api_json(resp, 201, json_pack("{s:s, s:I, s:I, s:s}", "name", sw->name,
                                  "jobs", (json_int_t)sw->njobs, "new_jobs", (json_int_t)fresh,
                                  "state", "active"));
}

/* The same name again: 200 with new_jobs 0 if the text is the same, 409 if
 * another text has the name.  0: the name is free. */
static int resubmitted(ls_api *api, const char *name, const char *text,
                       ls_api_response *resp)
{
    ls_sweep_info w;
    char *ini = NULL;
    ls_err err = {0};
    int rc = ls_store_sweep(api->store, name, &w, &ini, &err);

    if (rc == LS_EINVAL)
        return 0;                                   /* no such sweep */
    if (rc)
        api_fail(resp, rc, &err, 500);
    else if (strcmp(ini, text))
        ls_api_error(resp, 409, "sweep '%s' exists with another definition; submit it "
                     "under another name", name);
    else
        api_json(resp, 200, json_pack("{s:s, s:I, s:i, s:s}", "name", name, "jobs",
                                      (json_int_t)(w.by_state[0] + w.by_state[1] +
                                                   w.by_state[2] + w.by_state[3]),
                                      "new_jobs", 0, "state", ls_sweep_state_name(w.state)));
    ls_free(ini);
    return 1;
}

static void h_submit(ls_api *api, const ls_api_request *req, const char *arg,
                     ls_api_response *resp)
{
    ls_sweep *sw = NULL;
    ls_err err = {0};
    long priority;
    char *text;
    int rc;

    if (api_query_long(req, "priority", 0, -PRIORITY_MAX, PRIORITY_MAX, &priority, resp) ||
        !(text = body_text(req, resp)))
        return;
    if ((rc = ls_submit_load(&api->policy, text, &sw, &err)))
        api_fail(resp, rc, &err, 400);
    else if (!resubmitted(api, sw->name, text, resp) && !search_taken(api, sw, resp))
        add_sweep(api, sw, text, priority, resp);
    ls_sweep_destroy(sw);
    ls_free(text);
}

/* ---- health, metrics --------------------------------------------------------------- */

static void h_health(ls_api *api, const ls_api_request *req, const char *arg,
                     ls_api_response *resp)
{
    api_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

void api_memstream(ls_api_response *resp, const char *type, api_writer *write, ls_api *api,
                   const char *arg)
{
    char *buf = NULL;
    size_t len = 0;
    ls_err err = {0};
    FILE *f = open_memstream(&buf, &len);
    int rc = f ? write(api, arg, f, &err) : ls_err_set(&err, LS_ENOMEM, "out of memory");

    if (f && fclose(f) && !rc)
        rc = ls_err_set(&err, LS_ENOMEM, "out of memory");
    if (rc) {
        free(buf);
        api_fail(resp, rc, &err, 500);
        return;
    }
    api_body(resp, 200, type, buf, len);
}

static int write_metrics(ls_api *api, const char *arg, FILE *f, ls_err *err)
{
    return ls_metrics_write(api->store, &api->hooks, f, err);
}

static void h_metrics(ls_api *api, const ls_api_request *req, const char *arg,
                      ls_api_response *resp)
{
    api_memstream(resp, "text/plain; version=0.0.4", write_metrics, api, NULL);
}

/* ---- routing ------------------------------------------------------------------------ */

typedef struct route {
    const char *method;
    const char *pattern;     /* '*' matches one path segment */
    api_handler *fn;
    const char *allow;       /* every method of the pattern, for 405 */
} route;

static const route routes[] = {
    {"GET", "/healthz", h_health, "GET"},
    {"GET", "/metrics", h_metrics, "GET"},
    {"GET", "/api/v1/sweeps", h_sweeps_list, "GET, POST"},
    {"POST", "/api/v1/sweeps", h_submit, "GET, POST"},
    {"GET", "/api/v1/sweeps/*", h_sweep_get, "GET"},
    {"GET", "/api/v1/sweeps/*/jobs", api_jobs_list, "GET"},
    {"GET", "/api/v1/sweeps/*/results.csv", api_results_csv, "GET"},
    {"GET", "/api/v1/sweeps/*/curves.csv", api_curves_csv, "GET"},
    {"GET", "/api/v1/sweeps/*/search.csv", api_search_csv, "GET"},
    {"POST", "/api/v1/sweeps/*/cancel", h_cancel, "POST"},
    {"POST", "/api/v1/sweeps/*/pause", h_pause, "POST"},
    {"POST", "/api/v1/sweeps/*/resume", h_resume, "POST"},
    {"POST", "/api/v1/sweeps/*/priority", h_priority, "POST"},
    {"GET", "/api/v1/sweeps/*/params", api_sweep_params, "GET"},
    {"GET", "/api/v1/jobs/*", api_job_get, "GET"},
    {"GET", "/api/v1/events", api_events, "GET"},
    {"GET", "/api/v1/node", api_node, "GET"},
    {"GET", "/api/v1/session", api_session, "GET"},
    /* the dashboard (api_web.c) */
    {"GET", "/", api_web_page, "GET"},
    {"POST", "/login", api_web_login, "POST"},
    {"POST", "/logout", api_web_logout, "POST"},
    {"GET", "/*", api_web_file, "GET"},
    {"GET", "/vendor/*", api_web_file, "GET"},
};
#define NROUTES (sizeof routes / sizeof *routes)

/* 1 if path matches pattern; the '*' segment is copied into arg. */
static int match(const char *pattern, const char *path, char *arg, size_t cap)
{
    while (*pattern && *path) {
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= cap)
                return 0;
            memcpy(arg, path, n);
            arg[n] = '\0';
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return 0;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

void ls_api_handle(ls_api *api, const ls_api_request *req, ls_api_response *resp)
{
    const route *found = NULL;
    char arg[256] = "";
    /* HEAD is GET without the body (the transport drops it) */
    const char *method = strcmp(req->method, "HEAD") ? req->method : "GET";

    memset(resp, 0, sizeof *resp);
    int kind = api_auth_kind(api, req);
    if (!kind && !api_is_public(method, req->path)) {
        ls_api_error(resp, 401, "missing or wrong token: send Authorization: Bearer TOKEN "
                     "(the token is in the server's state directory)");
        return;
    }
    /* the cookie alone: a browser's, which another site's page may drive */
    if (kind == 2 && strcmp(method, "GET") && strcmp(req->path, "/login") &&
        !api_csrf_ok(api, req, resp))
        return;
    if (strcmp(method, "GET"))
        api_cache_forget(api);
    else if (api_cache_get(api, req, resp))
        return;
    /* read before computing: an event that comes during it makes it stale */
    uint64_t event = ls_events_last(api->events);
    unsigned gen = atomic_load(&api->cache_gen);
    for (size_t i = 0; i < NROUTES; i++)
        if (match(routes[i].pattern, req->path, arg, sizeof arg)) {
            found = &routes[i];
            if (!strcmp(routes[i].method, method)) {
                routes[i].fn(api, req, strchr(found->pattern, '*') ? arg : NULL, resp);
                api_cache_put(api, req, resp, event, gen);
                return;
            }
        }
    if (found) {
        ls_api_error(resp, 405, "%s %s: method not allowed (allowed: %s)", req->method,
                     req->path, found->allow);
        resp->allow = found->allow;
        return;
    }
    ls_api_error(resp, 404, "no such route: %.200s", req->path);
}

/* ---- life -------------------------------------------------------------------------- */

int ls_api_create(ls_api **out, const ls_api_config *cfg, ls_err *err)
{
    ls_api *api = ls_calloc(1, sizeof *api);
    int rc;

    *out = NULL;
    if (!api)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    pthread_mutex_init(&api->cache_lock, NULL);
    if (strlen(cfg->token) >= sizeof api->token || !cfg->token[0]) {
        ls_free(api);
        return ls_err_set(err, LS_EINVAL, "the token must have 1 to %zu characters",
                          sizeof api->token - 1);
    }
    if ((rc = ls_submit_policy_init(&api->policy, cfg->state_dir, cfg->data_roots,
                                    cfg->ndata_roots, err))) {
        ls_free(api);
        return rc;
    }
    if ((rc = api_web_init(api, cfg->web_root, err))) {
        ls_submit_policy_free(&api->policy);
        ls_free(api->web_root);
        ls_free(api);
        return rc;
    }
    api->store = cfg->store;
    api->events = cfg->events;
    api->hooks = cfg->hooks;
    if (!api->hooks.jobs_of_sweep)
        api->hooks.jobs_of_sweep = ls_submit_jobs;
    snprintf(api->token, sizeof api->token, "%s", cfg->token);
    *out = api;
    return 0;
}

void ls_api_destroy(ls_api *api)
{
    if (!api)
        return;
    ls_submit_policy_free(&api->policy);
    api_cache_free(api);
    ls_free(api->web_root);
    ls_free(api);
}

int ls_api_load_sweep(const ls_api *api, const char *ini, ls_sweep **out, ls_err *err)
{
    return ls_submit_load(&api->policy, ini, out, err);
}
