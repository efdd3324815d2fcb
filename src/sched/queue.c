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
static int list_jobs(ls_queue *q, const ls_sweep *sw, ls_err *err)
{
    size_t n = sw->njobs ? sw->njobs : 1;
    q->e = ls_calloc(n, sizeof *q->e);
    q->pj = ls_calloc(n, sizeof *q->pj);
    if (!q->e || !q->pj)
        return OOM(err);
    /* ls_sweep_load rejects a sweep that lists the same job twice, so the
     * job ids are distinct here. */
    for (size_t i = 0; i < sw->njobs; i++) {
        ls_queue_entry *e = &q->e[i];
        e->job = sw->jobs[i];
        e->data = -1;
        ls_job_id(&e->job, e->id);
        ls_result_init(&e->res);
        q->pj[i].est_s = ls_cost_job_seconds(&e->job, &e->eval_every);
        q->pj[i].useful = ls_job_useful_threads(&e->job);
    }
    q->n = sw->njobs;
    return 0;
}

/* Step 2: keep only shard o->shard_index of o->shard_count. */
static int keep_shard(ls_queue *q, const ls_run_opts *o, ls_err *err)
{
    int rc = 0;
    if (o->shard_count <= 1)
        return 0;
    size_t n = q->n ? q->n : 1;
    double *cost = ls_alloc(sizeof *cost * n);
    char (*ids)[LS_JOB_ID_LEN] = ls_alloc(sizeof *ids * n);
    int *shard = ls_alloc(sizeof *shard * n);
    if (!cost || !ids || !shard) {
        rc = OOM(err);
        goto out;
    }
    for (size_t i = 0; i < q->n; i++) {
        cost[i] = q->pj[i].est_s;
        memcpy(ids[i], q->e[i].id, LS_JOB_ID_LEN);
    }
    if ((rc = ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])ids, q->n,
                              o->shard_count, shard, err)))
        goto out;
    size_t w = 0;
    for (size_t i = 0; i < q->n; i++)
        if (shard[i] == o->shard_index) {
            q->e[w] = q->e[i];
            q->pj[w++] = q->pj[i];
        }
    q->n = w;
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
    if (st == LS_STATUS_INTERRUPTED || (st == LS_STATUS_FAILED && d->retry_failed))
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

static int mark_done(ls_queue *q, const ls_sweep *sw, const ls_run_opts *o,
                     ls_err *err)
{
    done_set done = {0};
    int rc = read_done(sw, o, &done, err);
    const ls_run_hooks *h = o->hooks;
    for (size_t i = 0; !rc && i < q->n; i++)
        if (is_done(&done, q->e[i].id) || (h && h->wanted && !h->wanted(h->ctx, q->e[i].id))) {
            q->e[i].skipped = 1;
            q->pj[i].state = LS_PLACE_DONE;
            q->already_done++;
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

/* Index of the job's data set, loading it the first time. */
static int data_index(ls_queue *q, const ls_job *j, int nnodes, ls_err *err)
{
    char key[sizeof q->data[0].key];
    data_key(j, key, sizeof key);
    for (int i = 0; i < q->ndata; i++)
        if (!strcmp(q->data[i].key, key))
            return i;
    ls_queue_data *d = ls_realloc(q->data, sizeof *d * (size_t)(q->ndata + 1));
    if (!d)
        return OOM(err);
    q->data = d;
    d = &q->data[q->ndata];
    memset(d, 0, sizeof *d);
    snprintf(d->key, sizeof d->key, "%s", key);
    pthread_mutex_init(&d->lock, NULL);
    q->ndata++;
    if (!(d->node = ls_calloc((size_t)nnodes, sizeof *d->node)))
        return OOM(err);
    int rc = ls_train_load_data(j, &d->main, err);
    if (rc)
        return rc;
    q->data_bytes += ls_dataset_bytes(d->main);
    return q->ndata - 1;
}

static int cost_exactly(ls_queue *q, size_t i, int nnodes, ls_err *err)
{
    ls_queue_entry *e = &q->e[i];
    const ls_job *j = &e->job;
    int di = data_index(q, j, nnodes, err);
    if (di < 0)
        return di;
    const ls_dataset *ds = q->data[di].main;
    ls_model_config cfg;
    size_t n_train = ls_train_config(j, ds, &cfg);
    e->data = di;
    e->eval_every = j->eval_every > 0 ? j->eval_every : ls_train_auto_eval_every(ds);
    q->pj[i].est_s = ls_cost_seconds(j, n_train, ls_dataset_size(ds, LS_SPLIT_EVAL),
                                     e->eval_every);
    q->pj[i].mem = ls_train_estimate_bytes(&cfg, ds, n_train);
    if (q->pj[i].mem == 0)
        return ls_err_set(err, LS_EINVAL, "job %s: oneDNN rejects its shape", e->id);
    return 0;
}

/* ---- step 5: order and policy ------------------------------------------ */

static int cmp_est_desc(const void *a, const void *b, void *ctx)
{
    const ls_queue *q = ctx;
    size_t i = *(const size_t *)a, k = *(const size_t *)b;
    if (q->pj[i].est_s != q->pj[k].est_s)
        return q->pj[i].est_s > q->pj[k].est_s ? -1 : 1;
    return strcmp(q->e[i].id, q->e[k].id);
}

static int order_and_place(ls_queue *q, const ls_topo *topo, const ls_run_opts *o,
                           ls_err *err)
{
    int ncores = ls_topo_ncores(topo);
    q->order = ls_alloc(sizeof *q->order * (q->n ? q->n : 1));
    q->core_node = ls_alloc(sizeof *q->core_node * (size_t)ncores);
    if (!q->order || !q->core_node)
        return OOM(err);
    for (size_t i = 0; i < q->n; i++)
        q->order[i] = i;
    qsort_r(q->order, q->n, sizeof *q->order, cmp_est_desc, q);
    for (int c = 0; c < ncores; c++)
        q->core_node[c] = ls_topo_core_node(topo, c);
    size_t limit = o->mem_limit ? o->mem_limit : ls_sys_available_memory() / 10 * 9;
    limit = limit > q->data_bytes ? limit - q->data_bytes : 0;
    return ls_place_init(&q->place, ncores, ls_topo_nnodes(topo), q->core_node,
                         limit, o->threads_per_job, q->pj, q->n, err);
}

int ls_queue_prepare(ls_queue *q, const ls_sweep *sw, const ls_topo *topo,
                     const ls_run_opts *o, ls_err *err)
{
    int rc;
    memset(q, 0, sizeof *q);
    if ((rc = list_jobs(q, sw, err)) || (rc = keep_shard(q, o, err)) ||
        (rc = mark_done(q, sw, o, err)))
        return rc;
    for (size_t i = 0; i < q->n; i++)
        if (!q->e[i].skipped && (rc = cost_exactly(q, i, ls_topo_nnodes(topo), err)))
            return rc;
    return order_and_place(q, topo, o, err);
}

void ls_queue_free(ls_queue *q)
{
    for (int i = 0; i < q->ndata; i++) {
        ls_dataset_destroy(q->data[i].main);
        /* node copies exist only where nnodes > 1; node is NULL-padded */
        for (int nd = 0; q->data[i].node && nd < q->place.nnodes; nd++)
            ls_dataset_destroy(q->data[i].node[nd]);
        ls_free(q->data[i].node);
        pthread_mutex_destroy(&q->data[i].lock);
    }
    ls_free(q->data);
    ls_free(q->e);
    ls_free(q->pj);
    ls_free(q->order);
    ls_free(q->core_node);
    ls_place_free(&q->place);
}

void ls_queue_describe(const ls_queue_entry *e, char *buf, size_t len)
{
    snprintf(buf, len, "%-8s H%-4d B%-5d L%d drop%-4g seed%-3llu %5d ep",
             ls_task_name(e->job.task), e->job.hidden, e->job.batch,
             e->job.layers, e->job.dropout, (unsigned long long)e->job.seed,
             e->job.epochs);
}
