/* keys.c - the loaded jobs' keys and configurations, described for titles
 * and captions, and the ranked configurations (ls_report_ranked); see
 * report_int.h. */
#include "report_int.h"
#include "lstmsweep/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rep_cfg_desc(const ls_report *r, const cfg *c, int only_varying, char *buf,
                  size_t len)
{
    const job *j = &r->jobs[r->order[c->start]];
    const group *g = &r->groups[c->group];
    size_t n = 0;
    buf[0] = '\0';
    for (int k = HP_HIDDEN; k < NHP; k++) {
        if (k == HP_SEED || k == HP_DATA || !*j->hp[k])
            continue;
        if (only_varying && !g->varies[k] && k > HP_LAYERS)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", rep_hp_name(k), j->hp[k]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

int ls_report_ranked(const ls_report *r, const char *task, const char *data,
                     size_t rank, ls_report_config *out)
{
    for (size_t gi = 0; gi < r->ngroups; gi++) {
        const group *g = &r->groups[gi];
        if (strcmp(g->task, task) || strcmp(g->data, data ? data : ""))
            continue;
        if (rank >= g->nranked)
            return LS_EINVAL;
        const cfg *c = &r->cfgs[g->ranked[rank]];
        const job *j = &r->jobs[r->order[c->start]];
        memset(out, 0, sizeof *out);
        snprintf(out->task, sizeof out->task, "%s", g->task);
        snprintf(out->data, sizeof out->data, "%s", g->data);
        out->hidden = atoi(j->hp[HP_HIDDEN]);
        out->batch = atoi(j->hp[HP_BATCH]);
        out->layers = atoi(j->hp[HP_LAYERS]);
        rep_cfg_desc(r, c, 0, out->desc, sizeof out->desc);
        out->runs = c->runs;
        out->seeds = c->seeds;
        out->err_mean = c->err_mean;
        out->err_std = c->err_std;
        out->err_min = c->err_min;
        out->err_max = c->err_max;
        out->wall_mean = c->wall_mean;
        out->sps_mean = c->sps_mean;
        out->gflops_mean = c->gflops_mean;
        return 0;
    }
    return LS_EINVAL;
}

/* Distinct values of key k in group g, sorted: one job index per value in
 * *vals (caller frees).  -1 if out of memory. */
typedef struct key_ctx {
    const ls_report *r;
    int k;
} key_ctx;

static int cmp_key(const void *a, const void *b, void *ctx)
{
    const key_ctx *kc = ctx;
    return rep_cmp_val(&kc->r->jobs[*(const size_t *)a], &kc->r->jobs[*(const size_t *)b], kc->k);
}

long rep_distinct(const ls_report *r, size_t g, int k, size_t **vals)
{
    size_t *v = ls_alloc((r->njobs + 1) * sizeof *v), m = 0, w = 0;
    key_ctx kc = {r, k};
    if (!(*vals = v))
        return -1;
    for (size_t i = 0; i < r->njobs; i++)
        if (r->jobs[i].group == g)
            v[m++] = i;
    qsort_r(v, m, sizeof *v, cmp_key, &kc);
    for (size_t i = 0; i < m; i++)
        if (!w || rep_cmp_val(&r->jobs[v[i]], &r->jobs[v[w - 1]], k))
            v[w++] = v[i];
    return (long)w;
}

size_t rep_value_pos(const ls_report *r, const size_t *vals, size_t n, int k,
                     const job *j)
{
    for (size_t i = 0; i < n; i++)
        if (!rep_cmp_val(&r->jobs[vals[i]], j, k))
            return i;
    return n;
}

void rep_averaged_keys(const group *g, const int *skip, int nskip, char *buf,
                       size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int k = HP_HIDDEN; k < NHP; k++) {
        int skipped = k == HP_DATA || !g->varies[k];
        for (int i = 0; i < nskip; i++)
            skipped |= skip[i] == k;
        if (skipped)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", rep_hp_name(k));
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

void rep_fixed_keys(const ls_report *r, size_t gi, char *buf, size_t len)
{
    const group *g = &r->groups[gi];
    const job *j = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->njobs && !j; i++)
        j = r->jobs[i].group == gi ? &r->jobs[i] : NULL;
    buf[0] = '\0';
    for (int k = HP_EPOCHS; k < NHP && j; k++) {
        if (k == HP_SEED || k == HP_DATA || g->varies[k] || !*j->hp[k])
            continue;
        int w = snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", rep_hp_name(k), j->hp[k]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

void rep_seed_list(const ls_report *r, size_t g, char *buf, size_t len)
{
    size_t *v, n = 0;
    long m = rep_distinct(r, g, HP_SEED, &v);
    buf[0] = '\0';
    for (long i = 0; i < m; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", r->jobs[v[i]].hp[HP_SEED]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    ls_free(v);
}
