/* drain.h - the process-wide stop flag and the signals that set it.
 *
 * A long-running command (run, later serve) drains on a signal: no new job
 * starts, running jobs checkpoint at their next training step and are
 * recorded "interrupted".  The policy, in one place:
 *   - SIGUSR1 (Slurm's time-limit warning, --signal=B:USR1@300) drains and
 *     never kills, however often it comes;
 *   - the first SIGINT or SIGTERM drains;
 *   - a SIGINT or SIGTERM after an earlier SIGINT or SIGTERM kills the
 *     process at once (the results file stays consistent: every row is one
 *     write under a lock; unfinished jobs rerun from their checkpoints).
 * So SIGUSR1 then SIGTERM (scancel, or the limit itself) still drains.
 *
 * Handlers are installed with SA_RESTART, so a thread blocked in flock(2),
 * write(2) or a wait is restarted instead of failing with EINTR.  Threads
 * that run jobs call ls_drain_block_signals() so that signals land on the
 * main thread only (OpenMP and oneDNN threads they start inherit the mask).
 *
 * Threading: the flag is a lock-free atomic_int (safe in a handler, and
 * read by any thread without a data race).  Errors: ls_drain_install fails
 * only if sigaction does (LS_EINVAL, message set).
 */
#ifndef LSTMSWEEP_DRAIN_H
#define LSTMSWEEP_DRAIN_H

#include <stdatomic.h>

#include "lstmsweep/error.h"

/* The flag the handlers set: 0 = go on, 1 = drain.  Pass it as the `stop`
 * of ls_run_opts / ls_train_opts. */
atomic_int *ls_drain_flag(void);

/* Install the handlers of SIGINT, SIGTERM and SIGUSR1 (see above). */
int ls_drain_install(ls_err *err);

/* Block SIGINT, SIGTERM and SIGUSR1 in the calling thread. */
void ls_drain_block_signals(void);

#endif
