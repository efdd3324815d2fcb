/* api_internal.h - what the API's source files (api.c: routing, auth,
 * sweeps; api_jobs.c: jobs, CSVs, events) share.  Not installed. */
#ifndef LSTMSWEEP_API_INTERNAL_H
#define LSTMSWEEP_API_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "lstmsweep/api.h"
#include "lstmsweep/submit.h"
#include "lstmsweep/token.h"

/* api_cache.c: a second's memory of the polled answers. */
#define API_CACHE_SLOTS 32
#define API_CACHE_KEY 320

typedef struct api_cached {
    char key[API_CACHE_KEY];          /* path?query */
    char *body;                       /* malloc'ed, NUL-terminated */
    size_t len;
    int status;
    const char *content_type;
    uint64_t event;                   /* ls_events_last when computed */
    unsigned gen;                     /* api->cache_gen when computed */
    double at;                        /* ls_sys_seconds when computed */
} api_cached;

struct ls_api {
    ls_store *store;
    ls_events *events;
    ls_api_hooks hooks;
    ls_submit_policy policy;
    char token[LS_TOKEN_LEN + 64];    /* any token the operator gives */
    char csrf[LS_TOKEN_LEN];          /* this process's CSRF value (random) */
    char *web_root;                   /* ls_strdup'ed, or NULL */
    pthread_mutex_t cache_lock;       /* guards cache and cache_gen */
    api_cached cache[API_CACHE_SLOTS];
    atomic_uint cache_gen;            /* bumped by every request but a GET */
};

/* A cached answer to req into resp: 1, or 0 (compute it).  Any thread. */
int api_cache_get(ls_api *api, const ls_api_request *req, ls_api_response *resp);
/* Keep resp as req's answer, computed when the latest event was `event`
 * and the generation `gen` (both read before computing it). */
void api_cache_put(ls_api *api, const ls_api_request *req, const ls_api_response *resp,
                   uint64_t event, unsigned gen);
/* A request that may change something: nothing cached is fresh any more. */
void api_cache_forget(ls_api *api);
void api_cache_free(ls_api *api);

/* A route's handler; arg is the route's one variable segment (or NULL). */
typedef void api_handler(ls_api *api, const ls_api_request *req, const char *arg,
                         ls_api_response *resp);

/* Responses.  api_json takes ownership of j (NULL: 500, out of memory);
 * api_body of body (malloc'ed). */
void api_json(ls_api_response *resp, int status, json_t *j);
void api_body(ls_api_response *resp, int status, const char *type, char *body, size_t len);
/* 200 with what write puts into a memory stream (its failure: 500). */
typedef int api_writer(ls_api *api, const char *arg, FILE *f, ls_err *err);
void api_memstream(ls_api_response *resp, const char *type, api_writer *write, ls_api *api,
                   const char *arg);
/* A failed store call: LS_EINVAL -> einval_status, LS_ECONFLICT -> 409,
 * anything else -> 500. */
void api_fail(ls_api_response *resp, int rc, const ls_err *err, int einval_status);

/* The query argument key, or NULL. */
const char *api_query(const ls_api_request *req, const char *key);
/* The query argument key as an integer in [min, max] (def if absent);
 * -1 with a 400 in resp if it is not one. */
int api_query_long(const ls_api_request *req, const char *key, long def, long min,
                   long max, long *out, ls_api_response *resp);

/* The named sweep's facts; -1 with a 400 (bad name) or 404 in resp. */
/* api_web.c: the request's credentials.  1 if it carries the token in its
 * Authorization header; 2 if only in its cookie; 0 if neither. */
int api_auth_kind(const ls_api *api, const ls_api_request *req);
/* 1 if a cookie-authenticated request may change state: it carries the
 * CSRF header and its Origin (if any) is its Host; else 0 with a 403. */
int api_csrf_ok(const ls_api *api, const ls_api_request *req, ls_api_response *resp);
/* 1 for the routes that need no token (/healthz, the login page, POST
 * /login: they answer without showing any of the server's data). */
int api_is_public(const char *method, const char *path);
/* The CSRF value (random) and the web root (copied) into api. */
int api_web_init(ls_api *api, const char *web_root, ls_err *err);
/* The login page (status 200 or 401) with an optional message. */
void api_login_page(ls_api_response *resp, int status, const char *message);

int api_find_sweep(ls_api *api, const char *name, ls_sweep_info *info,
                   ls_api_response *resp);

api_handler api_jobs_list, api_job_get, api_results_csv, api_curves_csv, api_search_csv,
    api_events,
    api_sweep_params, api_node, api_session, api_web_page, api_web_login, api_web_logout,
    api_web_file;

/* api_curves.c: the job's points in file order into *pts (ls_alloc'ed, the
 * caller frees; NULL if none), *n set, errors -1 where the row leaves them
 * empty; and a CSV file's header (which must be `header`) and whole rows
 * to out (just the header if it is missing): curves.csv, search.csv.
 * LS_EIO, LS_EFORMAT (another header), LS_ENOMEM. */
int ls_curves_of_job(const char *path, const char *job_id, ls_curve_point **pts, size_t *n,
                     ls_err *err);
int ls_csv_file_copy(const char *path, const char *header, FILE *out, ls_err *err);

#endif
