/* plan.c - the dry run, ls_runner_plan (see include/lstmsweep/runner.h),
 * and the simulation it prints (see include/lstmsweep/plan.h): the
 * dispatcher on estimated durations, through the same placement policy
 * (place.h) as the real run. */
#include "lstmsweep/runner.h"
#include "lstmsweep/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lstmsweep/cost.h"
#include "lstmsweep/plan.h"
#include "lstmsweep/queue.h"
#include "lstmsweep/sysinfo.h"

double ls_plan_simulate(ls_place *p, ls_place_job *jobs, const size_t *order,
                        size_t n)
{
    double now = 0, makespan = 0;
    for (;;) {
        while (ls_place_next(p, jobs, order, n, now) >= 0)
            ;
        if (p->running == 0)
            break;
        size_t next = n;               /* the running job that ends first */
        for (size_t k = 0; k < n; k++)
            if (jobs[k].state == LS_PLACE_RUNNING &&
                (next == n || ls_place_est_end(p, &jobs[k]) < ls_place_est_end(p, &jobs[next])))
                next = k;
        now = ls_place_est_end(p, &jobs[next]);
        makespan = now > makespan ? now : makespan;
        ls_place_finish(p, &jobs[next]);
    }
    return makespan;
}

static void print_job(const ls_queue *q, const ls_topo *topo, size_t i, FILE *out)
{
    const ls_queue_entry *e = &q->e[i];
    const ls_place_job *j = &q->pj[i];
    char desc[128], cpus[64], est[32], at[32];

    ls_queue_describe(e, desc, sizeof desc);
    ls_sys_format_duration(j->est_s, est, sizeof est);
    if (e->skipped) {
        fprintf(out, "%-16s %-44s %9s %9s %3s %-8s %4s %9s\n", e->id, desc,
                est, "-", "-", "-", "-", "done");
        return;
    }
    if (j->k == 0) {
        fprintf(out, "%-16s %-44s %9s %8.2fG %3s %-8s %4s %9s\n", e->id,
                desc, est, j->mem / 1073741824.0, "-", "-", "-", "TOO BIG");
        return;
    }
    ls_topo_cpulist(topo, j->cores, j->k, cpus, sizeof cpus);
    ls_sys_format_duration(j->start, at, sizeof at);
    fprintf(out, "%-16s %-44s %9s %8.1fM %3d %-8s %4d %9s\n", e->id, desc,
            est, j->mem / 1048576.0, j->k, cpus,
            ls_topo_node_os_index(topo, j->node), at);
}

typedef struct mem_event {
    double t;
    long delta;             /* bytes / 4096: +start, -end */
} mem_event;

static int by_time(const void *a, const void *b)
{
    const mem_event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->delta < y->delta ? -1 : x->delta > y->delta; /* ends first */
}

/* The most bytes the simulated jobs of node nd hold at once. */
static size_t node_peak(const ls_queue *q, int nd, mem_event *ev)
{
    size_t m = 0;
    long now = 0, peak = 0;
    for (size_t i = 0; i < q->n; i++) {
        const ls_place_job *j = &q->pj[i];
        if (q->e[i].skipped || j->k == 0 || j->node != nd)
            continue;
        long pages = (long)(j->mem / 4096 + 1);
        ev[m++] = (mem_event){j->start, pages};
        ev[m++] = (mem_event){ls_place_est_end(&q->place, j), -pages};
    }
    qsort(ev, m, sizeof *ev, by_time);
    for (size_t i = 0; i < m; i++) {
        now += ev[i].delta;
        peak = now > peak ? now : peak;
    }
    return (size_t)peak * 4096;
}

/* Bytes of the data copies node nd gets: one of each data set its jobs use. */
static size_t node_data(const ls_queue *q, int nd)
{
    size_t bytes = 0;
    for (int d = 0; d < q->ndata; d++)
        for (size_t i = 0; q->data[d] && i < q->n; i++)
            if (q->e[i].data == d && !q->e[i].skipped && q->pj[i].k && q->pj[i].node == nd) {
                bytes += ls_dataset_bytes(q->data[d]->main);
                break;
            }
    return bytes;
}

/* Per node: the simulated peak of its jobs' memory and its data copies,
 * against what hwloc says the node has. */
static void print_nodes(const ls_queue *q, const ls_topo *topo, FILE *out)
{
    mem_event *ev = ls_alloc(sizeof *ev * (2 * q->n + 1));
    if (!ev)
        return;
    for (int nd = 0; nd < q->place.nnodes; nd++) {
        size_t jobs = node_peak(q, nd, ev), data = node_data(q, nd);
        size_t have = ls_topo_node_memory(topo, nd);
        fprintf(out, "node %d: jobs' memory at most %.2f GiB + data copies %.2f GiB",
                ls_topo_node_os_index(topo, nd), jobs / 1073741824.0, data / 1073741824.0);
        if (have)
            fprintf(out, " of %.1f GiB%s", have / 1073741824.0,
                    jobs + data > have ? " - MORE THAN THE NODE HAS (remote memory)" : "");
        fputc('\n', out);
    }
    ls_free(ev);
}

int ls_runner_plan(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                   FILE *out, ls_err *err)
{
    ls_queue q;
    char est[32], at[32];
    double work = 0, longest = 0, fastest = 0;
    int rc = ls_queue_prepare(&q, sw, topo, o, err);

    if (!rc) {
        for (size_t i = 0; i < q.n; i++)
            if (q.pj[i].state == LS_PLACE_PENDING) {
                work += q.pj[i].est_s;
                longest = fmax(q.pj[i].est_s, longest);
                /* as fast as it can go: all the threads that help, in a node */
                int k = q.place.threads_per_job > 0 ? q.place.threads_per_job
                        : q.pj[i].useful < q.place.max_node_cores ? q.pj[i].useful
                        : q.place.max_node_cores;
                fastest = fmax(q.pj[i].est_s / ls_cost_speedup(k), fastest);
            }
        double makespan = ls_plan_simulate(&q.place, q.pj, q.order, q.n);
        fprintf(out, "sweep %s: %zu job(s), %zu already done; results %s\n",
                sw->name, q.n, q.already_done, sw->results);
        fprintf(out, "%-16s %-44s %9s %9s %3s %-8s %4s %9s\n", "job_id", "job",
                "est_1core", "memory", "thr", "cpus", "node", "starts_at");
        for (size_t i = 0; i < q.n; i++)
            print_job(&q, topo, q.order[i], out);
        /* No schedule beats the work on every core (widening only adds
         * work) nor its longest job at its widest (cost.h's speedup). */
        double bound = fmax(work / q.place.ncores, fastest);
        ls_sys_format_duration(makespan, est, sizeof est);
        ls_sys_format_duration(bound, at, sizeof at);
        fprintf(out, "estimated makespan %s on %d core(s) (lower bound %s); "
                "estimates are from a fixed cost model, real times vary by machine\n",
                est, q.place.ncores, at);
        fprintf(out, "work %.2f core-hours, longest job %.2f h on one core, %.2f h at its "
                "widest; makespan %.3f h, lower bound %.3f h\n", work / 3600, longest / 3600,
                fastest / 3600, makespan / 3600, bound / 3600);
        print_nodes(&q, topo, out);
    }
    ls_queue_free(&q);
    return rc;
}
