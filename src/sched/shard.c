/* shard.c - see include/lstmsweep/shard.h. */
#include "lstmsweep/shard.h"
#include "lstmsweep/alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct item {
    double cost;
    const char *id;
    size_t index;
} item;

static int by_cost_then_id(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return strcmp(x->id, y->id);
}

int ls_shard_assign(const double *cost, const char (*ids)[LS_JOB_ID_LEN],
                    size_t n, int nshards, int *shard_of, ls_err *err)
{
    item *it;
    double *load;

    if (nshards < 1)
        return ls_err_set(err, LS_EINVAL, "shards: need at least 1, got %d", nshards);
    it = ls_alloc(sizeof *it * (n ? n : 1));
    load = ls_calloc((size_t)nshards, sizeof *load);
    if (!it || !load) {
        ls_free(it);
        ls_free(load);
        return ls_err_set(err, LS_ENOMEM, "shards: out of memory for %zu jobs", n);
    }
    for (size_t i = 0; i < n; i++)
        it[i] = (item){cost[i], ids[i], i};
    qsort(it, n, sizeof *it, by_cost_then_id);
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int s = 1; s < nshards; s++)
            if (load[s] < load[best])
                best = s;
        load[best] += it[i].cost;
        shard_of[it[i].index] = best;
    }
    ls_free(it);
    ls_free(load);
    return 0;
}
