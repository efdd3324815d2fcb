/* place.c - the placement policy; see include/lstmsweep/place.h. */
#include "lstmsweep/place.h"
#include "lstmsweep/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/cost.h"

/* A running job's estimated end and bytes, for the shadow time. */
struct ls_place_end {
    double t;
    size_t mem;
};

/* What the head of the queue is promised: from `shadow` on, its bytes are
 * free; `spare` bytes are left beside them then. */
typedef struct reservation {
    int active;
    double shadow;
    size_t spare;
} reservation;

int ls_place_init(ls_place *p, int ncores, int nnodes, const int *core_node,
                  size_t mem_limit, int threads_per_job,
                  const ls_place_job *jobs, size_t n, ls_err *err)
{
    memset(p, 0, sizeof *p);
    if (ncores < 1 || nnodes < 1)
        return ls_err_set(err, LS_EINVAL, "placement: no cores");
    p->ncores = ncores;
    p->nnodes = nnodes;
    p->core_node = core_node;
    p->mem_limit = mem_limit;
    p->threads_per_job = threads_per_job;
    p->reserve = 1;
    p->calib = 1;
    p->core_busy = ls_calloc((size_t)ncores, sizeof *p->core_busy);
    p->ends = ls_calloc((size_t)ncores, sizeof *p->ends);
    if (!p->core_busy || !p->ends)
        return ls_err_set(err, LS_ENOMEM, "placement: out of memory");
    for (int nd = 0; nd < nnodes; nd++) {
        int c = 0;
        for (int i = 0; i < ncores; i++)
            c += core_node[i] == nd;
        p->max_node_cores = c > p->max_node_cores ? c : p->max_node_cores;
    }
    for (int i = 0; i < ncores; i++)
        if (core_node[i] < 0 || core_node[i] >= nnodes)
            return ls_err_set(err, LS_EINVAL, "placement: core %d on node %d of %d",
                              i, core_node[i], nnodes);
    for (size_t i = 0; i < n; i++)
        if (jobs[i].state == LS_PLACE_PENDING)
            ls_place_add(p, &jobs[i]);
    return 0;
}

void ls_place_add(ls_place *p, const ls_place_job *j)
{
    p->pending++;
    p->pending_work += j->est_s;
}

/* j leaves the pending jobs. */
static void unpend(ls_place *p, const ls_place_job *j)
{
    p->pending--;
    p->pending_work -= j->est_s;
    if (p->pending == 0 || p->pending_work < 0)
        p->pending_work = 0;          /* no rounding left behind */
}

void ls_place_drop(ls_place *p, ls_place_job *j)
{
    unpend(p, j);
    j->state = LS_PLACE_DONE;
}

void ls_place_free(ls_place *p)
{
    ls_free(p->core_busy);
    ls_free(p->ends);
    p->core_busy = NULL;
    p->ends = NULL;
}

static int free_cores(const ls_place *p, int node)
{
    int c = 0;
    for (int i = 0; i < p->ncores; i++)
        c += !p->core_busy[i] && (node < 0 || p->core_node[i] == node);
    return c;
}

/* Pending jobs longer than `share` calibrated seconds: the critical ones. */
static int critical_jobs(const ls_place *p, const ls_place_job *jobs, size_t n, double share)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += jobs[i].state == LS_PLACE_PENDING && jobs[i].est_s * p->calib > share;
    return c;
}

/* Core-seconds the running jobs still need, by their estimates. */
static double running_left(const ls_place *p, const ls_place_job *jobs, size_t n, double now)
{
    double left = 0;
    for (size_t i = 0; i < n; i++)
        if (jobs[i].state == LS_PLACE_RUNNING)
            left += fmax(0, ls_place_est_end(p, &jobs[i]) - now) * jobs[i].k;
    return left;
}

/* Threads for a critical job (see place.h), or 0 if j is not one.  Wider
 * is not free: k threads do k / speedup(k) times the work, so the k chosen
 * is the one that makes the bound on the makespan, the longer of the job
 * itself and the work left (that extra included) over the cores, the
 * least.  Calibrated seconds throughout. */
static int critical_k(const ls_place *p, const ls_place_job *j, const ls_place_job *jobs,
                      size_t n, int nfree, double now)
{
    double est = j->est_s * p->calib;
    if (j->useful < 2 || est <= 0)
        return 0;
    double work = p->pending_work * p->calib + running_left(p, jobs, n, now);
    double share = work / p->ncores;
    if (est <= share)
        return 0;
    int ncrit = critical_jobs(p, jobs, n, share);
    int cap = nfree / (ncrit > 0 ? ncrit : 1), best = 1;
    double best_bound = INFINITY;
    for (int k = 1; k <= cap && k <= j->useful && k <= p->max_node_cores; k++) {
        double s = ls_cost_speedup(k), extra = ncrit * est * (k / s - 1);
        double bound = fmax(est / s, (work + extra) / p->ncores);
        if (bound < best_bound - 1e-9)
            best = k, best_bound = bound;
    }
    return best;
}

/* Threads for a job about to start; see place.h. */
static int choose_k(const ls_place *p, const ls_place_job *j, const ls_place_job *jobs,
                    size_t n, double now)
{
    int k = 1;
    if (j->threads > 0 || p->threads_per_job > 0) {
        k = j->threads > 0 ? j->threads : p->threads_per_job;
    } else {
        int nfree = free_cores(p, -1), wide = critical_k(p, j, jobs, n, nfree, now);
        if (p->pending < (size_t)nfree && j->est_s * p->calib > 10)
            k = nfree / (int)p->pending;
        k = wide > k ? wide : k;
        if (k > j->useful)
            k = j->useful; /* a small step runs slower on more threads */
    }
    if (k > p->max_node_cores)
        k = p->max_node_cores;
    return k < 1 ? 1 : k > LS_PLACE_MAX_K ? LS_PLACE_MAX_K : k;
}

/* The node with the fewest free cores that still has k; -1 if none. */
static int best_node(const ls_place *p, int k)
{
    int best = -1, best_free = 0;
    for (int nd = 0; nd < p->nnodes; nd++) {
        int f = free_cores(p, nd);
        if (f >= k && (best < 0 || f < best_free))
            best = nd, best_free = f;
    }
    return best;
}

double ls_place_est_end(const ls_place *p, const ls_place_job *j)
{
    return j->start + j->est_s * p->calib / ls_cost_speedup(j->k);
}

static int by_end(const void *a, const void *b)
{
    const struct ls_place_end *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* The reservation for a head needing `need` bytes: walk the running jobs
 * by estimated end (overdue ones end "now") until enough is free. */
static reservation reserve_for(ls_place *p, const ls_place_job *jobs, size_t n,
                               size_t need, double now)
{
    reservation r = {1, now, 0};
    size_t m = 0, avail = p->mem_limit - p->mem_used;
    for (size_t i = 0; i < n && m < (size_t)p->ncores; i++)
        if (jobs[i].state == LS_PLACE_RUNNING) {
            double t = ls_place_est_end(p, &jobs[i]);
            p->ends[m++] = (struct ls_place_end){t > now ? t : now, jobs[i].mem};
        }
    qsort(p->ends, m, sizeof *p->ends, by_end);
    for (size_t i = 0; i < m && avail < need; i++) {
        avail += p->ends[i].mem;
        r.shadow = p->ends[i].t;
    }
    /* Every job ends in the end: a head within the limit always fits. */
    r.spare = avail > need ? avail - need : 0;
    return r;
}

/* May j (k threads) start now without delaying the head? */
static int backfill_ok(const ls_place *p, const reservation *r,
                       const ls_place_job *j, int k, double now)
{
    if (!r->active)
        return 1;
    if (now + j->est_s * p->calib / ls_cost_speedup(k) <= r->shadow)
        return 1;
    return j->mem <= r->spare;
}

static void take(ls_place *p, ls_place_job *j, int k, int node, double now)
{
    j->k = k;
    j->node = node;
    for (int c = 0, got = 0; c < p->ncores && got < k; c++)
        if (!p->core_busy[c] && p->core_node[c] == node) {
            p->core_busy[c] = 1;
            j->cores[got++] = c;
        }
    j->start = now;
    j->state = LS_PLACE_RUNNING;
    p->mem_used += j->mem;
    unpend(p, j);
    p->running++;
}

long ls_place_next(ls_place *p, ls_place_job *jobs, const size_t *order,
                   size_t n, double now)
{
    reservation r = {0};
    for (size_t i = 0; i < n; i++) {
        ls_place_job *j = &jobs[order[i]];
        if (j->state != LS_PLACE_PENDING)
            continue;
        if (j->mem > p->mem_limit) {
            j->k = 0;
            ls_place_drop(p, j);
            return (long)order[i];
        }
        if (p->mem_used + j->mem > p->mem_limit) {
            if (p->reserve && !r.active)
                r = reserve_for(p, jobs, n, j->mem, now);
            continue;                  /* a smaller job may fit */
        }
        int k = choose_k(p, j, jobs, n, now), node = best_node(p, k);
        if (node < 0 || !backfill_ok(p, &r, j, k, now))
            continue;
        take(p, j, k, node, now);
        return (long)order[i];
    }
    return -1;
}

void ls_place_finish(ls_place *p, ls_place_job *j)
{
    for (int i = 0; i < j->k; i++)
        p->core_busy[j->cores[i]] = 0;
    p->mem_used -= j->mem;
    p->running--;
    j->state = LS_PLACE_DONE;
}
