/* submit.h - what a sweep submitted over the network may do: the server's
 * policy on sweep names, paths and data, and the jobs (ids and cost
 * estimates) a sweep enters the store with.
 *
 * A network client must not make the server read or write paths of its
 * choosing, so a submitted sweep
 *  - is named in [sweep] (name = ...) with 1-63 of [A-Za-z0-9._-], starting
 *    with a letter or digit, never "..";
 *  - may not set results, curves or checkpoints (refused with the line:
 *    "<submitted>:LINE: [sweep] results: not allowed here ..."): they are
 *    STATE/sweeps/NAME/results.csv, curves.csv and ckpt/;
 *  - reads data only under the data roots: every `data` directory, resolved
 *    with realpath() (so neither ".." nor a symlink escapes), must be a root
 *    or lie below one.
 * The same policy is applied when the scheduler loads a stored sweep
 * (ls_submit_load), so a stored INI cannot mean something else later.
 * One gap remains by design: a data directory is checked when the sweep is
 * loaded, not when each job opens it, so whoever can rename directories
 * under a data root can redirect it (the operator, not a network client).
 *
 * Ownership: ls_submit_policy holds ls_alloc'ed copies (ls_submit_policy_free).
 * Threading: a policy is read-only after init; any thread may use it.
 * Errors: LS_EINVAL with a message saying why, LS_ENOMEM.
 */
#ifndef LSTMSWEEP_SUBMIT_H
#define LSTMSWEEP_SUBMIT_H

#include <stddef.h>

#include "lstmsweep/error.h"
#include "lstmsweep/store.h"
#include "lstmsweep/sweep.h"

/* Stands for the file in the messages of a submitted sweep. */
#define LS_SUBMIT_FILE "<submitted>"

typedef struct ls_submit_policy {
    char state_dir[LS_SWEEP_PATH_MAX - 96];  /* leaves room for sweeps/NAME/... */
    char **roots;                            /* realpath()s of the data roots */
    size_t nroots;
} ls_submit_policy;

/* Resolve the data roots (NULL or 0 of them: "data"); a root that does not
 * exist is LS_EINVAL. */
int ls_submit_policy_init(ls_submit_policy *p, const char *state_dir,
                          const char *const *roots, size_t nroots, ls_err *err);
void ls_submit_policy_free(ls_submit_policy *p);

/* 0 if name is a valid sweep name, else LS_EINVAL saying why. */
int ls_submit_check_name(const char *name, ls_err *err);

/* Parse a submitted sweep's text and apply the policy: *out has its paths
 * under the state directory.  The messages are those of `run`, with
 * "<submitted>" as the file. */
int ls_submit_load(const ls_submit_policy *p, const char *text, ls_sweep **out,
                   ls_err *err);

/* STATE/sweeps/SWEEP/FILE into out (the sweep's own files: results.csv,
 * curves.csv, ckpt). */
void ls_submit_path(const ls_submit_policy *p, const char *sweep, const char *file,
                    char *out, size_t cap);

/* The job source's view of a sweep: out[i] is sw->jobs[i]'s id and
 * single-core estimate (ls_submit_estimate_seconds).  Matches the
 * ls_api_hooks.jobs_of_sweep signature; ctx is unused. */
int ls_submit_jobs(void *ctx, const ls_sweep *sw, ls_store_job *out, ls_err *err);

/* Single-core seconds a job is estimated to take, from its own fields
 * alone (the data set's sizes are known from the task: no file is read). */
double ls_submit_estimate_seconds(const ls_job *job);

#endif
