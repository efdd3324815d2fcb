/* results.c - the results rows: statuses and the row writer; see
 * include/lstmsweep/results.h. */
#include "lstmsweep/results.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lstmsweep/sysinfo.h"

static const char *status_names[] = {"ok", "diverged", "failed", "interrupted"};

const char *ls_status_name(ls_status s)
{
    return (unsigned)s < 4 ? status_names[s] : "unknown";
}

int ls_status_parse(const char *name, ls_status *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, status_names[i])) {
            *s = (ls_status)i;
            return 0;
        }
    return LS_EINVAL;
}

void ls_result_init(ls_result *r)
{
    memset(r, 0, sizeof *r);
    r->test_error = -1;
    r->numa_node = -1;
}

/* Append printf-style text to a growing line buffer. */
typedef struct line {
    char buf[8192];
    size_t n;
} line;

static void put(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(l->buf + l->n, sizeof l->buf - l->n, fmt, ap);
    va_end(ap);
    if (w > 0)
        l->n = l->n + (size_t)w < sizeof l->buf ? l->n + (size_t)w : sizeof l->buf - 1;
}

static void put_str(line *l, const char *s)
{
    char q[2048];
    if (ls_csv_quote(s, q, sizeof q) < 0)
        snprintf(q, sizeof q, "\"(field too long)\"");
    put(l, "%s,", q);
}

static void put_num(line *l, double v)
{
    if (v < 0)
        put(l, ",");
    else
        put(l, "%.6g,", v);
}

int ls_results_append(const char *path, const ls_job *job, const ls_result *r,
                      ls_err *err)
{
    line local, *lp = &local; /* each call formats into its own buffer */
    char id[LS_JOB_ID_LEN], onednn[32];

    lp->n = 0;
    ls_job_id(job, id);
    put(lp, "%s,", id);
    put_str(lp, job->sweep);
    put(lp, "%s,%d,%d,%d,%d,%.6g,%.6g,%llu,", ls_task_name(job->task),
        job->hidden, job->batch, job->layers, job->epochs, job->lr,
        job->dropout, (unsigned long long)job->seed);
    if (job->task == LS_TASK_BITCOUNT)
        put(lp, "%d,", job->bits);
    else
        put(lp, ",");
    put(lp, "%ld,", job->train_size);
    put_str(lp, job->task == LS_TASK_MNIST ? job->data : "");
    put_num(lp, job->target_error);
    put(lp, "%d,%s,%d,", job->eval_every, ls_status_name(r->status),
        r->epochs_run);
    put_num(lp, r->train_loss);
    put_num(lp, r->train_error);
    put_num(lp, r->test_error);
    put(lp, "%.3f,%.3f,%.3f,%.1f,%.3f,%d,", r->wall_s, r->train_s, r->eval_s,
        r->samples_per_s, r->gflops, r->threads);
    put_str(lp, r->cpus);
    if (r->numa_node >= 0)
        put(lp, "%d,", r->numa_node);
    else
        put(lp, ",");
    put_str(lp, r->host);
    put(lp, "%s,%s,", r->start_time, r->end_time);
    ls_sys_onednn_version(onednn, sizeof onednn);
    put(lp, "%s,%s,%s,", onednn, ls_sys_isa(), PACKAGE_VERSION);
    put_str(lp, r->message);
    lp->buf[lp->n - 1] = '\n'; /* the last field's comma ends the line */
    return ls_csv_append_line(path, LS_RESULTS_COLUMNS, lp->buf, 1, err);
}

int ls_curve_append(const char *path, const char *job_id, int epoch,
                    double train_loss, double train_error, double test_error,
                    double elapsed_s, ls_err *err)
{
    char buf[256];
    char te[32] = "";

    if (test_error >= 0)
        snprintf(te, sizeof te, "%.6g", test_error);
    snprintf(buf, sizeof buf, "%s,%d,%.6g,%.6g,%s,%.3f\n", job_id, epoch,
             train_loss, train_error, te, elapsed_s);
    return ls_csv_append_line(path, LS_CURVE_COLUMNS, buf, 0, err);
}
