/* asha.c - asynchronous successive halving; see include/lstmsweep/asha.h.
 *
 * The state is per unit (its state, rung, and per rung its result and
 * whether it was promoted from there) and per rung (its entries in arrival
 * order, how many units were promoted into it, whether it is complete).
 * Ranking a rung sorts its entries afresh: rungs hold at most nunits
 * entries and a result is a rare event next to the epochs behind it.
 */
#include "lstmsweep/asha.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/alloc.h"

struct ls_asha {
    int nunits, nrungs, eta;
    int epochs[LS_ASHA_MAX_RUNGS];
    char **key;                    /* [nunits] */
    ls_asha_state *state;          /* [nunits] */
    int *rung;                     /* [nunits] */
    double *val, *loss;            /* [nunits * nrungs] */
    unsigned char *has, *promoted; /* [nunits * nrungs] */
    int *entries[LS_ASHA_MAX_RUNGS]; /* [nunits] each, arrival order */
    int nentries[LS_ASHA_MAX_RUNGS];
    int promoted_in[LS_ASHA_MAX_RUNGS];
    int complete[LS_ASHA_MAX_RUNGS];
    int *order;                    /* scratch [nunits]: a rung ranked */
    ls_asha_event *ev;             /* this result's events */
    int nev, evcap;
};

typedef struct rank_ctx {
    const ls_asha *a;
    int r;
} rank_ctx;

static size_t at(const ls_asha *a, int u, int r) { return (size_t)u * (size_t)a->nrungs + (size_t)r; }

int ls_asha_rungs(int min_epochs, int max_epochs, int eta, int *epochs, int cap)
{
    int n = 0;
    if (min_epochs < 1 || max_epochs < 1 || eta < 2 || cap < 1)
        return -1;
    for (long e = min_epochs; e < max_epochs; e *= eta) {
        if (n + 1 >= cap)
            return -1;
        epochs[n++] = (int)e;
    }
    epochs[n++] = max_epochs;
    return n;
}

/* ---- ranking ------------------------------------------------------------ */

static int valid(double v) { return isfinite(v); }
static double loss_key(double l) { return isnan(l) ? INFINITY : l; }

static int cmp_entry(const void *pa, const void *pb, void *pc)
{
    const rank_ctx *c = pc;
    const ls_asha *a = c->a;
    int ua = *(const int *)pa, ub = *(const int *)pb;
    double va = a->val[at(a, ua, c->r)], vb = a->val[at(a, ub, c->r)];
    if (valid(va) != valid(vb))
        return valid(va) ? -1 : 1;
    if (valid(va) && va != vb)
        return va < vb ? -1 : 1;
    double la = loss_key(a->loss[at(a, ua, c->r)]), lb = loss_key(a->loss[at(a, ub, c->r)]);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a->key[ua], a->key[ub]);
}

/* Rank rung r into a->order; returns its size. */
static int rank_rung(ls_asha *a, int r)
{
    rank_ctx c = {a, r};
    int n = a->nentries[r];
    memcpy(a->order, a->entries[r], sizeof *a->order * (size_t)n);
    qsort_r(a->order, (size_t)n, sizeof *a->order, cmp_entry, &c);
    return n;
}

static int position(const ls_asha *a, int n, int u)
{
    for (int i = 0; i < n; i++)
        if (a->order[i] == u)
            return i + 1;
    return 0;
}

/* ---- events --------------------------------------------------------------- */

/* Record an event of unit u at rung r; a->order must hold rung r ranked
 * (n entries).  The event array has room for every event one result can
 * cause (see ls_asha_new). */
static void event(ls_asha *a, ls_asha_event_kind kind, int u, int r, int n)
{
    int k = n / a->eta;
    ls_asha_event *e = &a->ev[a->nev++];
    e->kind = kind;
    e->unit = u;
    e->rung = r;
    e->value = a->val[at(a, u, r)];
    e->loss = a->loss[at(a, u, r)];
    e->rank = position(a, n, u);
    e->size = n;
    e->cutoff = k > 0 ? a->val[at(a, a->order[k - 1], r)] : NAN;
}

static void promote(ls_asha *a, int u, int r, int n)
{
    a->promoted[at(a, u, r)] = 1;
    a->promoted_in[r + 1]++;
    a->state[u] = LS_ASHA_RUNNING;
    a->rung[u] = r + 1;
    event(a, LS_ASHA_EV_PROMOTE, u, r, n);
}

/* ASHA's rule at rung r (below the last): promote the valid entries among
 * the first floor(n/eta), or with close_out the first max(1, that). */
static void promote_top(ls_asha *a, int r, int close_out)
{
    int n = rank_rung(a, r), k = n / a->eta;
    if (close_out && k < 1)
        k = 1;
    for (int i = 0; i < k && i < n; i++) {
        int u = a->order[i];
        if (!valid(a->val[at(a, u, r)]))
            break;
        if (!a->promoted[at(a, u, r)])
            promote(a, u, r, n);
    }
}

static void close_rung(ls_asha *a, int r)
{
    a->complete[r] = 1;
    if (r == a->nrungs - 1)
        return;
    promote_top(a, r, 1);
    int n = a->nentries[r];
    for (int i = 0; i < n; i++) {
        int u = a->order[i];
        if (!a->promoted[at(a, u, r)]) {
            a->state[u] = LS_ASHA_STOPPED;
            event(a, LS_ASHA_EV_STOP, u, r, n);
        }
    }
}

/* Close every rung that has become complete, bottom up. */
static void close_complete(ls_asha *a)
{
    for (int r = 0; r < a->nrungs; r++) {
        if (a->complete[r])
            continue;
        int due = r == 0 ? a->nunits : a->promoted_in[r];
        if ((r > 0 && !a->complete[r - 1]) || a->nentries[r] < due)
            return;
        close_rung(a, r);
    }
}

/* ---- the calls ------------------------------------------------------------ */

int ls_asha_new(ls_asha **out, int nunits, const char *const *keys, const int *epochs,
                int nrungs, int eta, ls_err *err)
{
    *out = NULL;
    if (nunits < 1 || nrungs < 1 || nrungs > LS_ASHA_MAX_RUNGS || eta < 2)
        return ls_err_set(err, LS_EINVAL, "asha: %d unit(s), %d rung(s), eta %d", nunits,
                          nrungs, eta);
    for (int r = 0; r < nrungs; r++)
        if (epochs[r] < 1 || (r > 0 && epochs[r] <= epochs[r - 1]))
            return ls_err_set(err, LS_EINVAL, "asha: rung epochs must rise from 1 up");
    ls_asha *a = ls_calloc(1, sizeof *a);
    size_t cells = (size_t)nunits * (size_t)nrungs;
    int failed = !a;
    if (a) {
        a->nunits = nunits;
        a->nrungs = nrungs;
        a->eta = eta;
        memcpy(a->epochs, epochs, sizeof *epochs * (size_t)nrungs);
        /* One result causes its own event, then at most a promotion or a
         * stop per unit at each rung that closes, and one DONE. */
        a->evcap = 2 + nunits * (nrungs + 1);
        a->key = ls_calloc((size_t)nunits, sizeof *a->key);
        a->state = ls_calloc((size_t)nunits, sizeof *a->state);
        a->rung = ls_calloc((size_t)nunits, sizeof *a->rung);
        a->val = ls_calloc(cells, sizeof *a->val);
        a->loss = ls_calloc(cells, sizeof *a->loss);
        a->has = ls_calloc(cells, 1);
        a->promoted = ls_calloc(cells, 1);
        a->order = ls_calloc((size_t)nunits, sizeof *a->order);
        a->ev = ls_calloc((size_t)a->evcap, sizeof *a->ev);
        failed = !a->key || !a->state || !a->rung || !a->val || !a->loss || !a->has ||
                 !a->promoted || !a->order || !a->ev;
        for (int r = 0; r < nrungs && !failed; r++)
            failed = !(a->entries[r] = ls_calloc((size_t)nunits, sizeof(int)));
        for (int u = 0; u < nunits && !failed; u++)
            failed = !(a->key[u] = ls_strdup(keys[u] ? keys[u] : ""));
    }
    if (failed) {
        ls_asha_free(a);
        return ls_err_set(err, LS_ENOMEM, "asha: out of memory");
    }
    *out = a;
    return 0;
}

void ls_asha_free(ls_asha *a)
{
    if (!a)
        return;
    for (int u = 0; a->key && u < a->nunits; u++)
        ls_free(a->key[u]);
    for (int r = 0; r < a->nrungs; r++)
        ls_free(a->entries[r]);
    ls_free(a->key);
    ls_free(a->state);
    ls_free(a->rung);
    ls_free(a->val);
    ls_free(a->loss);
    ls_free(a->has);
    ls_free(a->promoted);
    ls_free(a->order);
    ls_free(a->ev);
    ls_free(a);
}

int ls_asha_start(ls_asha *a, int u)
{
    if (u < 0 || u >= a->nunits || a->state[u] != LS_ASHA_NEW)
        return LS_EINVAL;
    a->state[u] = LS_ASHA_RUNNING;
    return 0;
}

int ls_asha_result(ls_asha *a, int u, double value, double loss,
                   const ls_asha_event **ev, ls_err *err)
{
    a->nev = 0;
    *ev = a->ev;
    if (u < 0 || u >= a->nunits)
        return ls_err_set(err, LS_EINVAL, "asha: no unit %d", u);
    if (a->state[u] == LS_ASHA_NEW)
        a->state[u] = LS_ASHA_RUNNING;
    if (a->state[u] != LS_ASHA_RUNNING)
        return ls_err_set(err, LS_EINVAL, "asha: unit %s has no result due", a->key[u]);
    int r = a->rung[u];
    a->val[at(a, u, r)] = isnan(value) ? NAN : value;
    a->loss[at(a, u, r)] = loss;
    a->has[at(a, u, r)] = 1;
    a->entries[r][a->nentries[r]++] = u;
    a->state[u] = r == a->nrungs - 1 ? LS_ASHA_DONE : LS_ASHA_WAITING;
    event(a, LS_ASHA_EV_RESULT, u, r, rank_rung(a, r));
    if (r == a->nrungs - 1)
        event(a, LS_ASHA_EV_DONE, u, r, a->nentries[r]);
    else
        promote_top(a, r, 0);
    close_complete(a);
    return a->nev;
}

ls_asha_state ls_asha_state_of(const ls_asha *a, int u) { return a->state[u]; }
int ls_asha_rung_of(const ls_asha *a, int u) { return a->rung[u]; }
int ls_asha_rung_size(const ls_asha *a, int r) { return a->nentries[r]; }
int ls_asha_rung_complete(const ls_asha *a, int r) { return a->complete[r]; }
int ls_asha_nrungs(const ls_asha *a) { return a->nrungs; }
int ls_asha_rung_epochs(const ls_asha *a, int r) { return a->epochs[r]; }

int ls_asha_finished(const ls_asha *a) { return a->complete[a->nrungs - 1]; }

int ls_asha_value(const ls_asha *a, int u, int r, double *value, double *loss)
{
    if (!a->has[at(a, u, r)])
        return 0;
    *value = a->val[at(a, u, r)];
    *loss = a->loss[at(a, u, r)];
    return 1;
}

int ls_asha_best(ls_asha *a)
{
    for (int r = a->nrungs - 1; r >= 0; r--)
        if (rank_rung(a, r) > 0 && valid(a->val[at(a, a->order[0], r)]))
            return a->order[0];
    return -1;
}

double ls_asha_mean(const double *v, int n)
{
    double s = 0;
    if (n < 1)
        return NAN;
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return NAN;
        s += v[i];
    }
    return s / n;
}
