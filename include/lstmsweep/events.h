/* events.h - the server's live events: an in-memory ring of numbered
 * events that the HTTP layer streams as server-sent events.
 *
 * Every event gets the next id (1, 2, ...); the ring keeps the latest
 * `capacity`.  A reader names the last id it has seen and gets the next
 * one, so a client that reconnects with Last-Event-ID catches up; one that
 * fell further behind than the ring reaches is told how many it missed
 * (an event "lost") and goes on from the oldest kept.  Nothing is durable:
 * the store is the record, the events only say when to look.
 *
 * Event types (data is one JSON object, at most LS_EVENT_DATA_MAX - 1
 * bytes, on one line): "job_started", "epoch", "job_ended" (pushed by the scheduler),
 * "sweep_state" (pushed by the API on submit, pause, resume, cancel,
 * priority) and "lost" (made up by the reader).
 *
 * Threading: any thread may push and any number may read at once (one
 * mutex, one condition variable).  ls_events_close() wakes every reader
 * for good, so that a server can stop its streams.  Errors: LS_EINVAL
 * (data too long), LS_ENOMEM.
 */
#ifndef LSTMSWEEP_EVENTS_H
#define LSTMSWEEP_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "lstmsweep/error.h"
#include "lstmsweep/train.h"

#define LS_EVENT_DATA_MAX 512

typedef struct ls_events ls_events;

typedef struct ls_event {
    uint64_t id;
    char type[24];
    char data[LS_EVENT_DATA_MAX];   /* JSON object */
} ls_event;

int ls_events_create(ls_events **out, size_t capacity, ls_err *err);
/* Not while a reader may still wait on it (close and join them first). */
void ls_events_destroy(ls_events *ev);

/* Append an event (type and data are copied); *id (may be NULL) gets its
 * number. */
int ls_events_push(ls_events *ev, const char *type, const char *data, uint64_t *id,
                   ls_err *err);

/* The scheduler's events, in the one shape clients rely on:
 *   job_started {"sweep","job","attempt","threads"}
 *   epoch       {"sweep","job","epoch","epochs","train_loss","train_error",
 *                "val_error","test_error" (null if not evaluated this
 *                epoch),"elapsed_s","samples_per_s","eta_s"}
 *   job_ended   {"sweep","job","attempt","status"}  (a results status)
 * sweep is a valid sweep name and job a job id (neither needs escaping). */
int ls_events_job_started(ls_events *ev, const char *sweep, const char *job, int attempt,
                          int threads, ls_err *err);
int ls_events_epoch(ls_events *ev, const char *sweep, const char *job,
                    const ls_epoch_info *e, ls_err *err);
int ls_events_job_ended(ls_events *ev, const char *sweep, const char *job, int attempt,
                        const char *status, ls_err *err);

/* The id of the latest event (0 if none): where a new reader starts. */
uint64_t ls_events_last(ls_events *ev);

/* Wake all readers; from now on ls_events_next returns -1 at once. */
void ls_events_close(ls_events *ev);

/* The first event after `after` into *out, waiting up to timeout_ms for
 * one.  Returns 1 (got one), 0 (timed out) or -1 (closed).  If `after`
 * fell out of the ring, *out is a "lost" event whose id is the oldest
 * kept minus one and whose data says how many were missed. */
int ls_events_next(ls_events *ev, uint64_t after, int timeout_ms, ls_event *out);

/* The event as one server-sent-events message ("id: N\nevent: T\ndata:
 * {...}\n\n"; a "lost" event carries no id line, so the client's
 * Last-Event-ID stays where its stream really is) into buf; returns its
 * length, or 0 if it does not fit. */
size_t ls_event_format(const ls_event *e, char *buf, size_t cap);

#endif
