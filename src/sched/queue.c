/* queue.c - a sweep's jobs prepared for scheduling; see
 * include/lstmsweep/queue.h. */
#include "lstmsweep/queue.h"
#include "lstmsweep/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lstmsweep/cost.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/shard.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/train.h"

#define OOM(err) ls_err_set(err, LS_ENOMEM, "out of memory")

/* Step 1: every job with its id and its cost from the job alone. */
static int list_jobs(ls_queue_stage *st, const ls_sweep *sw, ls_err *err)
{
    size_t n = sw->njobs ? sw->njobs : 1;
    st->e = ls_calloc(n, sizeof *st->e);
    st->pj = ls_calloc(n, sizeof *st->pj);
    if (!st->e || !st->pj)
        return OOM(err);
    /* ls_sweep_load rejects a sweep that lists the same job twice, so the
     * job ids are distinct here. */
    for (size_t i = 0; i < sw->njobs; i++) {
        ls_queue_entry *e = &st->e[i];
        e->job = sw->jobs[i];
        e->data = -1;
        ls_job_id(&e->job, e->id);
        ls_result_init(&e->res);
        st->pj[i].est_s = ls_cost_job_seconds(&e->job, &e->eval_every);
        st->pj[i].useful = ls_job_useful_threads(&e->job);
        /* the sweep's own setting, where the run's options leave it open
         * (`run` folds it into them; the server's sweeps each have theirs) */
        st->pj[i].threads = sw->threads_per_job;
    }
    st->n = sw->njobs;
    return 0;
}

/* Step 2: keep only shard o->shard_index of o->shard_count. */
static int keep_shard(ls_queue_stage *st, const ls_run_opts *o, ls_err *err)
{
    int rc = 0;
    if (o->shard_count <= 1)
        return 0;
    size_t n = st->n ? st->n : 1;
    double *cost = ls_alloc(sizeof *cost * n);
    char (*ids)[LS_JOB_ID_LEN] = ls_alloc(sizeof *ids * n);
    int *shard = ls_alloc(sizeof *shard * n);
    if (!cost || !ids || !shard) {
        rc = OOM(err);
        goto out;
    }
    for (size_t i = 0; i < st->n; i++) {
        cost[i] = st->pj[i].est_s;
        memcpy(ids[i], st->e[i].id, LS_JOB_ID_LEN);
    }
    if ((rc = ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])ids, st->n,
                              o->shard_count, shard, err)))
        goto out;
    size_t w = 0;
    for (size_t i = 0; i < st->n; i++)
        if (shard[i] == o->shard_index) {
            st->e[w] = st->e[i];
            st->pj[w++] = st->pj[i];
        }
    st->n = w;
out:
    ls_free(cost);
    ls_free(ids);
    ls_free(shard);
    return rc;
}

/* ---- step 3: jobs with a final row ---------------------------------- */

typedef struct done_set {
    char (*ids)[LS_JOB_ID_LEN];
    size_t n, cap;
    int retry_failed, id_col, status_col;
} done_set;

static int done_row(void *ctx, const char *path, long line, int nf, char **f,
                    ls_err *err)
{
    done_set *d = ctx;
    ls_status st;
    (void)nf;
    if (ls_status_parse(f[d->status_col], &st) != 0)
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: unknown status '%s'", path,
                          line, f[d->status_col]);
    if (!ls_status_final(st, d->retry_failed))
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 256;
        void *p = ls_realloc(d->ids, cap * sizeof *d->ids);
        if (!p)
            return OOM(err);
        d->ids = p;
        d->cap = cap;
    }
    snprintf(d->ids[d->n++], LS_JOB_ID_LEN, "%s", f[d->id_col]);
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* d->ids sorted (read_done sorts them), so a sweep of 100,000 jobs over a
 * results file as long resumes in O(n log n). */
static int is_done(const done_set *d, const char *id)
{
    return d->n && bsearch(id, d->ids, d->n, sizeof *d->ids, cmp_id) != NULL;
}

static int read_done(const ls_sweep *sw, const ls_run_opts *o, done_set *d,
                     ls_err *err)
{
    int torn = 0, rc;
    struct stat st;

    d->retry_failed = o->retry_failed;
    d->id_col = ls_csv_column(LS_RESULTS_COLUMNS, "job_id");
    d->status_col = ls_csv_column(LS_RESULTS_COLUMNS, "status");
    if (stat(sw->results, &st) != 0 || st.st_size == 0)
        return 0;                          /* nothing done yet */
    rc = ls_csv_read(sw->results, LS_RESULTS_COLUMNS, done_row, d, &torn, err);
    if (!rc && d->n)
        qsort(d->ids, d->n, sizeof *d->ids, cmp_id);
    if (!rc && torn && o->log)
        fprintf(o->log, "lstmsweep: note: %s ends in a torn line (a crash "
                "while writing); it is ignored and its job reruns\n", sw->results);
    return rc;
}

static int mark_done(ls_queue_stage *st, const ls_sweep *sw, const ls_run_opts *o,
                     ls_err *err)
{
    done_set done = {0};
    int rc = read_done(sw, o, &done, err);
    const ls_run_hooks *h = o->hooks;
    for (size_t i = 0; !rc && i < st->n; i++)
        if (is_done(&done, st->e[i].id) ||
            (h && h->wanted && !h->wanted(h->ctx, sw, st->e[i].id))) {
            st->e[i].skipped = 1;
            st->pj[i].state = LS_PLACE_DONE;
            st->already_done++;
        }
    ls_free(done.ids);
    return rc;
}

/* ---- step 4: data and exact costs of the jobs left to run ------------- */

static void data_key(const ls_job *j, char *buf, size_t len)
{
    /* The validation split is set aside at load time, so it is part of the
     * data set a job shares with others. */
    if (j->task == LS_TASK_BITCOUNT)
        snprintf(buf, len, "bitcount:%d:%ld:%llu:%ld", j->bits, j->train_size,
                 (unsigned long long)j->seed, ls_job_val_size(j));
    else
        snprintf(buf, len, "mnist:%ld:%s", ls_job_val_size(j), j->data);
}

static ls_queue_data *data_new(const char *key, int nnodes)
{
    ls_queue_data *d = ls_calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (!(d->node = ls_calloc((size_t)nnodes, sizeof *d->node))) {
        ls_free(d);
        return NULL;
    }
    snprintf(d->key, sizeof d->key, "%s", key);
    d->nnodes = nnodes;
    pthread_mutex_init(&d->lock, NULL);
    return d;
}

static void data_free(ls_queue_data *d)
{
    if (!d)
        return;
    ls_dataset_destroy(d->main);
    /* node copies exist only where nnodes > 1; node is NULL-padded */
    for (int nd = 0; nd < d->nnodes; nd++)
        if (d->node[nd] != d->main)
            ls_dataset_destroy(d->node[nd]);
    ls_free(d->node);
    pthread_mutex_destroy(&d->lock);
    ls_free(d);
}

/* The data set of index i: the queue's (i < ndata) or the stage's. */
static ls_queue_data *data_at(const ls_queue *q, const ls_queue_stage *st, int i)
{
    return i < q->ndata ? q->data[i] : st->data[i - q->ndata];
}

/* Index of the job's data set, shared with the queue's jobs or loaded
 * into the stage the first time. */
static int data_index(ls_queue *q, ls_queue_stage *st, const ls_job *j, ls_err *err)
{
    char key[sizeof q->data[0]->key];
    data_key(j, key, sizeof key);
    for (int i = 0; i < q->ndata + st->ndata; i++) {
        const ls_queue_data *d = data_at(q, st, i);
        if (d && !strcmp(d->key, key))
            return i;
    }
    ls_queue_data **a = ls_realloc(st->data, sizeof *a * (size_t)(st->ndata + 1));
    if (!a)
        return OOM(err);
    st->data = a;
    if (!(a[st->ndata] = data_new(key, q->nnodes)))
        return OOM(err);
    ls_queue_data *d = a[st->ndata++];
    int rc = ls_train_load_data(j, &d->main, err);
    if (rc)
        return rc;
    /* On several nodes, the copy loaded here serves the node it landed on
     * (first touch by this unbound thread), bound there so that the other
     * nodes' threads reading it for their own copies do not pull pages
     * over (topo.h: ls_topo_bind_areas). */
    if (q->nnodes > 1) {
        ls_area ar[4];
        size_t na = ls_dataset_areas(d->main, ar, 4);
        int k = ls_topo_area_node(q->topo, ar, na);
        if (k >= 0) {
            (void)ls_topo_bind_areas(q->topo, ar, na, k);
            d->node[k] = d->main;
        }
    }
    return q->ndata + st->ndata - 1;
}

static int cost_exactly(ls_queue *q, ls_queue_stage *st, size_t i, ls_err *err)
{
    ls_queue_entry *e = &st->e[i];
    const ls_job *j = &e->job;
    int di = data_index(q, st, j, err);
    if (di < 0)
        return di;
    const ls_dataset *ds = data_at(q, st, di)->main;
    ls_model_config cfg;
    size_t n_train = ls_train_config(j, ds, &cfg);
    e->data = di;
    e->eval_every = j->eval_every > 0 ? j->eval_every : ls_train_auto_eval_every(ds);
    st->pj[i].est_s = ls_cost_seconds(j, n_train, ls_dataset_size(ds, LS_SPLIT_EVAL),
                                      e->eval_every);
    st->pj[i].mem = ls_train_estimate_bytes(&cfg, ds, n_train);
    if (st->pj[i].mem == 0)
        return ls_err_set(err, LS_EINVAL, "job %s: oneDNN rejects its shape", e->id);
    return 0;
}

void ls_queue_stage_free(ls_queue_stage *st)
{
    for (int i = 0; i < st->ndata; i++)
        data_free(st->data[i]);
    ls_free(st->data);
    ls_free(st->e);
    ls_free(st->pj);
    memset(st, 0, sizeof *st);
}

int ls_queue_stage_sweep(ls_queue *q, ls_queue_stage *st, const ls_sweep *sw, double used_s,
                   ls_err *err)
{
    int rc;
    memset(st, 0, sizeof *st);
    st->sw = sw;
    st->used_s = used_s;
    if (!(rc = list_jobs(st, sw, err)) && !(rc = keep_shard(st, q->o, err)))
        rc = mark_done(st, sw, q->o, err);
    for (size_t i = 0; !rc && i < st->n; i++)
        if (!st->e[i].skipped)
            rc = cost_exactly(q, st, i, err);
    if (rc)
        ls_queue_stage_free(st);
    return rc;
}

/* ---- step 5: groups, order and policy ---------------------------------- */

static int cmp_order(const void *a, const void *b, void *ctx)
{
    const ls_queue *q = ctx;
    size_t i = *(const size_t *)a, k = *(const size_t *)b;
    const ls_queue_group *gi = q->e[i].g, *gk = q->e[k].g;
    if (gi != gk) {                   /* gone groups (NULL) last */
        if (!gi || !gk)
            return gi ? -1 : 1;
        if (gi->key != gk->key)
            return gi->key < gk->key ? -1 : 1;
        return gi->seq < gk->seq ? -1 : 1;
    }
    if (q->pj[i].est_s != q->pj[k].est_s)
        return q->pj[i].est_s > q->pj[k].est_s ? -1 : 1;
    return strcmp(q->e[i].id, q->e[k].id);
}

void ls_queue_order(ls_queue *q, double now)
{
    for (int g = 0; g < q->ngroups; g++)
        q->groups[g]->key = q->groups[g]->used_s;
    for (size_t i = 0; i < q->n; i++)
        if (q->pj[i].state == LS_PLACE_RUNNING && q->e[i].g && now > q->pj[i].start)
            q->e[i].g->key += q->pj[i].k * (now - q->pj[i].start);
    for (int g = 0; g < q->ngroups; g++)
        q->groups[g]->key /= q->groups[g]->weight;
    for (size_t i = 0; i < q->n; i++)
        q->order[i] = i;
    if (q->n)                /* an empty queue (a fed run's start) has no array */
        qsort_r(q->order, q->n, sizeof *q->order, cmp_order, q);
}

static void update_limit(ls_queue *q)
{
    q->place.mem_limit = q->mem_base > q->data_bytes ? q->mem_base - q->data_bytes : 0;
}

static int grow(ls_queue *q, size_t more)
{
    if (q->n + more <= q->cap)
        return 0;
    size_t cap = q->cap ? q->cap : 64;
    while (cap < q->n + more)
        cap *= 2;
    ls_queue_entry *e = ls_realloc(q->e, cap * sizeof *e);
    if (e)
        q->e = e;
    ls_place_job *pj = ls_realloc(q->pj, cap * sizeof *pj);
    if (pj)
        q->pj = pj;
    size_t *order = ls_realloc(q->order, cap * sizeof *order);
    if (order)
        q->order = order;
    if (!e || !pj || !order)
        return LS_ENOMEM;
    q->cap = cap;
    return 0;
}

ls_queue_group *ls_queue_commit(ls_queue *q, ls_queue_stage *st)
{
    ls_queue_group *g = ls_calloc(1, sizeof *g);
    ls_queue_group **gs = g ? ls_realloc(q->groups, sizeof *gs * (size_t)(q->ngroups + 1)) : NULL;
    ls_queue_data **ds = gs ? ls_realloc(q->data, sizeof *ds * (size_t)(q->ndata + st->ndata + 1)) : NULL;
    if (gs)
        q->groups = gs;
    if (ds)
        q->data = ds;
    if (!ds || grow(q, st->n)) {
        ls_free(g);
        ls_queue_stage_free(st);
        return NULL;
    }
    *g = (ls_queue_group){.sw = st->sw, .seq = q->next_seq++, .used_s = st->used_s,
                          .weight = 1};
    q->groups[q->ngroups++] = g;
    for (int i = 0; i < st->ndata; i++) {
        ls_queue_data *d = st->data[i];
        int aliased = 0;
        for (int k = 0; k < d->nnodes; k++)
            aliased |= d->node[k] == d->main;
        /* one copy a node, and the loaded one beside them unless it is one */
        d->charged = ls_dataset_bytes(d->main) *
                     (size_t)(d->nnodes > 1 ? d->nnodes + !aliased : 1);
        q->data[q->ndata++] = d;
        q->data_bytes += d->charged;
    }
    for (size_t i = 0; i < st->n; i++) {
        ls_queue_entry *e = &q->e[q->n];
        *e = st->e[i];
        e->g = g;
        q->pj[q->n++] = st->pj[i];
        if (!e->skipped) {
            g->live++;
            q->data[e->data]->users++;
            ls_place_add(&q->place, &q->pj[q->n - 1]);
        }
    }
    q->already_done += st->already_done;
    update_limit(q);
    ls_free(st->data);
    ls_free(st->e);
    ls_free(st->pj);
    memset(st, 0, sizeof *st);
    ls_queue_order(q, 0);
    return g;
}

int ls_queue_init(ls_queue *q, const ls_topo *topo, const ls_run_opts *o, ls_err *err)
{
    int ncores = ls_topo_ncores(topo);
    memset(q, 0, sizeof *q);
    q->o = o;
    q->topo = topo;
    q->nnodes = ls_topo_nnodes(topo);
    if (!(q->core_node = ls_alloc(sizeof *q->core_node * (size_t)(ncores > 0 ? ncores : 1))))
        return OOM(err);
    for (int c = 0; c < ncores; c++)
        q->core_node[c] = ls_topo_core_node(topo, c);
    q->mem_base = o->mem_limit ? o->mem_limit : ls_sys_available_memory() / 10 * 9;
    return ls_place_init(&q->place, ncores, q->nnodes, q->core_node, q->mem_base,
                         o->threads_per_job, NULL, 0, err);
}

int ls_queue_prepare(ls_queue *q, const ls_sweep *sw, const ls_topo *topo,
                     const ls_run_opts *o, ls_err *err)
{
    ls_queue_stage st;
    int rc = ls_queue_init(q, topo, o, err);
    if (!rc && !(rc = ls_queue_stage_sweep(q, &st, sw, 0, err)) && !ls_queue_commit(q, &st))
        rc = OOM(err);
    return rc;
}

void ls_queue_release(ls_queue *q, size_t i)
{
    ls_queue_entry *e = &q->e[i];
    if (e->g && e->g->live)
        e->g->live--;
    if (e->data >= 0 && q->data[e->data] && q->data[e->data]->users)
        q->data[e->data]->users--;
}

/* Drop the entries of gone groups (nothing runs: no index is held). */
static void compact(ls_queue *q)
{
    size_t w = 0;
    for (size_t i = 0; i < q->n; i++)
        if (q->e[i].g) {
            q->e[w] = q->e[i];
            q->pj[w++] = q->pj[i];
        }
    q->n = w;
    ls_queue_order(q, 0);
}

int ls_queue_reap(ls_queue *q, void (*done)(void *ctx, const ls_sweep *sw), void *ctx)
{
    int w = 0;
    for (int g = 0; g < q->ngroups; g++) {
        ls_queue_group *G = q->groups[g];
        if (G->live) {
            q->groups[w++] = G;
            continue;
        }
        for (size_t i = 0; i < q->n; i++)
            if (q->e[i].g == G)
                q->e[i].g = NULL;
        if (done)
            done(ctx, G->sw);
        ls_free(G);
    }
    q->ngroups = w;
    for (int i = 0; i < q->ndata; i++)
        if (q->data[i] && !q->data[i]->users) {
            q->data_bytes -= q->data[i]->charged;
            data_free(q->data[i]);
            q->data[i] = NULL;
        }
    update_limit(q);
    if (q->place.running == 0)
        compact(q);
    return w;
}

void ls_queue_free(ls_queue *q)
{
    for (int i = 0; i < q->ndata; i++)
        data_free(q->data[i]);
    for (int g = 0; g < q->ngroups; g++)
        ls_free(q->groups[g]);
    ls_free(q->groups);
    ls_free(q->data);
    ls_free(q->e);
    ls_free(q->pj);
    ls_free(q->order);
    ls_free(q->core_node);
    ls_place_free(&q->place);
}

void ls_queue_describe(const ls_queue_entry *e, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%-8s H%-4d B%-5d L%d drop%-4g seed%-3llu %5d ep",
                     ls_task_name(e->job.task), e->job.hidden, e->job.batch,
                     e->job.layers, e->job.dropout, (unsigned long long)e->job.seed,
                     e->job.epochs);
    if (e->job.cell != LS_CELL_LSTM && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " %s", ls_cell_name(e->job.cell));
    if (e->job.precision != LS_PREC_F32 && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " %s", ls_precision_name(e->job.precision));
}
