/* jobsource.h - the server's job source: the store's queued jobs fed to
 * the one scheduler (runner.h), so that a job run by `serve` is placed,
 * pinned, memory-budgeted, checkpointed and recorded exactly as under
 * `run`, and produces the same row.
 *
 * One thread picks the active sweep with queued jobs that has used the
 * least core-seconds for its weight (2^priority; ties: the earlier
 * submitted), loads it with the server's paths (ls_api_load_sweep) and
 * runs it with ls_runner_run, whose hooks (ls_run_hooks) consult the store:
 * only the sweep's queued jobs run, each is claimed (a new attempt) just
 * before it starts, and its row is recorded in the store, fenced on that
 * attempt, before its checkpoint goes.  The sweep's run is drained (jobs
 * checkpoint at their next step and go back to the queue) when the sweep is
 * paused or cancelled, or when the server stops.  Sweeps share the node one
 * at a time: fair share decides which runs next, not a split of the cores
 * between several at once.
 *
 * Threading: ls_jobsource_poke may be called from any thread (the API's);
 * start and stop from the server's main thread.  Errors: LS_ENOMEM, or
 * what pthread_create reports as LS_EINVAL; a sweep that cannot be loaded
 * or run is logged and skipped until its state changes.
 */
#ifndef LSTMSWEEP_JOBSOURCE_H
#define LSTMSWEEP_JOBSOURCE_H

#include <stdio.h>

#include "lstmsweep/api.h"
#include "lstmsweep/error.h"
#include "lstmsweep/events.h"
#include "lstmsweep/store.h"
#include "lstmsweep/topo.h"

typedef struct ls_jobsource ls_jobsource;

/* The source, not yet running (the API's hooks need it first). */
int ls_jobsource_create(ls_jobsource **out, ls_store *store, ls_events *events,
                        ls_topo *topo, FILE *log, ls_err *err);

/* Start its thread on the api (which must outlive it). */
int ls_jobsource_start(ls_jobsource *js, const ls_api *api, ls_err *err);

/* A sweep changed (submitted, paused, resumed, cancelled, reprioritised):
 * for ls_api_hooks.on_state_change. */
void ls_jobsource_poke(void *js, const char *sweep);

/* The node as the scheduler sees it: for ls_api_hooks.node_status. */
void ls_jobsource_node(void *js, ls_node_status *out);

/* Drain the running sweep, join the thread, free (NULL: no-op). */
void ls_jobsource_destroy(ls_jobsource *js);

#endif
