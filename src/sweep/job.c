/* job.c - see include/lstmsweep/job.h. */
#include "lstmsweep/job.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lstmsweep/dataset.h"
#include "lstmsweep/schema.h"

void ls_job_defaults(ls_job *job, ls_task task)
{
    memset(job, 0, sizeof *job);
    job->task = task;
    job->layers = 1;
    job->lr = 0.001;
    job->seed = 1;
    job->bits = 20;
    job->target_error = -1;
    job->val_size = -1;
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

long ls_job_val_size(const ls_job *j)
{
    if (j->val_size >= 0)
        return j->val_size;
    if (j->task != LS_TASK_BITCOUNT)
        return (long)ls_dataset_default_val(LS_DATA_IMAGES, 0, 0);
    if (j->bits < 1 || j->bits > LS_BITCOUNT_MAX_BITS || j->train_size < 1 ||
        (unsigned long)j->train_size >= (1UL << j->bits))
        return 0; /* ls_job_validate refuses the job anyway */
    return (long)ls_dataset_default_val(LS_DATA_BITCOUNT, j->bits, (size_t)j->train_size);
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
    if (!ls_cell_gates(j->cell))
        return ls_err_set(err, LS_EINVAL, "cell must be lstm, gru, lbr-gru or rnn");
    if ((unsigned)j->precision >= LS_NPRECS)
        return ls_err_set(err, LS_EINVAL, "precision must be f32, bf16 or auto");
    if (j->epochs < 1 || j->epochs > 10000000)
        return ls_err_set(err, LS_EINVAL, "epochs must be in 1..10000000, got %d", j->epochs);
    if (!(j->lr > 0) || !isfinite(j->lr))
        return ls_err_set(err, LS_EINVAL, "lr must be a positive number, got %g", j->lr);
    if (!(j->dropout >= 0 && j->dropout < 1))
        return ls_err_set(err, LS_EINVAL, "dropout must be in [0, 1), got %g", j->dropout);
    if (j->val_size < -1)
        return ls_err_set(err, LS_EINVAL,
                          "val_size must be >= 0 (or -1 for the task's default), got %ld",
                          j->val_size);
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
        unsigned long rest = (1UL << j->bits) - (unsigned long)j->train_size;
        if (j->val_size >= 0 && (unsigned long)j->val_size >= rest)
            return ls_err_set(err, LS_EINVAL,
                              "val_size must be in 0..%lu for bits=%d and train_size=%ld "
                              "(test strings must remain), got %ld",
                              rest - 1, j->bits, j->train_size, j->val_size);
    } else {
        if (j->train_size < 0)
            return ls_err_set(err, LS_EINVAL, "train_size must be >= 0, got %ld",
                              j->train_size);
        if (!j->data[0])
            return ls_err_set(err, LS_EINVAL, "mnist needs a data directory");
    }
    return 0;
}

/* "name=value" of each identity column in the schema's order, skipping
 * the other task's columns: the text whose hash is the id, so it must
 * never change for an existing job (tests/check_sweep.c pins ids). */
void ls_job_canonical(const ls_job *job, char *buf, size_t len)
{
    size_t n = 0;
    const ls_column *c;
    char v[LS_JOB_PATH_MAX + 32];
    ls_job resolved = *job, *j = &resolved;

    resolved.val_size = ls_job_val_size(job);
    if (len)
        buf[0] = '\0';
    for (int i = 0; (c = ls_schema_identity(i)) && n + 1 < len; i++) {
        if (ls_column_format(c, LS_FORM_CANON, j, NULL, v, sizeof v) < 0)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", c->name, v);
        n = w < 0 ? len : n + (size_t)w;
    }
}

uint64_t ls_job_hash(uint64_t h, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void ls_job_id(const ls_job *job, char id[LS_JOB_ID_LEN])
{
    char text[LS_JOB_PATH_MAX + 512];

    ls_job_canonical(job, text, sizeof text);
    uint64_t h = ls_job_hash(LS_JOB_HASH_INIT, text);
    snprintf(id, LS_JOB_ID_LEN, "%016llx", (unsigned long long)h);
}

/* ---- key table ---------------------------------------------------------- */

/* The job keys are the schema's KEY and RES_KEY columns, in its order. */
typedef struct key_def {
    ls_job_key pub;
    int col;              /* its column, LS_COLUMN_<name> */
} key_def;

#define KEY_OF_GEN(n, h)
#define KEY_OF_JOB(n, h)
#define KEY_OF_RES(n, h)
#define KEY_OF_KEY(n, h) {{#n, h}, LS_COLUMN_##n},
#define KEY_OF_RES_KEY(n, h) KEY_OF_KEY(n, h)
#define KEY_DEF(name, type, from, empty, id, csv, help) KEY_OF_##from(name, help)
static const key_def keys[] = {LS_RESULTS_SCHEMA(KEY_DEF, )};
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

int ls_job_set(ls_job *job, const char *key, const char *value, ls_err *err)
{
    const key_def *k = find_key(key);

    if (!k)
        return ls_err_set(err, LS_EINVAL, "unknown key '%s'", key);
    return ls_column_parse(ls_schema_at(k->col), value, job, NULL, err);
}

void ls_job_get(const ls_job *job, const char *key, char *buf, size_t len)
{
    const key_def *k = find_key(key);

    if (!k)
        snprintf(buf, len, "?");
    else
        ls_column_format(ls_schema_at(k->col), LS_FORM_KEY, job, NULL, buf, len);
}
