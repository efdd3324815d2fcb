/* plan.h - the dispatcher simulated on estimated durations.
 *
 * The dry run (ls_runner_plan in runner.h, in src/sched/plan.c) prints
 * what this simulation of the placement policy (place.h) decides; the
 * policy's tests drive it too.  Pure: no threads, no I/O; cannot fail.
 */
#ifndef LSTMSWEEP_PLAN_H
#define LSTMSWEEP_PLAN_H

#include "lstmsweep/place.h"

/* Run every pending job of jobs[order[0..n)] through p from time 0: start
 * what the policy starts, jump to the first estimated end
 * (ls_place_est_end), finish that job, repeat until nothing runs.  Each
 * job that ran keeps its k, node, cores and start; a job too big for the
 * memory limit is left DONE with k = 0.  Returns the makespan (seconds). */
double ls_plan_simulate(ls_place *p, ls_place_job *jobs, const size_t *order,
                        size_t n);

#endif
