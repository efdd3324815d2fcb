/* api_cache.c - a second's memory of the answers that clients poll: the
 * sweeps' status (GET /api/v1/sweeps and /api/v1/sweeps/NAME) and
 * /metrics.  A hundred clients polling every few hundred milliseconds ask
 * the same few questions hundreds of times a second; each answer costs a
 * few SQLite queries, and on a busy node that CPU comes out of the jobs'
 * (bench/serve-load.sh measures it).  An answer is reused while it is
 * under a second old and nothing has happened since: no new event (a job
 * started, an epoch, a job ended, a sweep changed) and no request other
 * than a GET.  So a client never sees a state older than the last event,
 * and a change it makes itself shows at once.  See api_internal.h. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "lstmsweep/sysinfo.h"

#define MAX_AGE_S 1.0

/* The cache key of a cacheable request ("" if it is not one). */
static void key_of(const ls_api_request *req, char *key, size_t cap)
{
    const char *p = req->path, *name = p + strlen("/api/v1/sweeps/");
    key[0] = '\0';
    if (strcmp(req->method, "GET") ||
        (strcmp(p, "/metrics") && strcmp(p, "/api/v1/sweeps") &&
         (strncmp(p, "/api/v1/sweeps/", strlen("/api/v1/sweeps/")) || strchr(name, '/'))))
        return;
    size_t n = (size_t)snprintf(key, cap, "%s", p);
    for (size_t i = 0; i < req->nquery && n < cap; i++)
        n += (size_t)snprintf(key + n, cap - n, "%c%s=%s", i ? '&' : '?', req->query[i].key,
                              req->query[i].value ? req->query[i].value : "");
    if (n >= cap)
        key[0] = '\0';                  /* too long to be one of ours: not cached */
}

static int fresh(const api_cached *c, const char *key, uint64_t ev, unsigned gen, double now)
{
    return c->body && !strcmp(c->key, key) && c->event == ev && c->gen == gen &&
           now - c->at < MAX_AGE_S;
}

int api_cache_get(ls_api *api, const ls_api_request *req, ls_api_response *resp)
{
    char key[API_CACHE_KEY];
    int hit = 0;
    key_of(req, key, sizeof key);
    if (!key[0])
        return 0;
    uint64_t ev = ls_events_last(api->events);
    double now = ls_sys_seconds();
    pthread_mutex_lock(&api->cache_lock);
    for (int i = 0; i < API_CACHE_SLOTS && !hit; i++) {
        const api_cached *c = &api->cache[i];
        /* the body is libmicrohttpd's to free(): a malloc'ed copy */
        if (fresh(c, key, ev, atomic_load(&api->cache_gen), now) &&
            (resp->body = malloc(c->len + 1))) {
            memcpy(resp->body, c->body, c->len + 1);
            resp->body_len = c->len;
            resp->status = c->status;
            resp->content_type = c->content_type;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&api->cache_lock);
    return hit;
}

void api_cache_put(ls_api *api, const ls_api_request *req, const ls_api_response *resp,
                   uint64_t event, unsigned gen)
{
    char key[API_CACHE_KEY];
    key_of(req, key, sizeof key);
    if (!key[0] || resp->status != 200 || !resp->body || resp->stream)
        return;
    char *copy = malloc(resp->body_len + 1);
    if (!copy)
        return;
    memcpy(copy, resp->body, resp->body_len);
    copy[resp->body_len] = '\0';
    pthread_mutex_lock(&api->cache_lock);
    /* its own slot, else the oldest */
    int slot = 0;
    for (int i = 0; i < API_CACHE_SLOTS; i++) {
        if (!strcmp(api->cache[i].key, key)) {
            slot = i;
            break;
        }
        if (api->cache[i].at < api->cache[slot].at)
            slot = i;
    }
    api_cached *c = &api->cache[slot];
    free(c->body);
    *c = (api_cached){.body = copy, .len = resp->body_len, .status = resp->status,
                      .content_type = resp->content_type, .event = event, .gen = gen,
                      .at = ls_sys_seconds()};
    snprintf(c->key, sizeof c->key, "%s", key);
    pthread_mutex_unlock(&api->cache_lock);
}

void api_cache_forget(ls_api *api)
{
    atomic_fetch_add(&api->cache_gen, 1);
}

void api_cache_free(ls_api *api)
{
    for (int i = 0; i < API_CACHE_SLOTS; i++)
        free(api->cache[i].body);
    pthread_mutex_destroy(&api->cache_lock);
}
