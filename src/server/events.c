/* events.c - the ring of live events; see include/lstmsweep/events.h. */
#include "lstmsweep/events.h"
#include "lstmsweep/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mono.h"

struct ls_events {
    pthread_mutex_t lock;
    pthread_cond_t more;     /* signalled on push and on close */
    ls_event *ring;          /* [cap]; event id k sits at (k - 1) % cap */
    size_t cap;
    uint64_t last;           /* latest id, 0 if none */
    int closed;
};

int ls_events_create(ls_events **out, size_t capacity, ls_err *err)
{
    ls_events *ev = ls_calloc(1, sizeof *ev);

    *out = NULL;
    if (!ev || capacity == 0 || !(ev->ring = ls_calloc(capacity, sizeof *ev->ring))) {
        ls_free(ev);
        return capacity ? ls_err_set(err, LS_ENOMEM, "events: out of memory")
                        : ls_err_set(err, LS_EINVAL, "events: capacity 0");
    }
    ev->cap = capacity;
    pthread_mutex_init(&ev->lock, NULL);
    ls_mono_cond_init(&ev->more);
    *out = ev;
    return 0;
}

void ls_events_destroy(ls_events *ev)
{
    if (!ev)
        return;
    pthread_cond_destroy(&ev->more);
    pthread_mutex_destroy(&ev->lock);
    ls_free(ev->ring);
    ls_free(ev);
}

int ls_events_push(ls_events *ev, const char *type, const char *data, uint64_t *id,
                   ls_err *err)
{
    if (strlen(data) >= LS_EVENT_DATA_MAX || strlen(type) >= sizeof ev->ring->type)
        return ls_err_set(err, LS_EINVAL, "event %.24s: data longer than %d bytes", type,
                          LS_EVENT_DATA_MAX - 1);
    /* a line break would end the SSE field and let data forge fields */
    if (strpbrk(data, "\r\n") || strpbrk(type, "\r\n: "))
        return ls_err_set(err, LS_EINVAL, "event %.24s: line break in type or data", type);
    pthread_mutex_lock(&ev->lock);
    ls_event *e = &ev->ring[ev->last % ev->cap];
    e->id = ++ev->last;
    snprintf(e->type, sizeof e->type, "%s", type);
    snprintf(e->data, sizeof e->data, "%s", data);
    if (id)
        *id = e->id;
    pthread_cond_broadcast(&ev->more);
    pthread_mutex_unlock(&ev->lock);
    return 0;
}

/* A JSON number, or null for what JSON cannot hold (NaN of a diverged
 * loss, a test error not evaluated). */
static void json_num(char *buf, size_t cap, double x, int absent)
{
    if (absent || x != x || x - x != 0)
        snprintf(buf, cap, "null");
    else
        snprintf(buf, cap, "%.9g", x);
}

int ls_events_job_started(ls_events *ev, const char *sweep, const char *job, int attempt,
                          int threads, ls_err *err)
{
    char data[LS_EVENT_DATA_MAX];
    snprintf(data, sizeof data, "{\"sweep\":\"%.63s\",\"job\":\"%.16s\",\"attempt\":%d,"
             "\"threads\":%d}", sweep, job, attempt, threads);
    return ls_events_push(ev, "job_started", data, NULL, err);
}

int ls_events_epoch(ls_events *ev, const char *sweep, const char *job,
                    const ls_epoch_info *e, ls_err *err)
{
    char data[LS_EVENT_DATA_MAX], loss[32], terr[32], val[32], test[32], el[32], sps[32],
        eta[32];
    json_num(loss, sizeof loss, e->train_loss, 0);
    json_num(terr, sizeof terr, e->train_error, 0);
    json_num(val, sizeof val, e->val_error, e->val_error < 0);
    json_num(test, sizeof test, e->test_error, e->test_error < 0);
    json_num(el, sizeof el, e->elapsed_s, 0);
    json_num(sps, sizeof sps, e->samples_per_s, 0);
    json_num(eta, sizeof eta, e->eta_s, e->eta_s < 0);
    snprintf(data, sizeof data, "{\"sweep\":\"%.63s\",\"job\":\"%.16s\",\"epoch\":%d,"
             "\"epochs\":%d,\"train_loss\":%s,\"train_error\":%s,\"val_error\":%s,"
             "\"test_error\":%s,\"elapsed_s\":%s,\"samples_per_s\":%s,\"eta_s\":%s}",
             sweep, job, e->epoch, e->epochs, loss, terr, val, test, el, sps, eta);
    return ls_events_push(ev, "epoch", data, NULL, err);
}

int ls_events_job_ended(ls_events *ev, const char *sweep, const char *job, int attempt,
                        const char *status, ls_err *err)
{
    char data[LS_EVENT_DATA_MAX];
    snprintf(data, sizeof data, "{\"sweep\":\"%.63s\",\"job\":\"%.16s\",\"attempt\":%d,"
             "\"status\":\"%.15s\"}", sweep, job, attempt, status);
    return ls_events_push(ev, "job_ended", data, NULL, err);
}

uint64_t ls_events_last(ls_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    uint64_t last = ev->last;
    pthread_mutex_unlock(&ev->lock);
    return last;
}

void ls_events_close(ls_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    ev->closed = 1;
    pthread_cond_broadcast(&ev->more);
    pthread_mutex_unlock(&ev->lock);
}

/* The event after `after`, the ring's lock held and one known to exist. */
static void take(ls_events *ev, uint64_t after, ls_event *out)
{
    uint64_t oldest = ev->last > ev->cap ? ev->last - ev->cap + 1 : 1;

    if (after + 1 >= oldest) {
        *out = ev->ring[after % ev->cap];
        return;
    }
    memset(out, 0, sizeof *out);
    out->id = oldest - 1;
    snprintf(out->type, sizeof out->type, "lost");
    snprintf(out->data, sizeof out->data, "{\"missed\":%" PRIu64 ",\"next\":%" PRIu64 "}",
             oldest - 1 - after, oldest);
}

int ls_events_next(ls_events *ev, uint64_t after, int timeout_ms, ls_event *out)
{
    struct timespec until = ls_mono_after(timeout_ms);
    int rc = 0;

    pthread_mutex_lock(&ev->lock);
    while (!ev->closed && ev->last <= after && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&ev->more, &ev->lock, &until);
    if (ev->closed)
        rc = -1;
    else if (ev->last > after) {
        take(ev, after, out);
        rc = 1;
    } else
        rc = 0;
    pthread_mutex_unlock(&ev->lock);
    return rc;
}

size_t ls_event_format(const ls_event *e, char *buf, size_t cap)
{
    int n = strcmp(e->type, "lost")
                ? snprintf(buf, cap, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", e->id,
                           e->type, e->data)
                : snprintf(buf, cap, "event: lost\ndata: %s\n\n", e->data);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
