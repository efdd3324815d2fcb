/* fuzz_model.c - libFuzzer target: the model-file loader,
 * ls_modelfile_load(), and the checkpoint loader, ls_checkpoint_load(),
 * on the same input (see fuzz.h).
 *
 * A checkpoint loads into an existing model of its shape, with the job id
 * and sample count set by the caller.  The model here is fixed (that of
 * `train --bits 4 --hidden 2`: T 4, I 1, H 2, L 1, C 5); the job id and
 * n_train (up to MAX_TRAIN) are taken from where the file keeps them, so
 * that mutated files get past those two checks to the arrays.
 *
 * Both formats end in a CRC-32 and state their array lengths, which
 * random mutation almost never gets right.  So each input is loaded twice:
 * as it is, and with those fields repaired (fix_up): the parameter count
 * and the sample count made to agree with the file's length, and the
 * checksum recomputed.  The second load is what reaches the shape checks
 * and the arrays. */
#include "fuzz.h"

#include <zlib.h>

#include "lstmsweep/checkpoint.h"
#include "lstmsweep/modelfile.h"

#define CKPT_ID_AT 12        /* after magic and version */
#define CKPT_NTRAIN_AT 160   /* last fixed field, before the arrays */
#define MAX_TRAIN 4096
#define MODEL_HEADER_END 68  /* magic, version, header bytes, 52-byte header */
#define MODEL_NPARAMS_AT 56  /* u64, before the cell */
#define CKPT_NPARAMS_AT 152
#define CKPT_FIXED_END 168

static int load_model(const char *path)
{
    ls_model *m = (ls_model *)1; /* must be NULL after a failure */
    ls_modelfile_info info;
    ls_err err = {0};
    int rc = ls_modelfile_load(path, &m, &info, &err);

    fuzz_check_rc("ls_modelfile_load", rc, &err, path);
    if (rc == 0) {
        const ls_model_config *c = ls_model_config_of(m);
        if (c->T != info.cfg.T || c->I != info.cfg.I || c->H != info.cfg.H ||
            c->L != info.cfg.L || c->C != info.cfg.C)
            FUZZ_DIE("ls_modelfile_load: model and info disagree");
        ls_model_destroy(m);
    } else if (m) {
        FUZZ_DIE("ls_modelfile_load: failed but set *out");
    }
    return rc;
}

/* Copy the n bytes at `at` into out; 0 if the file is shorter. */
static int peek(const char *path, long at, unsigned char *out, size_t n)
{
    FILE *f = fopen(path, "rb");
    int ok;

    if (!f)
        return 0;
    ok = fseek(f, at, SEEK_SET) == 0 && fread(out, 1, n, f) == n;
    fclose(f);
    return ok;
}

static ls_model *checkpoint_model(void)
{
    static ls_model *m;
    ls_model_config cfg = {.T = 4, .I = 1, .H = 2, .L = 1, .C = 5, .batch = 1};
    ls_err err = {0};

    if (!m && ls_model_create(&m, &cfg, &err))
        FUZZ_DIE("cannot create the checkpoint model: %s", err.msg);
    return m;
}

static int load_checkpoint(const char *path)
{
    ls_model *m = checkpoint_model();
    static uint32_t perm[MAX_TRAIN];
    ls_checkpoint ck = {.perm = perm};
    ls_err err = {0};
    unsigned char b[8];
    uint64_t n = 8;
    int rc;

    if (!peek(path, CKPT_ID_AT, (unsigned char *)ck.job_id, 16))
        memset(ck.job_id, 0, sizeof ck.job_id);
    if (peek(path, CKPT_NTRAIN_AT, b, 8)) {
        n = 0;
        for (int i = 7; i >= 0; i--)
            n = n << 8 | b[i];
    }
    ck.n_train = n <= MAX_TRAIN ? (size_t)n : 8;
    rc = ls_checkpoint_load(path, m, &ck, &err);
    fuzz_check_rc("ls_checkpoint_load", rc, &err, path);
    if (rc == 0)
        for (size_t i = 0; i < ck.n_train; i++)
            if (perm[i] >= ck.n_train)
                FUZZ_DIE("ls_checkpoint_load: sample index %u of %zu", perm[i],
                         ck.n_train);
    return rc;
}

static void put_le(unsigned char *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++, v >>= 8)
        b[i] = (unsigned char)v;
}

/* Make the counts agree with the length and the checksum with the bytes. */
static void fix_up(unsigned char *b, size_t len)
{
    size_t np = ls_model_nparams(checkpoint_model()), arrays;

    if (len < 8)
        return;
    if (!memcmp(b, "LSTMSWP", 8) && len >= MODEL_HEADER_END + 4 &&
        (len - MODEL_HEADER_END - 4) % 4 == 0)
        put_le(b + MODEL_NPARAMS_AT, (len - MODEL_HEADER_END - 4) / 4, 8);
    arrays = 3 * 4 * np;
    if (!memcmp(b, "LSTMCKP", 8) && len >= CKPT_FIXED_END + arrays + 4 &&
        (len - CKPT_FIXED_END - arrays - 4) % 4 == 0) {
        put_le(b + CKPT_NPARAMS_AT, np, 8);
        put_le(b + CKPT_NTRAIN_AT, (len - CKPT_FIXED_END - arrays - 4) / 4, 8);
    }
    put_le(b + len - 4, crc32(0L, b, (uInt)(len - 4)), 4);
}

/* The input, repaired by fix_up, in a temporary file; NULL if it needed
 * no repair. */
static const char *fixed_copy(const char *path, char *buf, size_t len)
{
    static unsigned char b[1 << 16], orig[1 << 16];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        FUZZ_DIE("cannot open %s", path);
    n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n == sizeof b)
        return NULL;
    memcpy(orig, b, n);
    fix_up(b, n);
    if (!memcmp(orig, b, n))
        return NULL;
    return fuzz_write("fixed.model", b, n, buf, len);
}

int fuzz_model_file(const char *path)
{
    char buf[4096];
    int rc_model = load_model(path), rc_ckpt = load_checkpoint(path);
    const char *fixed = fixed_copy(path, buf, sizeof buf);

    if (fixed && (load_model(fixed) == 0) + (load_checkpoint(fixed) == 0))
        return 0;
    return rc_model == 0 || rc_ckpt == 0 ? 0 : rc_model;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[4096];

    fuzz_model_file(fuzz_write("input.model", data, size, buf, sizeof buf));
    return 0;
}
#endif
