/* checkpoint.c - see include/lstmsweep/checkpoint.h. */
#include "lstmsweep/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/bytes.h"

#define MAGIC "LSTMCKP"
#define FORMAT_VERSION 1
/* magic 8, version 4, id 16, epoch 4, 6 doubles, 2 rngs (8 u64), adam_t 8,
 * nparams 8, n_train 8 */
#define FIXED_BYTES (8 + 4 + 16 + 4 + 6 * 8 + 8 * 8 + 8 + 8 + 8)

static size_t ckpt_bytes(size_t np, size_t n_train)
{
    return FIXED_BYTES + 3 * 4 * np + 4 * n_train + 4;
}

static void encode(unsigned char *b, ls_model *m, const ls_checkpoint *ck)
{
    ls_model_state st = ls_model_state_of(m);
    size_t np = ls_model_nparams(m);
    const float *arrays[3] = {ls_model_params(m), st.adam_m, st.adam_v};
    double d[6] = {ck->train_s, ck->eval_s, ck->samples, ck->train_loss,
                   ck->train_error, ck->test_error};
    unsigned char *p = b;

    memcpy(p, MAGIC, 8), p += 8;
    ls_put32(p, FORMAT_VERSION), p += 4;
    memcpy(p, ck->job_id, 16), p += 16;
    ls_put32(p, (uint32_t)ck->epoch), p += 4;
    for (int i = 0; i < 6; i++, p += 8)
        ls_put64(p, ls_d2u(d[i]));
    for (int i = 0; i < 4; i++, p += 8)
        ls_put64(p, ck->shuffle.s[i]);
    for (int i = 0; i < 4; i++, p += 8)
        ls_put64(p, st.dropout_rng->s[i]);
    ls_put64(p, (uint64_t)*st.adam_t), p += 8;
    ls_put64(p, np), p += 8;
    ls_put64(p, ck->n_train), p += 8;
    for (int a = 0; a < 3; a++)
        for (size_t i = 0; i < np; i++, p += 4)
            ls_put32(p, ls_f2u(arrays[a][i]));
    for (size_t i = 0; i < ck->n_train; i++, p += 4)
        ls_put32(p, ck->perm[i]);
    ls_put32(p, (uint32_t)crc32(0L, b, (uInt)(p - b)));
}

int ls_checkpoint_save(const char *path, ls_model *m, const ls_checkpoint *ck,
                       ls_err *err)
{
    size_t n = ckpt_bytes(ls_model_nparams(m), ck->n_train);
    unsigned char *b = malloc(n);
    char tmp[4096];
    int fd, rc = 0;

    if (!b)
        return ls_err_set(err, LS_ENOMEM, "%s: out of memory", path);
    encode(b, m, ck);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = ls_err_set(err, LS_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    if (write(fd, b, n) != (ssize_t)n || fsync(fd) != 0) {
        rc = ls_err_set(err, LS_EIO, "%s: cannot write: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        rc = ls_err_set(err, LS_EIO, "%s: cannot rename: %s", path, strerror(errno));
        unlink(tmp);
    }
out:
    free(b);
    return rc;
}

static int decode(const char *path, const unsigned char *b, size_t len,
                  ls_model *m, ls_checkpoint *ck, ls_err *err)
{
    ls_model_state st = ls_model_state_of(m);
    size_t np = ls_model_nparams(m);
    const unsigned char *p = b + 8;
    float *arrays[3] = {ls_model_params(m), st.adam_m, st.adam_v};
    double d[6];

    if (len < 8 || memcmp(b, MAGIC, 8) != 0)
        return ls_err_set(err, LS_EFORMAT, "%s: not a checkpoint file", path);
    if (len != ckpt_bytes(np, ck->n_train))
        return ls_err_set(err, LS_EFORMAT, "%s: truncated or of another shape "
                          "(%zu bytes, expected %zu)", path, len,
                          ckpt_bytes(np, ck->n_train));
    if (ls_get32(b + len - 4) != (uint32_t)crc32(0L, b, (uInt)(len - 4)))
        return ls_err_set(err, LS_EFORMAT, "%s: checksum mismatch: corrupt", path);
    if (ls_get32(p) != FORMAT_VERSION)
        return ls_err_set(err, LS_EFORMAT, "%s: checkpoint version %u", path, ls_get32(p));
    p += 4;
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
    FILE *f = fopen(path, "rb");
    struct stat sb;
    unsigned char *b = NULL;
    int rc;

    if (!f)
        return ls_err_set(err, LS_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !(b = malloc((size_t)sb.st_size + 1)) ||
        fread(b, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        rc = ls_err_set(err, LS_EIO, "%s: cannot read", path);
        goto out;
    }
    rc = decode(path, b, (size_t)sb.st_size, m, ck, err);
out:
    free(b);
    fclose(f);
    return rc;
}
