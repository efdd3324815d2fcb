/* bitcount.c - the synthetic bit-counting task.  See
 * include/lstmsweep/dataset.h. */
#include "lstmsweep/alloc.h"
#include "lstmsweep/dataset.h"
#include "lstmsweep/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RNG stream of the train/test split ("split" in ASCII).  It differs from
 * the streams training uses with the same seed, so the split does not
 * correlate with shuffles or initial weights. */
#define BITCOUNT_SPLIT_STREAM UINT64_C(0x73706c6974)

static int check_args(int bits, size_t train_size, ls_err *err)
{
    if (bits < 1 || bits > LS_BITCOUNT_MAX_BITS)
        return ls_err_set(err, LS_EINVAL, "bitcount: bits = %d is not in [1, %d]",
                          bits, LS_BITCOUNT_MAX_BITS);
    /* At least one sample must be left for the test set. */
    uint64_t n = UINT64_C(1) << bits;
    if (train_size < 1 || train_size >= n)
        return ls_err_set(err, LS_EINVAL,
                          "bitcount: train_size = %zu is not in [1, %llu) for %d bits",
                          train_size, (unsigned long long)n, bits);
    if (n > SIZE_MAX / sizeof(uint32_t))
        return ls_err_set(err, LS_ENOMEM, "bitcount: 2^%d strings do not fit in memory", bits);
    return 0;
}

int ls_bitcount_create(ls_dataset **out, int bits, size_t train_size,
                       uint64_t seed, ls_err *err)
{
    ls_dataset *ds = NULL;
    ls_rng rng;
    int rc;

    *out = NULL;
    rc = check_args(bits, train_size, err);
    if (rc)
        return rc;
    size_t n = (size_t)1 << bits;
    ds = ls_alloc(sizeof *ds);
    if (!ds)
        goto out_nomem;
    ds->codes = ls_alloc(n * sizeof *ds->codes);
    ds->labels = ls_alloc(n);
    if (!ds->codes || !ds->labels)
        goto out_nomem;

    for (size_t k = 0; k < n; k++)
        ds->codes[k] = (uint32_t)k;
    ls_rng_seed(&rng, seed, BITCOUNT_SPLIT_STREAM);
    ls_rng_shuffle_u32(&rng, ds->codes, n);
    for (size_t k = 0; k < n; k++)
        ds->labels[k] = (uint8_t)__builtin_popcount(ds->codes[k]);

    ds->kind = LS_DATA_BITCOUNT;
    snprintf(ds->name, sizeof ds->name, "bitcount-%d", bits);
    ds->T = bits;
    ds->I = 1;
    ds->classes = bits + 1;
    ds->bits = bits;
    ds->n_train = train_size;
    ds->n_test = n - train_size;
    *out = ds;
    return 0;

out_nomem:
    ls_dataset_destroy(ds);
    return ls_err_set(err, LS_ENOMEM, "bitcount: out of memory for 2^%d strings", bits);
}

int ls_bitcount_parse(const char *s, uint32_t *code, ls_err *err)
{
    uint32_t c = 0;
    size_t len = s ? strlen(s) : 0;

    if (len < 1 || len > LS_BITCOUNT_MAX_BITS)
        return ls_err_set(err, LS_EINVAL, "bit string \"%.40s\": length %zu is not in [1, %d]",
                          s ? s : "", len, LS_BITCOUNT_MAX_BITS);
    for (size_t k = 0; k < len; k++) {
        if (s[k] != '0' && s[k] != '1')
            return ls_err_set(err, LS_EINVAL,
                              "bit string \"%s\": character %zu is not 0 or 1", s, k + 1);
        /* First character = time step 0 = most significant bit. */
        c = c << 1 | (uint32_t)(s[k] - '0');
    }
    *code = c;
    return (int)len;
}
