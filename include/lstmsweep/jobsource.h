/* jobsource.h - the server's job source: the store's queued jobs fed to
 * the one scheduler (runner.h), so that a job run by `serve` is placed,
 * pinned, memory-budgeted, checkpointed and recorded exactly as under
 * `run`, and produces the same row.
 *
 * One thread runs one ls_runner_run for the server's lifetime and feeds it
 * through the runner's hooks (ls_run_hooks):
 *  - next_sweep: the active sweep with queued jobs, not in the run yet,
 *    that has used the fewest core-seconds for its weight 2^priority (ties:
 *    the earlier submitted), loaded with the server's paths
 *    (ls_api_load_sweep).  Several sweeps are in the run at once: the
 *    runner shares the cores between them by the same rule, job by job;
 *  - share: each sweep's weight and whether it must drain (paused or
 *    cancelled in the store: its running jobs checkpoint at their next step
 *    and go back to the queue, or end cancelled);
 *  - wanted / claim / ended: only the sweep's queued jobs run, each is
 *    claimed (a new attempt) just before it starts, and its row is recorded
 *    in the store, fenced on that attempt, before its checkpoint goes;
 *  - epoch: every epoch of a running job is an "epoch" event (events.h);
 *  - sweep_done: a sweep the run holds nothing of any more; one that could
 *    not be added (its data unreadable) is paused in the store with the
 *    reason (ls_store_fail_sweep), which its owner sees and fixes.
 * A state change (ls_jobsource_poke) is seen at the runner's next turn, at
 * most a second later.
 *
 * Threading: poke, node and busy_of may be called from any thread (the
 * API's); start and destroy from the server's main thread.  Errors:
 * LS_ENOMEM, or what pthread_create reports as LS_EINVAL.
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

/* Cores the sweep's running jobs hold: for ls_api_hooks.busy_cores_of. */
int ls_jobsource_busy_of(void *js, const char *sweep);

/* Drain every running job, join the thread, free (NULL: no-op). */
void ls_jobsource_destroy(ls_jobsource *js);

#endif
