/* plan.c - the dry run, ls_runner_plan (see include/lstmsweep/runner.h),
 * and the simulation it prints (see include/lstmsweep/plan.h): the
 * dispatcher on estimated durations, through the same placement policy
 * (place.h) as the real run. */
#include "lstmsweep/runner.h"

#include <math.h>
#include <stdio.h>

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

int ls_runner_plan(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                   FILE *out, ls_err *err)
{
    ls_queue q;
    char est[32], at[32];
    double work = 0, longest = 0;
    int rc = ls_queue_prepare(&q, sw, topo, o, err);

    if (!rc) {
        for (size_t i = 0; i < q.n; i++)
            if (q.pj[i].state == LS_PLACE_PENDING) {
                work += q.pj[i].est_s;
                longest = fmax(q.pj[i].est_s, longest);
            }
        double makespan = ls_plan_simulate(&q.place, q.pj, q.order, q.n);
        fprintf(out, "sweep %s: %zu job(s), %zu already done; results %s\n",
                sw->name, q.n, q.already_done, sw->results);
        fprintf(out, "%-16s %-44s %9s %9s %3s %-8s %4s %9s\n", "job_id", "job",
                "est_1core", "memory", "thr", "cpus", "node", "starts_at");
        for (size_t i = 0; i < q.n; i++)
            print_job(&q, topo, q.order[i], out);
        double bound = fmax(work / q.place.ncores, longest);
        ls_sys_format_duration(makespan, est, sizeof est);
        ls_sys_format_duration(bound, at, sizeof at);
        fprintf(out, "estimated makespan %s on %d core(s) (lower bound %s); "
                "estimates are from a fixed cost model, real times vary by machine\n",
                est, q.place.ncores, at);
    }
    ls_queue_free(&q);
    return rc;
}
