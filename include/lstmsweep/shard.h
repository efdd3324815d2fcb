/* shard.h - splitting a sweep's jobs into N shards (Slurm array tasks).
 *
 * Longest-processing-time first: jobs sorted by estimated cost (largest
 * first, ties by job id) go one by one to the least loaded shard (ties: the
 * lowest index).  The result depends only on the set of (id, cost) pairs,
 * not their order, so every array task computes the same split without
 * talking to the others; shards are disjoint and cover every job; and the
 * loads differ by at most the largest single job.
 */
#ifndef LSTMSWEEP_SHARD_H
#define LSTMSWEEP_SHARD_H

#include <stddef.h>

#include "lstmsweep/error.h"
#include "lstmsweep/job.h"

/* shard_of[i] = shard (0..nshards-1) of job i.  Returns 0, or LS_ENOMEM /
 * LS_EINVAL (nshards < 1), with a message in *err (if err != NULL).  Pure
 * apart from its scratch memory: thread-safe. */
int ls_shard_assign(const double *cost, const char (*ids)[LS_JOB_ID_LEN],
                    size_t n, int nshards, int *shard_of, ls_err *err);

#endif
