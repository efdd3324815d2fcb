/* job.c - see include/lstmsweep/job.h. */
#include "lstmsweep/job.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lstmsweep/dataset.h"
#include "lstmsweep/lstm.h"
#include "lstmsweep/model.h"

void ls_job_defaults(ls_job *job, ls_task task)
{
    memset(job, 0, sizeof *job);
    job->task = task;
    job->layers = 1;
    job->lr = 0.001;
    job->seed = 1;
    job->bits = 20;
    job->target_error = -1;
    if (task == LS_TASK_BITCOUNT) {
        job->hidden = 24;
        job->batch = 1000;
        job->epochs = 600;
        job->train_size = 10000;
    } else {
        job->hidden = 128;
        job->batch = 100;
        job->epochs = 10;
        job->train_size = 0;
        snprintf(job->data, sizeof job->data, "data/mnist");
    }
}

const char *ls_task_name(ls_task task)
{
    return task == LS_TASK_BITCOUNT ? "bitcount" : "mnist";
}

int ls_task_parse(const char *name, ls_task *task)
{
    if (!strcmp(name, "bitcount"))
        *task = LS_TASK_BITCOUNT;
    else if (!strcmp(name, "mnist"))
        *task = LS_TASK_MNIST;
    else
        return LS_EINVAL;
    return 0;
}

int ls_job_validate(const ls_job *j, ls_err *err)
{
    /* Upper bounds keep a typo (hidden=10000000) from becoming an
     * out-of-memory crash; real sweeps stay far below them. */
    if (j->hidden < 1 || j->hidden > 8192)
        return ls_err_set(err, LS_EINVAL, "hidden must be in 1..8192, got %d", j->hidden);
    if (j->batch < 1 || j->batch > 1000000)
        return ls_err_set(err, LS_EINVAL, "batch must be in 1..1000000, got %d", j->batch);
    if (j->layers < 1 || j->layers > 16)
        return ls_err_set(err, LS_EINVAL, "layers must be in 1..16, got %d", j->layers);
    if (j->epochs < 1 || j->epochs > 10000000)
        return ls_err_set(err, LS_EINVAL, "epochs must be in 1..10000000, got %d", j->epochs);
    if (!(j->lr > 0) || !isfinite(j->lr))
        return ls_err_set(err, LS_EINVAL, "lr must be a positive number, got %g", j->lr);
    if (!(j->dropout >= 0 && j->dropout < 1))
        return ls_err_set(err, LS_EINVAL, "dropout must be in [0, 1), got %g", j->dropout);
    if (j->eval_every < 0)
        return ls_err_set(err, LS_EINVAL, "eval_every must be >= 0, got %d", j->eval_every);
    if (j->threads < 0 || j->threads > 4096)
        return ls_err_set(err, LS_EINVAL, "threads must be in 0..4096, got %d", j->threads);
    if (j->task == LS_TASK_BITCOUNT) {
        if (j->bits < 1 || j->bits > LS_BITCOUNT_MAX_BITS)
            return ls_err_set(err, LS_EINVAL, "bits must be in 1..%d, got %d",
                              LS_BITCOUNT_MAX_BITS, j->bits);
        if (j->train_size < 1 || (unsigned long)j->train_size >= (1UL << j->bits))
            return ls_err_set(err, LS_EINVAL,
                              "train_size must be in 1..%lu for bits=%d, got %ld",
                              (1UL << j->bits) - 1, j->bits, j->train_size);
    } else {
        if (j->train_size < 0)
            return ls_err_set(err, LS_EINVAL, "train_size must be >= 0, got %ld",
                              j->train_size);
        if (!j->data[0])
            return ls_err_set(err, LS_EINVAL, "mnist needs a data directory");
    }
    return 0;
}

void ls_job_canonical(const ls_job *j, char *buf, size_t len)
{
    int n = snprintf(buf, len,
                     "task=%s hidden=%d batch=%d layers=%d epochs=%d lr=%.17g "
                     "dropout=%.17g seed=%llu eval_every=%d target_error=%.17g",
                     ls_task_name(j->task), j->hidden, j->batch, j->layers,
                     j->epochs, j->lr, j->dropout, (unsigned long long)j->seed,
                     j->eval_every, j->target_error < 0 ? -1.0 : j->target_error);
    if (n < 0 || (size_t)n >= len)
        return;
    if (j->task == LS_TASK_BITCOUNT)
        snprintf(buf + n, len - n, " bits=%d train_size=%ld", j->bits, j->train_size);
    else
        snprintf(buf + n, len - n, " train_size=%ld data=%s", j->train_size, j->data);
}

void ls_job_id(const ls_job *job, char id[LS_JOB_ID_LEN])
{
    char text[LS_JOB_PATH_MAX + 512];
    uint64_t h = 0xcbf29ce484222325ULL;

    ls_job_canonical(job, text, sizeof text);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    snprintf(id, LS_JOB_ID_LEN, "%016llx", (unsigned long long)h);
}

/* ---- key table ---------------------------------------------------------- */

typedef enum { K_TASK, K_INT, K_LONG, K_U64, K_DOUBLE, K_STR } key_kind;

typedef struct key_def {
    ls_job_key pub;
    key_kind kind;
    size_t offset;
} key_def;

#define KEY(n, k, field, h) {{n, h}, k, offsetof(ls_job, field)}
static const key_def keys[] = {
    KEY("task", K_TASK, task, "bitcount | mnist"),
    KEY("hidden", K_INT, hidden, "LSTM units per layer"),
    KEY("batch", K_INT, batch, "training mini-batch size"),
    KEY("layers", K_INT, layers, "stacked LSTM layers"),
    KEY("epochs", K_INT, epochs, "maximum epochs"),
    KEY("lr", K_DOUBLE, lr, "Adam learning rate"),
    KEY("dropout", K_DOUBLE, dropout, "drop rate after each LSTM layer (training only)"),
    KEY("seed", K_U64, seed, "seed of data split, init, shuffles, dropout"),
    KEY("bits", K_INT, bits, "bitcount: bits per string (<= 30)"),
    KEY("train_size", K_LONG, train_size,
        "bitcount: training strings; mnist: first N training images (0 = all)"),
    KEY("data", K_STR, data, "mnist: directory with the four IDX files"),
    KEY("target_error", K_DOUBLE, target_error,
        "stop once test error <= this fraction (-1 = never)"),
    KEY("eval_every", K_INT, eval_every, "epochs between test evaluations (0 = auto)"),
    KEY("threads", K_INT, threads, "OpenMP threads of the job (0 = inherited, fewer for small steps)"),
};
#define NKEYS ((int)(sizeof keys / sizeof *keys))

int ls_job_key_count(void) { return NKEYS; }
const ls_job_key *ls_job_key_at(int i) { return &keys[i].pub; }

static const key_def *find_key(const char *name)
{
    char norm[64];
    size_t i;
    for (i = 0; name[i] && i + 1 < sizeof norm; i++)
        norm[i] = name[i] == '-' ? '_' : name[i];
    norm[i] = '\0';
    for (int k = 0; k < NKEYS; k++)
        if (!strcmp(keys[k].pub.name, norm))
            return &keys[k];
    return NULL;
}

/* strtoll/strtod that accept the whole string and nothing else. */
static int parse_ll(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

static int parse_d(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && isfinite(*v) ? 0 : -1;
}

int ls_job_set(ls_job *job, const char *key, const char *value, ls_err *err)
{
    const key_def *k = find_key(key);
    char *field;
    long long ll;
    double d;

    if (!k)
        return ls_err_set(err, LS_EINVAL, "unknown key '%s'", key);
    field = (char *)job + k->offset;
    switch (k->kind) {
    case K_TASK:
        if (ls_task_parse(value, (ls_task *)field))
            return ls_err_set(err, LS_EINVAL, "task: '%s' is not bitcount or mnist", value);
        return 0;
    case K_INT:
    case K_LONG:
    case K_U64:
        if (parse_ll(value, &ll) ||
            (k->kind == K_INT && (ll < INT_MIN || ll > INT_MAX)) ||
            (k->kind == K_U64 && ll < 0))
            return ls_err_set(err, LS_EINVAL, "%s: '%s' is not %s", k->pub.name,
                              value, k->kind == K_U64 ? "a non-negative integer"
                                                      : "an integer in range");
        if (k->kind == K_INT)
            *(int *)field = (int)ll;
        else if (k->kind == K_LONG)
            *(long *)field = (long)ll;
        else
            *(uint64_t *)field = (uint64_t)ll;
        return 0;
    case K_DOUBLE:
        if (parse_d(value, &d))
            return ls_err_set(err, LS_EINVAL, "%s: '%s' is not a number", k->pub.name, value);
        *(double *)field = d;
        return 0;
    case K_STR:
        if (strlen(value) >= LS_JOB_PATH_MAX)
            return ls_err_set(err, LS_EINVAL, "%s: value too long", k->pub.name);
        snprintf(field, LS_JOB_PATH_MAX, "%s", value);
        return 0;
    }
    return LS_EINVAL;
}

void ls_job_get(const ls_job *job, const char *key, char *buf, size_t len)
{
    const key_def *k = find_key(key);
    const char *field;

    if (!k) {
        snprintf(buf, len, "?");
        return;
    }
    field = (const char *)job + k->offset;
    switch (k->kind) {
    case K_TASK: snprintf(buf, len, "%s", ls_task_name(*(const ls_task *)field)); break;
    case K_INT: snprintf(buf, len, "%d", *(const int *)field); break;
    case K_LONG: snprintf(buf, len, "%ld", *(const long *)field); break;
    case K_U64: snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case K_DOUBLE: snprintf(buf, len, "%g", *(const double *)field); break;
    case K_STR: snprintf(buf, len, "%s", field); break;
    }
}
