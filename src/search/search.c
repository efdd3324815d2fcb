/* search.c - the [search] settings and random draws; see
 * include/lstmsweep/search.h. */
#include "lstmsweep/search.h"

#include "lstmsweep/alloc.h"
#include "lstmsweep/asha.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {"method", "metric", "min_epochs", "max_epochs",
                                   "eta", "seeds", "samples", "seed"};
#define NKEYS ((int)(sizeof keys / sizeof *keys))

int ls_search_key_count(void) { return NKEYS; }
const char *ls_search_key_at(int i) { return i >= 0 && i < NKEYS ? keys[i] : NULL; }

void ls_search_defaults(ls_search *s)
{
    *s = (ls_search){.method = LS_SEARCH_GRID, .min_epochs = 1, .eta = 3, .seed = 1};
}

/* A whole decimal number in [lo, hi]. */
static int parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

int ls_search_set(ls_search *s, const char *key, const char *v, ls_err *err)
{
    long x;
    if (!strcmp(key, "method")) {
        if (!strcmp(v, "grid"))
            s->method = LS_SEARCH_GRID;
        else if (!strcmp(v, "random"))
            s->method = LS_SEARCH_RANDOM;
        else if (!strcmp(v, "asha"))
            s->method = LS_SEARCH_ASHA;
        else
            return ls_err_set(err, LS_EINVAL, "method: '%s' is not grid, random or asha", v);
    } else if (!strcmp(key, "metric")) {
        if (strcmp(v, "val_error"))
            return ls_err_set(err, LS_EINVAL, "metric: '%s': only val_error (decisions use "
                              "the validation split, never the test split)", v);
    } else if (!strcmp(key, "min_epochs") || !strcmp(key, "max_epochs")) {
        if (parse_int(v, 1, 1000000, &x))
            return ls_err_set(err, LS_EINVAL, "%s: '%s' is not an integer in 1..1000000", key, v);
        *(!strcmp(key, "min_epochs") ? &s->min_epochs : &s->max_epochs) = (int)x;
    } else if (!strcmp(key, "eta")) {
        if (parse_int(v, 2, 1000, &x))
            return ls_err_set(err, LS_EINVAL, "eta: '%s' is not an integer in 2..1000", v);
        s->eta = (int)x;
    } else if (!strcmp(key, "seeds")) {
        if (strcmp(v, "mean") && strcmp(v, "each"))
            return ls_err_set(err, LS_EINVAL, "seeds: '%s' is not mean or each", v);
        s->seeds_each = !strcmp(v, "each");
    } else if (!strcmp(key, "samples")) {
        if (parse_int(v, 1, 100000, &x))
            return ls_err_set(err, LS_EINVAL, "samples: '%s' is not an integer in 1..100000", v);
        s->samples = (int)x;
    } else if (!strcmp(key, "seed")) {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, 10);
        if (errno || end == v || *end || *v == '-')
            return ls_err_set(err, LS_EINVAL, "seed: '%s' is not a whole number >= 0", v);
        s->seed = u;
    } else {
        return ls_err_set(err, LS_EINVAL, "%s: unknown key", key);
    }
    return 0;
}

int ls_search_range(const char *item, double *lo, double *hi, int *log_scale, ls_err *err)
{
    const char *dots = strstr(item, "..");
    char *end, first[64];
    if (!dots)
        return 0;
    /* LO apart: strtod would take "4." of "4..8" */
    if ((size_t)(dots - item) >= sizeof first)
        return ls_err_set(err, LS_EINVAL, "'%s': a range is LO..HI or LO..HI log", item);
    snprintf(first, sizeof first, "%.*s", (int)(dots - item), item);
    errno = 0;
    *lo = strtod(first, &end);
    if (*end || end == first || errno)
        return ls_err_set(err, LS_EINVAL, "'%s': a range is LO..HI or LO..HI log", item);
    *hi = strtod(dots + 2, &end);
    if (end == dots + 2 || errno)
        return ls_err_set(err, LS_EINVAL, "'%s': a range is LO..HI or LO..HI log", item);
    while (*end == ' ' || *end == '\t')
        end++;
    *log_scale = !strcmp(end, "log");
    if (*end && !*log_scale)
        return ls_err_set(err, LS_EINVAL, "'%s': a range is LO..HI or LO..HI log", item);
    if (!isfinite(*lo) || !isfinite(*hi) || *lo > *hi)
        return ls_err_set(err, LS_EINVAL, "'%s': the range must have LO <= HI", item);
    if (*log_scale && *lo <= 0)
        return ls_err_set(err, LS_EINVAL, "'%s': a log range needs LO > 0", item);
    return 1;
}

/* Uniform double in [0, 1) with 53 random bits. */
static double unit(ls_rng *rng) { return (double)(ls_rng_next(rng) >> 11) * 0x1p-53; }

void ls_search_draw(ls_rng *rng, double lo, double hi, int log_scale, int integer,
                    char *buf, size_t len)
{
    double a = lo, b = integer ? hi + 1 : hi, u = unit(rng), x;
    x = log_scale ? exp(log(a) + u * (log(b) - log(a))) : a + u * (b - a);
    if (integer) {
        x = floor(x);
        x = x < lo ? lo : x > hi ? hi : x;
        snprintf(buf, len, "%.0f", x);
    } else {
        snprintf(buf, len, "%.6g", x);
    }
}

int ls_search_rungs(const ls_search *s, int epochs, int *out, int cap)
{
    return ls_asha_rungs(s->min_epochs, epochs, s->eta, out, cap);
}

int ls_search_fit_job(const ls_search *s, ls_job *job, ls_err *err)
{
    int rungs[LS_ASHA_MAX_RUNGS];
    if (s->max_epochs > 0)
        job->epochs = s->max_epochs;
    if (job->target_error >= 0)
        return ls_err_set(err, LS_EINVAL, "target_error: an asha search stops jobs itself "
                          "(leave target_error unset)");
    if (ls_job_val_size(job) == 0)
        return ls_err_set(err, LS_EINVAL, "val_size: an asha search decides on the "
                          "validation error, and val_size = 0 leaves none");
    if (ls_search_rungs(s, job->epochs, rungs, LS_ASHA_MAX_RUNGS) < 1)
        return ls_err_set(err, LS_EINVAL, "min_epochs: %d and eta %d give more than %d rungs "
                          "below %d epochs", s->min_epochs, s->eta, LS_ASHA_MAX_RUNGS,
                          job->epochs);
    return 0;
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

int ls_search_tag(const ls_search *s, ls_job *jobs, size_t n, const int *in, ls_err *err)
{
    char (*ids)[LS_JOB_ID_LEN] = ls_calloc(n ? n : 1, sizeof *ids), head[160];
    size_t k = 0;
    if (!ids)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!in || in[i]) {
            ls_job probe = jobs[i];
            probe.search[0] = '\0';
            ls_job_id(&probe, ids[k++]);
        }
    qsort(ids, k, sizeof *ids, cmp_text);
    snprintf(head, sizeof head, "asha metric=val_error min_epochs=%d max_epochs=%d eta=%d "
             "seeds=%s;", s->min_epochs, s->max_epochs, s->eta, s->seeds_each ? "each" : "mean");
    uint64_t h = ls_job_hash(LS_JOB_HASH_INIT, head);
    for (size_t i = 0; i < k; i++)
        h = ls_job_hash(h, ids[i]);
    for (size_t i = 0; i < n; i++)
        if (!in || in[i])
            snprintf(jobs[i].search, sizeof jobs[i].search, "%016llx", (unsigned long long)h);
    ls_free(ids);
    return 0;
}
