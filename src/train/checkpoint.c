/* checkpoint.c - see include/lstmsweep/checkpoint.h. */
#include "lstmsweep/checkpoint.h"

#include <string.h>

#include "base/bytes.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/durable.h"

#define MAGIC "LSTMCKP"
#define FORMAT_VERSION 2
/* magic 8, version 4, id 16, epoch 4, 6 doubles, 2 rngs (8 u64), adam_t 8,
 * nparams 8, n_train 8; version 2 adds the position in the epoch (u64
 * samples done, f64 loss sum, u64 errors) and the last validation error
 * (f64). */
#define FIXED_V1 (8 + 4 + 16 + 4 + 6 * 8 + 8 * 8 + 8 + 8 + 8)
#define FIXED_V2 (FIXED_V1 + 4 * 8)

static size_t ckpt_bytes(uint32_t version, size_t np, size_t n_train)
{
    return (version == 1 ? FIXED_V1 : FIXED_V2) + 3 * 4 * np + 4 * n_train + 4;
}

typedef struct save_ctx {
    ls_model *m;
    const ls_checkpoint *ck;
} save_ctx;

static int write_ckpt(int fd, void *ctx, ls_err *err)
{
    const save_ctx *c = ctx;
    const ls_checkpoint *ck = c->ck;
    ls_model_state st = ls_model_state_of(c->m);
    size_t np = ls_model_nparams(c->m);
    double d[6] = {ck->train_s, ck->eval_s, ck->samples, ck->train_loss,
                   ck->train_error, ck->test_error};
    ls_out o;

    ls_out_init(&o, fd, err);
    ls_out_bytes(&o, MAGIC, 8);
    ls_out_u32(&o, FORMAT_VERSION);
    ls_out_bytes(&o, ck->job_id, 16);
    ls_out_u32(&o, (uint32_t)ck->epoch);
    for (int i = 0; i < 6; i++)
        ls_out_f64(&o, d[i]);
    for (int i = 0; i < 4; i++)
        ls_out_u64(&o, ck->shuffle.s[i]);
    for (int i = 0; i < 4; i++)
        ls_out_u64(&o, st.dropout_rng->s[i]);
    ls_out_u64(&o, (uint64_t)*st.adam_t);
    ls_out_u64(&o, np);
    ls_out_u64(&o, ck->n_train);
    ls_out_u64(&o, ck->done);
    ls_out_f64(&o, ck->part_loss);
    ls_out_u64(&o, ck->part_wrong);
    ls_out_f64(&o, ck->val_error);
    ls_out_f32s(&o, ls_model_params(c->m), np);
    ls_out_f32s(&o, st.adam_m, np);
    ls_out_f32s(&o, st.adam_v, np);
    ls_out_u32s(&o, ck->perm, ck->n_train);
    return ls_out_finish(&o);
}

int ls_checkpoint_save(const char *path, ls_model *m, const ls_checkpoint *ck,
                       ls_err *err)
{
    save_ctx c = {m, ck};
    return ls_file_replace(path, write_ckpt, &c, err);
}

/* Magic, version, length and checksum, before anything is believed. */
static int check_envelope(const char *path, const unsigned char *b, size_t len,
                          size_t np, size_t n_train, uint32_t *version,
                          ls_err *err)
{
    if (len < 12 || memcmp(b, MAGIC, 8) != 0)
        return ls_err_set(err, LS_EFORMAT, "%s: not a checkpoint file", path);
    *version = ls_get32(b + 8);
    if (*version != 1 && *version != FORMAT_VERSION)
        return ls_err_set(err, LS_EFORMAT, "%s: checkpoint version %u; this "
                          "lstmsweep reads versions 1 and %d", path, *version,
                          FORMAT_VERSION);
    if (len != ckpt_bytes(*version, np, n_train))
        return ls_err_set(err, LS_EFORMAT, "%s: truncated or of another shape "
                          "(%zu bytes, expected %zu)", path, len,
                          ckpt_bytes(*version, np, n_train));
    if (ls_get32(b + len - 4) != ls_crc32(b, len - 4))
        return ls_err_set(err, LS_EFORMAT, "%s: checksum mismatch: corrupt", path);
    return 0;
}

static int decode(const char *path, const unsigned char *b, size_t len,
                  ls_model *m, ls_checkpoint *ck, ls_err *err)
{
    ls_model_state st = ls_model_state_of(m);
    size_t np = ls_model_nparams(m);
    const unsigned char *p = b + 12;
    float *arrays[3] = {ls_model_params(m), st.adam_m, st.adam_v};
    uint32_t version = 0;
    double d[6];
    int rc;

    if ((rc = check_envelope(path, b, len, np, ck->n_train, &version, err)))
        return rc;
    if (memcmp(p, ck->job_id, 16) != 0)
        return ls_err_set(err, LS_EFORMAT, "%s: belongs to another job", path);
    p += 16;
    ck->epoch = (int)ls_get32(p), p += 4;
    for (int i = 0; i < 6; i++, p += 8)
        d[i] = ls_u2d(ls_get64(p));
    for (int i = 0; i < 4; i++, p += 8)
        ck->shuffle.s[i] = ls_get64(p);
    for (int i = 0; i < 4; i++, p += 8)
        st.dropout_rng->s[i] = ls_get64(p);
    *st.adam_t = (long)ls_get64(p), p += 8;
    if (ls_get64(p) != np || ls_get64(p + 8) != ck->n_train)
        return ls_err_set(err, LS_EFORMAT, "%s: saved for another shape", path);
    p += 16;
    ck->done = 0, ck->part_loss = 0, ck->part_wrong = 0; /* version 1 */
    ck->val_error = -1;
    if (version >= 2) {
        ck->done = (size_t)ls_get64(p);
        ck->part_loss = ls_u2d(ls_get64(p + 8));
        ck->part_wrong = (size_t)ls_get64(p + 16);
        ck->val_error = ls_u2d(ls_get64(p + 24));
        p += 32;
        if (ck->done >= ck->n_train || ck->part_wrong > ck->done)
            return ls_err_set(err, LS_EFORMAT, "%s: bad position in the epoch", path);
    }
    for (int a = 0; a < 3; a++)
        for (size_t i = 0; i < np; i++, p += 4)
            arrays[a][i] = ls_u2f(ls_get32(p));
    for (size_t i = 0; i < ck->n_train; i++, p += 4) {
        ck->perm[i] = ls_get32(p);
        if (ck->perm[i] >= ck->n_train)
            return ls_err_set(err, LS_EFORMAT, "%s: bad sample index", path);
    }
    ck->train_s = d[0], ck->eval_s = d[1], ck->samples = d[2];
    ck->train_loss = d[3], ck->train_error = d[4], ck->test_error = d[5];
    return 0;
}

int ls_checkpoint_load(const char *path, ls_model *m, ls_checkpoint *ck,
                       ls_err *err)
{
    unsigned char *b = NULL;
    size_t len = 0;
    int rc = ls_file_read(path, &b, &len, err);

    if (!rc)
        rc = decode(path, b, len, m, ck, err);
    ls_free(b);
    return rc;
}
