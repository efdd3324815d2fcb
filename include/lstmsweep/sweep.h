/* sweep.h - sweep files: an INI file that expands into a list of jobs.
 *
 *   [sweep]
 *   name    = seeds
 *   results = results/seeds.csv
 *   seeds   = 1, 2, 3        ; every configuration once per seed
 *
 *   [bitcount]
 *   hidden  = 8, 16, 24      ; any `train` key; lists multiply
 *   batch   = 100, 1000
 *
 *   [mnist]
 *   data    = data/mnist
 *   hidden  = 64, 128
 *
 * Each task section present adds the cartesian product of its keys' value
 * lists (times the seeds).  Every `train` key is accepted in a task section
 * (with '_' or '-'), each value a comma-separated list.  [sweep] keys:
 *   name             sweep name (default: file name without .ini)
 *   results          results CSV (default results/<name>.csv)
 *   curves           per-epoch CSV (default: results path with .csv
 *                    replaced by -curves.csv)
 *   checkpoints      directory for job checkpoints (default: results path
 *                    with .csv replaced by .ckpt)
 *   seeds            list; overrides each section's seed
 *   threads_per_job  "auto" (default) or a positive integer
 *   mem_limit        bytes with optional K/M/G/T suffix, or "auto" (default)
 * Relative paths are taken relative to the current directory.
 *
 * Errors are LS_EINVAL (or LS_EIO if the file cannot be read) with a
 * message "FILE:LINE: [section] key: what is wrong" for: unknown section,
 * unknown key, a value that is not a number of the right kind, an empty
 * list, a missing data directory, a job that fails ls_job_validate (the
 * line of the key responsible, where known), a task section with no task
 * keys at all is fine (it runs that task's defaults).
 *
 * Ownership: ls_sweep_load allocates *out; free with ls_sweep_destroy
 * (NULL is a no-op).
 */
#ifndef LSTMSWEEP_SWEEP_H
#define LSTMSWEEP_SWEEP_H

#include <stddef.h>

#include "lstmsweep/error.h"
#include "lstmsweep/job.h"
#include "lstmsweep/search.h"

#define LS_SWEEP_PATH_MAX 512

typedef struct ls_sweep {
    char path[LS_SWEEP_PATH_MAX];        /* the sweep file as given */
    char name[64];
    char results[LS_SWEEP_PATH_MAX];
    char curves[LS_SWEEP_PATH_MAX];
    char checkpoints[LS_SWEEP_PATH_MAX];
    int threads_per_job;                 /* 0 = auto */
    size_t mem_limit;                    /* bytes, 0 = auto */
    ls_search search;                    /* [search] (search.h) */
    char search_log[LS_SWEEP_PATH_MAX];  /* an asha search's audit CSV:
                                            results path, -search.csv */
    size_t njobs;
    ls_job *jobs;                        /* [njobs], in expansion order */
} ls_sweep;

/* Parse `path`, apply overrides ("section.key=value", e.g.
 * "mnist.hidden=32,64" or "sweep.results=x.csv"; same checks, reported as
 * "--set mnist.hidden=...: ..."), expand and validate every job. */
int ls_sweep_load(ls_sweep **out, const char *path,
                  const char *const *overrides, int noverrides, ls_err *err);
void ls_sweep_destroy(ls_sweep *s);

/* ls_sweep_load_text flag: refuse results, curves and checkpoints in
 * [sweep] (a sweep submitted over the network must not choose paths). */
#define LS_SWEEP_NO_PATHS 1u
/* ... and do not look at the mnist data directories: the caller does, after
 * a check of its own that must come first (the server's data roots: a
 * client must not learn whether a path outside them exists). */
#define LS_SWEEP_DATA_UNCHECKED 2u

/* As ls_sweep_load, from the NUL-terminated text of a sweep file; name
 * stands for the file in messages ("<submitted>:3: [sweep] ...") and in
 * the default sweep name.  text need not outlive the call. */
int ls_sweep_load_text(ls_sweep **out, const char *name, const char *text, unsigned flags,
                       const char *const *overrides, int noverrides, ls_err *err);

/* Parse a memory size: "auto" -> 0, "512M", "24G", "1073741824". */
int ls_parse_bytes(const char *text, size_t *bytes);

#endif
