/* modelfile.c - see include/lstmsweep/modelfile.h. */
#include "lstmsweep/modelfile.h"

#include <string.h>

#include "base/bytes.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/durable.h"

#define MAGIC "LSTMSWP"  /* + NUL = 8 bytes */
#define FORMAT_VERSION 2
#define HEADER_BYTES 52     /* version 2: version 1's and the cell */
#define HEADER_BYTES_V1 48  /* version 1: no cell, an LSTM */
#define PREFIX_BYTES 16  /* magic + version + header_bytes */

static size_t header_bytes(uint32_t version)
{
    return version == 1 ? HEADER_BYTES_V1 : HEADER_BYTES;
}

static size_t file_bytes(uint32_t version, size_t nparams)
{
    return PREFIX_BYTES + header_bytes(version) + 4 * nparams + 4;
}

typedef struct save_ctx {
    const ls_model *m;
    const ls_job *job;
} save_ctx;

static int write_model(int fd, void *ctx, ls_err *err)
{
    const save_ctx *s = ctx;
    const ls_model_config *c = ls_model_config_of(s->m);
    size_t np = ls_model_nparams(s->m);
    int32_t ints[7] = {(int32_t)s->job->task,
                       s->job->task == LS_TASK_BITCOUNT ? s->job->bits : 0,
                       c->T, c->I, c->H, c->L, c->C};
    ls_out o;

    ls_out_init(&o, fd, err);
    ls_out_bytes(&o, MAGIC, 8);
    ls_out_u32(&o, FORMAT_VERSION);
    ls_out_u32(&o, HEADER_BYTES);
    for (int i = 0; i < 7; i++)
        ls_out_u32(&o, (uint32_t)ints[i]);
    ls_out_u32(&o, ls_f2u(c->dropout));
    ls_out_u64(&o, c->seed);
    ls_out_u64(&o, np);
    ls_out_u32(&o, (uint32_t)c->cell);
    ls_out_f32s(&o, ls_model_params((ls_model *)s->m), np);
    return ls_out_finish(&o);
}

int ls_modelfile_save(const char *path, const ls_model *m, const ls_job *job,
                      ls_err *err)
{
    save_ctx s = {m, job};
    return ls_file_replace(path, write_model, &s, err);
}

/* Check the prefix, header, length and checksum; fill *info. */
static int decode_header(const char *path, const unsigned char *b, size_t len,
                         ls_modelfile_info *info, ls_err *err)
{
    const unsigned char *h = b + PREFIX_BYTES;
    ls_model_config *c = &info->cfg;
    uint32_t version;

    if (len < 8 || memcmp(b, MAGIC, 8) != 0)
        return ls_err_set(err, LS_EFORMAT, "%s: not an lstmsweep model file", path);
    if (len < PREFIX_BYTES + HEADER_BYTES_V1 + 4)
        return ls_err_set(err, LS_EFORMAT, "%s: truncated (%zu bytes)", path, len);
    version = ls_get32(b + 8);
    if ((version != 1 && version != FORMAT_VERSION) ||
        ls_get32(b + 12) != header_bytes(version))
        return ls_err_set(err, LS_EFORMAT,
                          "%s: model file version %u; this lstmsweep reads versions 1 and %d",
                          path, version, FORMAT_VERSION);
    uint64_t np = ls_get64(h + 40);
    if (np > ((uint64_t)1 << 40) || len != file_bytes(version, (size_t)np))
        return ls_err_set(err, LS_EFORMAT,
                          "%s: truncated or padded: %zu bytes, header implies %llu",
                          path, len, (unsigned long long)file_bytes(version, (size_t)np));
    if (ls_get32(b + len - 4) != ls_crc32(b, len - 4))
        return ls_err_set(err, LS_EFORMAT, "%s: checksum mismatch: file is corrupt", path);
    memset(info, 0, sizeof *info);
    info->task = (ls_task)ls_get32(h);
    info->bits = (int)ls_get32(h + 4);
    c->T = (int)ls_get32(h + 8), c->I = (int)ls_get32(h + 12), c->H = (int)ls_get32(h + 16);
    c->L = (int)ls_get32(h + 20), c->C = (int)ls_get32(h + 24);
    c->dropout = ls_u2f(ls_get32(h + 28));
    c->seed = ls_get64(h + 32);
    c->cell = version == 1 ? LS_CELL_LSTM : (ls_cell)ls_get32(h + 48);
    c->batch = 1;
    if (!ls_cell_gates(c->cell))
        return ls_err_set(err, LS_EFORMAT, "%s: unknown cell %u", path, ls_get32(h + 48));
    if ((info->task != LS_TASK_BITCOUNT && info->task != LS_TASK_MNIST) ||
        c->T < 1 || c->I < 1 || c->H < 1 || c->L < 1 || c->C < 2 ||
        c->T > 100000 || c->I > 100000 || c->H > 8192 || c->L > 16 || c->C > 100000 ||
        !(c->dropout >= 0 && c->dropout < 1)) /* else ls_model_create's LS_EINVAL */
        return ls_err_set(err, LS_EFORMAT, "%s: implausible model shape", path);
    /* Before ls_model_create allocates for the shape: a small corrupt file
     * must not cost gigabytes.  nparams already matches the length. */
    if (np != ls_model_config_nparams(c))
        return ls_err_set(err, LS_EFORMAT,
                          "%s: holds %llu parameters, but its shape needs %llu",
                          path, (unsigned long long)np,
                          (unsigned long long)ls_model_config_nparams(c));
    return 0;
}

int ls_modelfile_load(const char *path, ls_model **out, ls_modelfile_info *info,
                      ls_err *err)
{
    unsigned char *b = NULL;
    size_t len = 0;
    ls_model *m = NULL;
    int rc;

    *out = NULL;
    if ((rc = ls_file_read(path, &b, &len, err)) ||
        (rc = decode_header(path, b, len, info, err)))
        goto out;
    if ((rc = ls_model_create(&m, &info->cfg, err)))
        goto out;
    size_t np = (size_t)ls_get64(b + PREFIX_BYTES + 40);
    size_t hb = header_bytes(ls_get32(b + 8));
    if (np != ls_model_nparams(m)) {
        rc = ls_err_set(err, LS_EFORMAT,
                        "%s: holds %zu parameters, but its shape needs %zu",
                        path, np, ls_model_nparams(m));
        goto out;
    }
    float *p = ls_model_params(m);
    for (size_t i = 0; i < np; i++)
        p[i] = ls_u2f(ls_get32(b + PREFIX_BYTES + hb + 4 * i));
    *out = m;
    m = NULL;
out:
    ls_model_destroy(m);
    ls_free(b);
    return rc;
}
