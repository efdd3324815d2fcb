/* search.h - adaptive search over a sweep file: its [search] settings,
 * random draws, and the driver that runs ASHA with the scheduler.
 *
 *   [search]
 *   method     = asha       ; grid (default) | random | asha
 *   metric     = val_error  ; the only one: decisions never see the test split
 *   min_epochs = 5          ; asha: the first rung (default 1)
 *   max_epochs = 60         ; asha: the last (default: the jobs' epochs)
 *   eta        = 3          ; asha: keep the top 1/eta at each rung
 *   seeds      = mean       ; asha: a configuration's seeds decide together
 *                           ; (mean of their values), or each: seeds apart
 *   samples    = 40         ; random (and asha over random draws): the
 *                           ; configurations drawn per task section
 *   seed       = 1          ; the draws' seed
 *
 * random draws each configuration key by key from the section's lists (an
 * item uniformly) and ranges: "LO..HI" (uniform; integers for integer
 * keys) and "LO..HI log" (log-uniform), in the section's key order, from
 * an xoshiro stream of `seed` and the section: the same file gives the
 * same configurations everywhere.  A configuration drawn twice is drawn
 * again (up to 100 tries per sample, so a small space gives fewer).  The
 * seeds of [sweep] multiply the draws, as they multiply the grid.
 *
 * asha over the sweep's configurations (the grid, or the random draws):
 * the decisions are asha.h's; rungs at min_epochs * eta^k below
 * max_epochs, then max_epochs; every job's epochs become max_epochs (if
 * given); a job evaluates at each rung it pauses at (its `until`, job.h)
 * besides its eval_every epochs, which do not change (nor does its id: a
 * job trained through every rung has the grid's row); a job with no
 * validation split or with a target_error is refused: the decisions use
 * the validation error.
 *
 * Threading: the parse and draw functions are reentrant.  Errors:
 * LS_EINVAL with a message naming the key ("eta: '1' is not an integer >=
 * 2"); the sweep parser adds "FILE:LINE: [search]".
 */
#ifndef LSTMSWEEP_SEARCH_H
#define LSTMSWEEP_SEARCH_H

#include <stdint.h>

#include "lstmsweep/error.h"
#include "lstmsweep/job.h"
#include "lstmsweep/rng.h"

typedef enum { LS_SEARCH_GRID = 0, LS_SEARCH_RANDOM, LS_SEARCH_ASHA } ls_search_method;

typedef struct ls_search {
    ls_search_method method;
    int min_epochs;      /* asha: first rung, >= 1 */
    int max_epochs;      /* asha: last rung; 0 = the jobs' own epochs */
    int eta;             /* asha: >= 2 */
    int seeds_each;      /* asha: 0 = mean over a configuration's seeds */
    int samples;         /* configurations drawn per task section; 0 = grid */
    uint64_t seed;       /* the draws' seed */
} ls_search;

/* The defaults: grid, min_epochs 1, eta 3, seeds mean, samples 0, seed 1. */
void ls_search_defaults(ls_search *s);

/* Set one [search] key from its text; LS_EINVAL naming the key for an
 * unknown key or a bad value.  key_count/key_at list the keys. */
int ls_search_set(ls_search *s, const char *key, const char *value, ls_err *err);
int ls_search_key_count(void);
const char *ls_search_key_at(int i);

/* A range item of a task key: "LO..HI" or "LO..HI log".  1 and the bounds
 * (lo <= hi; log needs lo > 0) if item is one, 0 if it is a plain value,
 * LS_EINVAL (< 0) for a malformed range. */
int ls_search_range(const char *item, double *lo, double *hi, int *log_scale, ls_err *err);

/* One draw from a range, as text for ls_job_set: an integer for integer
 * keys (rounded from a uniform or log-uniform real over [lo, hi + 1) and
 * clamped), else "%.6g" of a real. */
void ls_search_draw(ls_rng *rng, double lo, double hi, int log_scale, int integer,
                    char *buf, size_t len);

/* Fit a job to an asha search (the rules above): epochs = max_epochs if
 * set.  LS_EINVAL naming the key (target_error, val_size, min_epochs)
 * that does not fit. */
int ls_search_fit_job(const ls_search *s, ls_job *job, ls_err *err);

/* The rungs of a search for a job of `epochs` epochs (asha.h's
 * ls_asha_rungs with min_epochs and eta): their count, -1 if none. */
int ls_search_rungs(const ls_search *s, int epochs, int *out, int cap);

/* Tag the jobs of one asha search: jobs[i] with in[i] != 0 (in NULL: all)
 * get job->search = 16 hex digits of the hash of the search's settings
 * and of the sorted ids of all those jobs (untagged).  A search's result
 * for a job (paused, stopped at a rung, chosen) depends on every other
 * unit and on eta and the rungs, so the tag is part of the job's identity:
 * the same search always has the same ids (and resumes), another search
 * or a grid over the same configurations has other ids (and never takes
 * this one's rows or checkpoints for its own).  LS_ENOMEM only. */
int ls_search_tag(const ls_search *s, ls_job *jobs, size_t n, const int *in, ls_err *err);

#endif
