/* submit.c - the policy for submitted sweeps; see include/lstmsweep/submit.h. */
#include "lstmsweep/submit.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lstmsweep/dataset.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/cost.h"
#include "lstmsweep/search.h"
#include "lstmsweep/train.h"

int ls_submit_policy_init(ls_submit_policy *p, const char *state_dir,
                          const char *const *roots, size_t nroots, ls_err *err)
{
    static const char *const default_root[] = {"data"};

    memset(p, 0, sizeof *p);
    if (strlen(state_dir) >= sizeof p->state_dir)
        return ls_err_set(err, LS_EINVAL, "%s: state directory path too long", state_dir);
    snprintf(p->state_dir, sizeof p->state_dir, "%s", state_dir);
    if (!roots || !nroots) {
        roots = default_root;
        nroots = 1;
    }
    if (!(p->roots = ls_calloc(nroots, sizeof *p->roots)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (size_t i = 0; i < nroots; i++, p->nroots++) {
        char real[PATH_MAX];
        if (!realpath(roots[i], real)) {
            int e = errno;
            ls_submit_policy_free(p);
            return ls_err_set(err, LS_EINVAL, "data root %s: %s", roots[i], strerror(e));
        }
        if (!(p->roots[i] = ls_strdup(real))) {
            ls_submit_policy_free(p);
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        }
    }
    return 0;
}

void ls_submit_policy_free(ls_submit_policy *p)
{
    for (size_t i = 0; i < p->nroots; i++)
        ls_free(p->roots[i]);
    ls_free(p->roots);
    p->roots = NULL;
    p->nroots = 0;
}

int ls_submit_check_name(const char *name, ls_err *err)
{
    size_t n = strlen(name);
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

    if (n == 0 || n > 63)
        return ls_err_set(err, LS_EINVAL, "sweep name must have 1 to 63 characters");
    if (strspn(name, ok) != n)
        return ls_err_set(err, LS_EINVAL, "sweep name '%.63s': only letters, digits, '.', "
                          "'_' and '-' are allowed", name);
    if (name[0] == '.' || name[0] == '-' || name[0] == '_' || strstr(name, ".."))
        return ls_err_set(err, LS_EINVAL, "sweep name '%s': must start with a letter or a "
                          "digit and hold no \"..\"", name);
    return 0;
}

/* 1 if the resolved path is a root or lies below one. */
static int under_roots(const ls_submit_policy *p, const char *real)
{
    for (size_t i = 0; i < p->nroots; i++) {
        size_t n = strlen(p->roots[i]);
        if (!strncmp(real, p->roots[i], n) &&
            (real[n] == '\0' || real[n] == '/' || (n == 1 && p->roots[i][0] == '/')))
            return 1;
    }
    return 0;
}

/* The deepest ancestor of path that exists, resolved, into real (the
 * current directory's for a relative path with none). */
static void deepest_ancestor(const char *path, char real[PATH_MAX])
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    for (;;) {
        char *slash = strrchr(copy, '/');
        if (!slash) {
            if (!realpath(".", real))
                real[0] = '\0';
            return;
        }
        *(slash == copy ? slash + 1 : slash) = '\0';
        if (realpath(copy, real))
            return;
    }
}

/* One data directory: under a root first, then there and a directory.  A
 * path that does not exist is refused as "not under a data root" unless
 * its deepest existing ancestor is under one, so the answer about a path
 * outside the roots is the same whether it exists or not. */
static int check_dir(const ls_submit_policy *p, const char *dir, ls_err *err)
{
    char real[PATH_MAX];
    struct stat st;
    int exists = realpath(dir, real) != NULL;

    if (!exists)
        deepest_ancestor(dir, real);
    if (!real[0] || !under_roots(p, real))
        return ls_err_set(err, LS_EINVAL, "%s: [mnist] data: '%s' is not under a data "
                          "root of this server (%s%s)", LS_SUBMIT_FILE, dir,
                          p->roots[0], p->nroots > 1 ? ", ..." : "");
    if (!exists)
        return ls_err_set(err, LS_EINVAL, "%s: [mnist] data: directory '%s' not found",
                          LS_SUBMIT_FILE, dir);
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return ls_err_set(err, LS_EINVAL, "%s: [mnist] data: '%s' is not a directory",
                          LS_SUBMIT_FILE, dir);
    return 0;
}

static int check_data(const ls_submit_policy *p, const ls_sweep *sw, ls_err *err)
{
    const char *last = NULL;    /* jobs come in runs of the same directory */

    for (size_t i = 0; i < sw->njobs; i++) {
        const ls_job *j = &sw->jobs[i];
        if (j->task != LS_TASK_MNIST || (last && !strcmp(last, j->data)))
            continue;
        int rc = check_dir(p, j->data, err);
        if (rc)
            return rc;
        last = j->data;
    }
    return 0;
}

void ls_submit_path(const ls_submit_policy *p, const char *sweep, const char *file,
                    char *out, size_t cap)
{
    snprintf(out, cap, "%s/sweeps/%s/%s", p->state_dir, sweep, file);
}

static void set_paths(const ls_submit_policy *p, ls_sweep *sw)
{
    ls_submit_path(p, sw->name, "results.csv", sw->results, sizeof sw->results);
    ls_submit_path(p, sw->name, "curves.csv", sw->curves, sizeof sw->curves);
    ls_submit_path(p, sw->name, "ckpt", sw->checkpoints, sizeof sw->checkpoints);
    ls_submit_path(p, sw->name, "search.csv", sw->search_log, sizeof sw->search_log);
}

int ls_submit_load(const ls_submit_policy *p, const char *text, ls_sweep **out,
                   ls_err *err)
{
    ls_sweep *sw = NULL;
    int rc = ls_sweep_load_text(&sw, LS_SUBMIT_FILE, text,
                                LS_SWEEP_NO_PATHS | LS_SWEEP_DATA_UNCHECKED, NULL, 0, err);

    *out = NULL;
    if (rc)
        return rc;
    /* without [sweep] name the parser names it after the file, "<submitted>" */
    if (!strcmp(sw->name, LS_SUBMIT_FILE))
        rc = ls_err_set(err, LS_EINVAL, "%s: [sweep] name: missing: a submitted sweep must "
                        "be named", LS_SUBMIT_FILE);
    else if ((rc = ls_submit_check_name(sw->name, err)))
        ls_err_prefix(err, "%s: [sweep] name", LS_SUBMIT_FILE);
    else if (sw->search.method == LS_SEARCH_ASHA)
        rc = ls_search_tag(&sw->search, sw->jobs, sw->njobs, NULL, err); /* its ids */
    if (!rc)
        rc = check_data(p, sw, err);
    if (rc) {
        ls_sweep_destroy(sw);
        return rc;
    }
    set_paths(p, sw);
    *out = sw;
    return 0;
}

double ls_submit_estimate_seconds(const ls_job *job)
{
    return ls_cost_job_seconds(job, NULL);
}

int ls_submit_jobs(void *ctx, const ls_sweep *sw, ls_store_job *out, ls_err *err)
{
    for (size_t i = 0; i < sw->njobs; i++) {
        ls_job_id(&sw->jobs[i], out[i].id);
        out[i].est_s = ls_submit_estimate_seconds(&sw->jobs[i]);
    }
    return 0;
}
