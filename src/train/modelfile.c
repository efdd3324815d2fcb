/* modelfile.c - see include/lstmsweep/modelfile.h. */
#include "lstmsweep/modelfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "base/bytes.h"

#define MAGIC "LSTMSWP"  /* + NUL = 8 bytes */
#define FORMAT_VERSION 1
#define HEADER_BYTES 48
#define PREFIX_BYTES 16  /* magic + version + header_bytes */

static size_t file_bytes(size_t nparams)
{
    return PREFIX_BYTES + HEADER_BYTES + 4 * nparams + 4;
}

/* Serialize the whole file into a new buffer. */
static unsigned char *encode(const ls_model *m, const ls_job *job, size_t *len)
{
    const ls_model_config *c = ls_model_config_of(m);
    size_t np = ls_model_nparams(m), n = file_bytes(np);
    unsigned char *b = calloc(1, n), *h;
    const float *p = ls_model_params((ls_model *)m);

    if (!b)
        return NULL;
    memcpy(b, MAGIC, 8);
    ls_put32(b + 8, FORMAT_VERSION);
    ls_put32(b + 12, HEADER_BYTES);
    h = b + PREFIX_BYTES;
    int32_t ints[7] = {(int32_t)job->task,
                       job->task == LS_TASK_BITCOUNT ? job->bits : 0,
                       c->T, c->I, c->H, c->L, c->C};
    for (int i = 0; i < 7; i++)
        ls_put32(h + 4 * i, (uint32_t)ints[i]);
    ls_put32(h + 28, ls_f2u(c->dropout));
    ls_put64(h + 32, c->seed);
    ls_put64(h + 40, np);
    for (size_t i = 0; i < np; i++)
        ls_put32(b + PREFIX_BYTES + HEADER_BYTES + 4 * i, ls_f2u(p[i]));
    ls_put32(b + n - 4, (uint32_t)crc32(0L, b, (uInt)(n - 4)));
    *len = n;
    return b;
}

int ls_modelfile_save(const char *path, const ls_model *m, const ls_job *job,
                      ls_err *err)
{
    char tmp[4096];
    size_t len;
    unsigned char *b = encode(m, job, &len);
    FILE *f;
    int rc = 0;

    if (!b)
        return ls_err_set(err, LS_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (!(f = fopen(tmp, "wb"))) {
        rc = ls_err_set(err, LS_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    if (fwrite(b, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = ls_err_set(err, LS_EIO, "%s: cannot write: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        goto out;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        rc = ls_err_set(err, LS_EIO, "%s: cannot save: %s", path, strerror(errno));
        unlink(tmp);
    }
out:
    free(b);
    return rc;
}

static int read_all(const char *path, unsigned char **out, size_t *len,
                    ls_err *err)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    long n;

    if (!f)
        return ls_err_set(err, LS_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return ls_err_set(err, LS_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    if (!(b = malloc((size_t)n + 1)) || fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return ls_err_set(err, LS_EIO, "%s: cannot read", path);
    }
    fclose(f);
    *out = b;
    *len = (size_t)n;
    return 0;
}

/* Check the prefix, header, length and checksum; fill *info. */
static int decode_header(const char *path, const unsigned char *b, size_t len,
                         ls_modelfile_info *info, ls_err *err)
{
    const unsigned char *h = b + PREFIX_BYTES;
    ls_model_config *c = &info->cfg;

    if (len < 8 || memcmp(b, MAGIC, 8) != 0)
        return ls_err_set(err, LS_EFORMAT, "%s: not an lstmsweep model file", path);
    if (len < PREFIX_BYTES + HEADER_BYTES + 4)
        return ls_err_set(err, LS_EFORMAT, "%s: truncated (%zu bytes)", path, len);
    if (ls_get32(b + 8) != FORMAT_VERSION || ls_get32(b + 12) != HEADER_BYTES)
        return ls_err_set(err, LS_EFORMAT,
                          "%s: model file version %u; this lstmsweep reads version %d",
                          path, ls_get32(b + 8), FORMAT_VERSION);
    uint64_t np = ls_get64(h + 40);
    if (np > ((uint64_t)1 << 40) || len != file_bytes((size_t)np))
        return ls_err_set(err, LS_EFORMAT,
                          "%s: truncated or padded: %zu bytes, header implies %llu",
                          path, len, (unsigned long long)file_bytes((size_t)np));
    if (ls_get32(b + len - 4) != (uint32_t)crc32(0L, b, (uInt)(len - 4)))
        return ls_err_set(err, LS_EFORMAT, "%s: checksum mismatch: file is corrupt", path);
    memset(info, 0, sizeof *info);
    info->task = (ls_task)ls_get32(h);
    info->bits = (int)ls_get32(h + 4);
    c->T = (int)ls_get32(h + 8), c->I = (int)ls_get32(h + 12), c->H = (int)ls_get32(h + 16);
    c->L = (int)ls_get32(h + 20), c->C = (int)ls_get32(h + 24);
    c->dropout = ls_u2f(ls_get32(h + 28));
    c->seed = ls_get64(h + 32);
    c->batch = 1;
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
    if ((rc = read_all(path, &b, &len, err)) ||
        (rc = decode_header(path, b, len, info, err)))
        goto out;
    if ((rc = ls_model_create(&m, &info->cfg, err)))
        goto out;
    size_t np = (size_t)ls_get64(b + PREFIX_BYTES + 40);
    if (np != ls_model_nparams(m)) {
        rc = ls_err_set(err, LS_EFORMAT,
                        "%s: holds %zu parameters, but its shape needs %zu",
                        path, np, ls_model_nparams(m));
        goto out;
    }
    float *p = ls_model_params(m);
    for (size_t i = 0; i < np; i++)
        p[i] = ls_u2f(ls_get32(b + PREFIX_BYTES + HEADER_BYTES + 4 * i));
    *out = m;
    m = NULL;
out:
    ls_model_destroy(m);
    free(b);
    return rc;
}
