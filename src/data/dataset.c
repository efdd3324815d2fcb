/* dataset.c - the kind-independent part of ls_dataset: sizes, batch
 * expansion, destruction.  See include/lstmsweep/dataset.h.
 *
 * ls_dataset_fill() runs once per training step, so the inner loops are
 * kept branch-free: one sample (j) at a time, its time steps written with
 * stride n * I into the time-major batch. */
#include "lstmsweep/dataset.h"

#include <string.h>

#include "lstmsweep/alloc.h"

void ls_dataset_destroy(ls_dataset *ds)
{
    if (!ds)
        return;
    ls_free(ds->codes);
    ls_free(ds->pixels);
    ls_free(ds->labels);
    ls_free(ds);
}

size_t ls_dataset_samples(const ls_dataset *ds)
{
    return ds->n_train + ds->n_val + ds->n_test;
}

size_t ls_dataset_bytes(const ls_dataset *ds)
{
    size_t n = ls_dataset_samples(ds);
    return n * (ds->codes ? sizeof *ds->codes : 0) +
           n * (ds->pixels ? (size_t)ds->T * ds->I : 0) + (ds->labels ? n : 0);
}

size_t ls_dataset_areas(const ls_dataset *ds, ls_area *out, size_t max)
{
    size_t n = ls_dataset_samples(ds), k = 0;
    const ls_area all[3] = {{ds->codes, ds->codes ? n * sizeof *ds->codes : 0},
                            {ds->pixels, ds->pixels ? n * (size_t)ds->T * ds->I : 0},
                            {ds->labels, ds->labels ? n : 0}};
    for (int i = 0; i < 3; i++)
        if (all[i].addr && all[i].bytes && k < max)
            out[k++] = all[i];
    return k;
}

/* ls_alloc + memcpy, NULL for a NULL source. */
static void *dup_bytes(const void *src, size_t n, int *failed)
{
    void *p;
    if (!src)
        return NULL;
    if (!(p = ls_alloc(n))) {
        *failed = 1;
        return NULL;
    }
    memcpy(p, src, n);
    return p;
}

int ls_dataset_clone(ls_dataset **out, const ls_dataset *ds, ls_err *err)
{
    size_t n = ls_dataset_samples(ds);
    ls_dataset *c = ls_alloc(sizeof *c);
    int failed = 0;

    *out = NULL;
    if (!c)
        return ls_err_set(err, LS_ENOMEM, "%s: cannot copy data set", ds->name);
    *c = *ds;
    c->codes = dup_bytes(ds->codes, n * sizeof *ds->codes, &failed);
    c->pixels = dup_bytes(ds->pixels, n * (size_t)ds->T * ds->I, &failed);
    c->labels = dup_bytes(ds->labels, n, &failed);
    if (failed) {
        ls_dataset_destroy(c);
        return ls_err_set(err, LS_ENOMEM, "%s: cannot copy data set", ds->name);
    }
    *out = c;
    return 0;
}

size_t ls_dataset_size(const ls_dataset *ds, ls_split split)
{
    return split == LS_SPLIT_TEST ? ds->n_test
           : split == LS_SPLIT_VAL ? ds->n_val
           : split == LS_SPLIT_EVAL ? ds->n_val + ds->n_test : ds->n_train;
}

/* Where each split starts in storage.  bitcount keeps the shuffle's order
 * (train, then val, then test); images keep the files' order, where the
 * validation images are the first of the training file. */
static size_t split_offset(const ls_dataset *ds, ls_split split)
{
    if (split == LS_SPLIT_TEST)
        return ds->n_train + ds->n_val;
    if (ds->kind == LS_DATA_BITCOUNT)
        return split == LS_SPLIT_VAL ? ds->n_train : 0;
    return split == LS_SPLIT_VAL ? 0 : ds->n_val;
}

size_t ls_dataset_default_val(ls_data_kind kind, int bits, size_t train_size)
{
    if (kind != LS_DATA_BITCOUNT)
        return 5000;
    size_t left = ((size_t)1 << bits) - train_size;
    return left >= 20000 ? 10000 : left / 2;
}

int ls_dataset_split_val(ls_dataset *ds, size_t val_size, ls_err *err)
{
    int bit = ds->kind == LS_DATA_BITCOUNT;
    size_t *from = bit ? &ds->n_test : &ds->n_train;

    if (ds->n_val)
        return ls_err_set(err, LS_EINVAL, "%s: validation split already set", ds->name);
    if (val_size >= *from)
        return ls_err_set(err, LS_EINVAL,
                          "val_size = %zu leaves no %s: %s has %zu %s",
                          val_size, bit ? "test strings" : "training images",
                          ds->name, *from,
                          bit ? "strings besides the training ones" : "training images");
    ds->n_val = val_size;
    *from -= val_size;
    return 0;
}

/* Sample s (storage index) into batch column j of n. */
static inline void fill_bits(const ls_dataset *ds, size_t s, size_t j, size_t n,
                             float *x)
{
    uint32_t code = ds->codes[s];
    int bits = ds->bits;
    for (int t = 0; t < bits; t++)
        x[(size_t)t * n + j] = (float)((code >> (bits - 1 - t)) & 1u);
}

/* scale[p] = p / 255.0f, precomputed per call: exactly the division, at
 * the cost of a table lookup instead of a divide per pixel. */
static inline void fill_pixels(const ls_dataset *ds, const float scale[256],
                               size_t s, size_t j, size_t n, float *x)
{
    size_t T = (size_t)ds->T, I = (size_t)ds->I;
    const uint8_t *p = ds->pixels + s * T * I;
    for (size_t t = 0; t < T; t++) {
        float *row = x + (t * n + j) * I;
        for (size_t i = 0; i < I; i++)
            row[i] = scale[p[t * I + i]];
    }
}

static void init_scale(float scale[256])
{
    for (int p = 0; p < 256; p++)
        scale[p] = (float)p / 255.0f;
}

/* Storage index of sample k of split (LS_SPLIT_EVAL: the validation
 * samples, then the test samples). */
static inline size_t storage_index(const ls_dataset *ds, ls_split split, size_t k)
{
    if (split != LS_SPLIT_EVAL)
        return split_offset(ds, split) + k;
    return k < ds->n_val ? split_offset(ds, LS_SPLIT_VAL) + k
                         : split_offset(ds, LS_SPLIT_TEST) + (k - ds->n_val);
}

/* The common body of fill and fill_range: samples come from idx when it is
 * not NULL, else from first + j. */
static void fill(const ls_dataset *ds, ls_split split, const uint32_t *idx,
                 size_t first, size_t n, float *x, int32_t *y)
{
    float scale[256];

    /* One loop per kind: this runs every training step. */
    if (ds->kind == LS_DATA_BITCOUNT) {
        for (size_t j = 0; j < n; j++)
            fill_bits(ds, storage_index(ds, split, idx ? idx[j] : first + j), j, n, x);
    } else {
        init_scale(scale);
        for (size_t j = 0; j < n; j++)
            fill_pixels(ds, scale, storage_index(ds, split, idx ? idx[j] : first + j), j, n,
                        x);
    }
    if (y)
        for (size_t j = 0; j < n; j++)
            y[j] = ds->labels[storage_index(ds, split, idx ? idx[j] : first + j)];
}

void ls_dataset_fill(const ls_dataset *ds, ls_split split,
                     const uint32_t *idx, size_t n, float *x, int32_t *y)
{
    fill(ds, split, idx, 0, n, x, y);
}

void ls_dataset_fill_range(const ls_dataset *ds, ls_split split, size_t first,
                           size_t n, float *x, int32_t *y)
{
    fill(ds, split, NULL, first, n, x, y);
}
