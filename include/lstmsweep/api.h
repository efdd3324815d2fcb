/* api.h - the experiment server's HTTP API as a pure function: a request
 * (method, path, query, headers, body) in, a response (status, content
 * type, body) out.  No sockets: every endpoint and every error can be
 * tested without a network (tests/check_api.c); http.h serves it with
 * libmicrohttpd.
 *
 * Routes (JSON unless said otherwise; every error is {"error": "..."}):
 *   GET  /healthz                        200 {"ok": true}; the only route
 *                                        that needs no token
 *   GET  /metrics                        Prometheus text (metrics.h)
 *   GET  /api/v1/sweeps                  {"sweeps": [SWEEP...]}
 *   POST /api/v1/sweeps[?priority=N]     body: the INI (text/plain);
 *        201 {"name","jobs","new_jobs","state"} when new; 200 with
 *        new_jobs 0 when the same name and text are already there (the
 *        resubmission is a no-op: its priority is not changed); 400 for a
 *        bad sweep ("<submitted>:LINE: [section] key: ..."); 409 for the
 *        name taken by another text; 413 over LS_API_BODY_MAX; 415 unless
 *        Content-Type is text/plain
 *   GET  /api/v1/sweeps/NAME             SWEEP
 *   GET  /api/v1/sweeps/NAME/jobs?status=S&offset=O&limit=L&sort=[-]COL
 *        &columns=C,C...|all&COL=V...
 *        {"sweep","total","offset","limit","jobs":[JOB...]}; limit 1..1000
 *        (default 100); S a job state or row status (store.h).  Sorted,
 *        filtered and paged in SQL (store.h's ls_store_jobs_query): sort
 *        by pos (the default), id, state, status or any results column
 *        (schema.h; "-" first: descending; jobs without a value last);
 *        COL=V, for any results column, keeps the jobs whose value is V
 *        (numbers compared as numbers).  columns adds "row" to each JOB:
 *        those columns (all: every one) as {column: value}, the job's
 *        hyperparameters even while it is queued, its results once it has
 *        a row (null before)
 *   GET  /api/v1/sweeps/NAME/params      {"sweep","params":{COL:[V...]}}:
 *        the hyperparameter columns that vary in the sweep, with their
 *        distinct values (sorted; at most 1000 each)
 *   GET  /api/v1/sweeps/NAME/results.csv the results CSV (text/csv)
 *   GET  /api/v1/sweeps/NAME/curves.csv  the curves CSV (the hook's, else
 *        STATE/sweeps/NAME/curves.csv; just the header while it has none)
 *   GET  /api/v1/sweeps/NAME/search.csv  an asha sweep's audit log
 *        (searchrun.h; STATE/sweeps/NAME/search.csv; just the header for a
 *        grid, or before the search has started)
 *   POST /api/v1/sweeps/NAME/cancel|pause|resume      200 SWEEP; 409 if
 *        the sweep's state does not allow it (e.g. resuming a cancelled one)
 *   POST /api/v1/sweeps/NAME/priority?value=N         200 SWEEP
 *   GET  /api/v1/jobs/ID                 {"id","sweeps":[JOB...],
 *        "row": {column: value} | null, "curve": [POINT...]}
 *   GET  /api/v1/events                  text/event-stream (events.h),
 *        from Last-Event-ID if sent, else from now
 *   GET  /api/v1/node                    NODE
 *   GET  /api/v1/session                 {"csrf"}: the value that POSTs
 *        authenticated by the cookie must send as X-Lstmsweep-CSRF
 * The dashboard (api_web.c; see README "The dashboard"), served from the
 * web root's files:
 *   GET  /[?token=T]                     the app (index.html) with a valid
 *        cookie; with a valid ?token= a 303 to / that sets the cookie;
 *        else the login page (200, nothing else in it)
 *   POST /login                          form body token=T: 303 to / with
 *        Set-Cookie (HttpOnly, SameSite=Strict), or 401 and the login page
 *   POST /logout                         clears the cookie, 303 to /
 *   GET  /FILE                           a file of the web root (js, css,
 *        svg, png, txt, html; 404 else); 401 without the token
 * Authentication: "Authorization: Bearer TOKEN" (clients; unchanged), or
 * the cookie lstmsweep_PORT=TOKEN that the login sets (browsers: it also
 * authenticates the EventSource, which cannot send headers).  A POST
 * authenticated by the cookie alone is refused (403) unless it carries
 * X-Lstmsweep-CSRF equal to the session value and, if it has an Origin
 * header, that Origin is http://HOST of its Host header (CSRF defence).
 * SWEEP = {"name","state","priority","submitted" (epoch s),"core_seconds",
 *          "jobs":{"total","queued","running","done","cancelled"},
 *          "results":{"ok","diverged","failed","stopped" (done jobs by
 *          their row's status),"interrupted","paused" (queued jobs with
 *          such a row: drained; at an asha rung)},"busy_cores",
 *          "left_core_seconds","eta_seconds" (null unless active and the
 *          node has cores),"error" (why the scheduler paused it: its data
 *          or results could not be read; null otherwise)}
 * JOB   = {"sweep","id","pos","state","attempt","status","est_seconds"}
 * NODE  = {"total_cores","busy_cores","numa_nodes","mem_total_bytes",
 *          "mem_used_bytes","samples_per_s","cores":[{"core","numa","pu",
 *          "job" (id of the job on it, or null)}],"running":[{"sweep","id",
 *          "attempt","threads","cpus","numa_node","mem_bytes"}]}: running
 *          jobs from the scheduler when it tells (ls_node_status.jobs),
 *          else from the store (cpus, numa_node, mem_bytes null)
 * POINT = {"epoch","train_loss","train_error","test_error" (null if not
 *          evaluated),"elapsed_s"}
 * Other statuses: 401 without a valid "Authorization: Bearer TOKEN" or
 * cookie (before anything else, so that an unauthenticated client learns
 * nothing; the login routes excepted), 403 for a cookie POST failing the
 * CSRF check, 404
 * for unknown routes, sweeps and jobs, 405 (with the allowed methods) for
 * a known route and another method, 400 for bad names, ids and arguments,
 * 500 when the store fails.
 *
 * Ownership: the api keeps pointers to the store, the events and the
 * hooks' ctx: they must outlive it.  A response's body is malloc'ed, not
 * ls_alloc'ed: it comes from jansson or stdio and goes to libmicrohttpd,
 * which frees it with free()
 * (ls_api_response_free).  Threading: ls_api_handle may run in many
 * threads at once (the store and the events lock themselves; the hooks
 * must be thread-safe).  Errors: ls_api_create fails with LS_EINVAL (a
 * data root missing) or LS_ENOMEM; ls_api_handle answers every failure
 * with a status.
 */
#ifndef LSTMSWEEP_API_H
#define LSTMSWEEP_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lstmsweep/error.h"
#include "lstmsweep/events.h"
#include "lstmsweep/store.h"
#include "lstmsweep/sweep.h"

#define LS_API_BODY_MAX (1u << 20)   /* bytes of a request body */

typedef struct ls_api ls_api;

typedef struct ls_api_kv {
    const char *key, *value;
} ls_api_kv;

typedef struct ls_api_request {
    const char *method;               /* "GET", "POST"... */
    const char *path;                 /* decoded, no query: "/api/v1/sweeps" */
    const ls_api_kv *query;           /* decoded query arguments [nquery] */
    size_t nquery;
    const ls_api_kv *headers;         /* [nheaders]; names case-insensitive */
    size_t nheaders;
    const char *body;                 /* [body_len], not NUL-terminated */
    size_t body_len;
} ls_api_request;

typedef struct ls_api_response {
    int status;
    const char *content_type;         /* static string */
    char *body;                       /* malloc'ed [body_len] */
    size_t body_len;
    const char *allow;                /* 405: the route's methods (static) */
    int stream;                       /* 1: an event stream follows ... */
    uint64_t stream_after;            /* ... from the event after this id */
    int stream_reset;                 /* 1: the client's Last-Event-ID is
                                         from before a restart: say "lost" */
    const char *location;             /* 303: where to (static), or NULL */
    char set_cookie[192];             /* a Set-Cookie value, or "" */
    int page;                         /* 1: an HTML page or asset: send
                                         the no-frame, CSP, nosniff headers */
} ls_api_response;

#define LS_NODE_CORES_MAX 512
#define LS_NODE_JOBS_MAX 128

/* A running job as the scheduler placed it. */
typedef struct ls_node_job {
    char sweep[64];
    char id[24];
    int attempt, threads;
    char cpus[64];                    /* PU list "0-1,4", "" if unknown */
    int numa_node;                    /* -1 if unknown */
    double mem_bytes;                 /* its memory estimate, < 0 unknown */
} ls_node_job;

/* The node as the scheduler sees it (all 0 when unknown).  The topology
 * (ncores_listed, core_numa, core_pu, numa_nodes) and the running jobs
 * (njobs, jobs) are optional: the API falls back to the store's running
 * jobs when njobs is 0. */
typedef struct ls_node_status {
    int busy_cores, total_cores;
    double mem_total_bytes, mem_used_bytes;   /* the memory budget, in use */
    double samples_per_s;             /* training samples/s, all jobs */
    int numa_nodes;
    int ncores_listed;                /* entries of core_numa, core_pu */
    int core_numa[LS_NODE_CORES_MAX]; /* NUMA node index of core c */
    int core_pu[LS_NODE_CORES_MAX];   /* OS index of core c's PU */
    size_t njobs;
    ls_node_job jobs[LS_NODE_JOBS_MAX];
} ls_node_status;

typedef struct ls_curve_point {
    int epoch;
    double train_loss, train_error;
    double val_error;                 /* < 0: not evaluated this epoch, or no split */
    double test_error;                /* < 0: not evaluated this epoch */
    double elapsed_s;
} ls_curve_point;

/* What the API asks of the rest of the server.  Any hook may be NULL:
 * jobs_of_sweep then is ls_submit_jobs, curve_of and curves_csv read the
 * sweeps' curve files (api_curves.c), the others report nothing. */
typedef struct ls_api_hooks {
    void *ctx;
    /* out[i]: sw->jobs[i]'s id and single-core estimate. */
    int (*jobs_of_sweep)(void *ctx, const ls_sweep *sw, ls_store_job *out, ls_err *err);
    void (*node_status)(void *ctx, ls_node_status *out);
    /* Cores the sweep's running jobs hold now. */
    int (*busy_cores_of)(void *ctx, const char *sweep);
    /* The job's curve so far: *pts from ls_alloc (ls_free'd by the API), *n set. */
    int (*curve_of)(void *ctx, const char *job_id, ls_curve_point **pts, size_t *n,
                    ls_err *err);
    /* The sweep's curves CSV, header first. */
    int (*curves_csv)(void *ctx, const char *sweep, FILE *f, ls_err *err);
    /* After a submission, a state or a priority change: the scheduler's cue
     * to look at the store again.  Must not block. */
    void (*on_state_change)(void *ctx, const char *sweep);
} ls_api_hooks;

typedef struct ls_api_config {
    ls_store *store;
    ls_events *events;
    const char *state_dir;            /* sweeps write under STATE/sweeps/ */
    const char *const *data_roots;    /* [ndata_roots]; none: "data" */
    size_t ndata_roots;
    const char *token;                /* the bearer token (copied) */
    const char *web_root;             /* the dashboard's files (copied);
                                         NULL: no dashboard, / is 404 */
    ls_api_hooks hooks;
} ls_api_config;

int ls_api_create(ls_api **out, const ls_api_config *cfg, ls_err *err);
void ls_api_destroy(ls_api *api);

/* Answer one request; *resp is overwritten (free it after use). */
void ls_api_handle(ls_api *api, const ls_api_request *req, ls_api_response *resp);

/* 1 if an Authorization header value carries the token (constant time). */
int ls_api_authorized(const ls_api *api, const char *authorization);
/* 1 if a Cookie header value holds a lstmsweep_* cookie with the token. */
int ls_api_cookie_authorized(const ls_api *api, const char *cookie);
/* 1 if a request to path may go on before its body is read: it carries
 * the token (header or cookie) or the route needs none (/healthz, the
 * login page, POST /login).  The transport refuses the others early. */
int ls_api_may_enter(const ls_api *api, const char *method, const char *path,
                     const char *authorization, const char *cookie);

/* A JSON error response {"error": message}. */
void ls_api_error(ls_api_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ls_api_response_free(ls_api_response *resp);

/* The value of a header (case-insensitive name) or NULL. */
const char *ls_api_header(const ls_api_request *req, const char *name);

/* A stored sweep's text as the scheduler must run it: the submission
 * policy (submit.h) applied, paths under the state directory. */
int ls_api_load_sweep(const ls_api *api, const char *ini, ls_sweep **out, ls_err *err);

#endif
