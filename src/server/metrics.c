/* metrics.c - Prometheus text; see include/lstmsweep/metrics.h. */
#include "lstmsweep/metrics.h"
#include "lstmsweep/alloc.h"

#include <stdlib.h>

#include "lstmsweep/results.h"

static void gauge(FILE *f, const char *name, const char *help, double v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Sweep names are [A-Za-z0-9._-] (submit.h), so they need no escaping as
 * label values. */
static void per_sweep(FILE *f, const ls_sweep_info *w, size_t n)
{
    head(f, "lstmsweep_sweep_jobs", "gauge", "Jobs of a sweep by state.");
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < 4; s++)
            fprintf(f, "lstmsweep_sweep_jobs{sweep=\"%s\",state=\"%s\"} %zu\n", w[i].name,
                    ls_job_state_name((ls_job_state)s), w[i].by_state[s]);
    head(f, "lstmsweep_sweep_core_seconds_total", "counter",
         "Core-seconds the sweep's runs have used.");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "lstmsweep_sweep_core_seconds_total{sweep=\"%s\"} %.17g\n", w[i].name,
                w[i].core_s);
}

static void queue(FILE *f, const ls_sweep_info *w, size_t n)
{
    size_t queued = 0, running = 0, by_state[4] = {0};

    for (size_t i = 0; i < n; i++) {
        if (w[i].state == LS_SWEEP_ACTIVE)
            queued += w[i].by_state[LS_JOB_QUEUED];
        running += w[i].by_state[LS_JOB_RUNNING];
        if ((unsigned)w[i].state < 4)
            by_state[w[i].state]++;
    }
    gauge(f, "lstmsweep_queued_jobs", "Queued jobs of active sweeps.", (double)queued);
    gauge(f, "lstmsweep_running_jobs", "Jobs running now.", (double)running);
    head(f, "lstmsweep_sweeps", "gauge", "Sweeps by state.");
    for (int s = 0; s < 4; s++)
        fprintf(f, "lstmsweep_sweeps{state=\"%s\"} %zu\n",
                ls_sweep_state_name((ls_sweep_state)s), by_state[s]);
}

static void node(FILE *f, const ls_api_hooks *h)
{
    ls_node_status st = {0};

    if (h->node_status)
        h->node_status(h->ctx, &st);
    gauge(f, "lstmsweep_cores", "Cores the scheduler may use.", st.total_cores);
    gauge(f, "lstmsweep_cores_busy", "Cores held by running jobs.", st.busy_cores);
    gauge(f, "lstmsweep_memory_bytes", "Memory the scheduler may use.", st.mem_total_bytes);
    gauge(f, "lstmsweep_memory_used_bytes", "Memory held by running jobs.", st.mem_used_bytes);
    gauge(f, "lstmsweep_train_samples_per_second", "Training samples per second, all jobs.",
          st.samples_per_s);
}

int ls_metrics_write(ls_store *store, const ls_api_hooks *hooks, FILE *f, ls_err *err)
{
    ls_sweep_info *w;
    size_t n, finished[LS_NSTATUS];
    int rc = ls_store_sweeps(store, &w, &n, err);

    if (rc || (rc = ls_store_finished(store, finished, err))) {
        ls_free(w);     /* NULL if ls_store_sweeps failed */
        return rc;
    }
    queue(f, w, n);
    node(f, hooks);
    head(f, "lstmsweep_jobs_finished_total", "counter", "Jobs ended with a final row, by status.");
    for (int s = LS_STATUS_OK; s <= LS_STATUS_FAILED; s++)
        fprintf(f, "lstmsweep_jobs_finished_total{status=\"%s\"} %zu\n",
                ls_status_name((ls_status)s), finished[s]);
    per_sweep(f, w, n);
    ls_free(w);
    return 0;
}
