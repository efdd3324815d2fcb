/* images.c - ls_images_load(): MNIST-style IDX files into an ls_dataset.
 * See include/lstmsweep/dataset.h. */

#include "lstmsweep/alloc.h"
#include "lstmsweep/dataset.h"
#include "lstmsweep/idx.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IMAGES_CLASSES 10
#define IMAGES_PATH_MAX 4096

/* The four files, in the order of the ls_idx array below. */
enum { TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS, N_FILES };

static const char *const file_names[N_FILES] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};

/* Find dir/name, else dir/name.gz, and read it.  path receives the name
 * used, for later messages.  Existence is checked with stat() so that any
 * other failure (permissions...) is reported by ls_idx_read() for the file
 * that is actually there. */
static int open_one(const char *dir, const char *name, int ndims, ls_idx *out,
                    char path[IMAGES_PATH_MAX], ls_err *err)
{
    struct stat st;
    int len = snprintf(path, IMAGES_PATH_MAX, "%s/%s", dir, name);

    if (len < 0 || len + 3 >= IMAGES_PATH_MAX)
        return ls_err_set(err, LS_EINVAL, "%s: directory name too long", dir);
    if (stat(path, &st) != 0 && errno == ENOENT) {
        strcat(path, ".gz");
        if (stat(path, &st) != 0 && errno == ENOENT)
            return ls_err_set(err, LS_EIO, "%s/%s: not found (nor %s.gz)", dir, name, name);
    }
    return ls_idx_read(out, path, ndims, err);
}

/* Image and label files of one split must describe the same samples. */
static int check_split(const ls_idx *img, const char *img_path,
                       const ls_idx *lab, const char *lab_path, ls_err *err)
{
    if (img->dims[0] != lab->dims[0])
        return ls_err_set(err, LS_EFORMAT, "%s: %u images but %s has %u labels",
                          img_path, (unsigned)img->dims[0], lab_path,
                          (unsigned)lab->dims[0]);
    for (size_t k = 0; k < lab->size; k++)
        if (lab->data[k] >= IMAGES_CLASSES)
            return ls_err_set(err, LS_EFORMAT, "%s: label %u at index %zu is not in [0, %d]",
                              lab_path, lab->data[k], k, IMAGES_CLASSES - 1);
    return 0;
}

static int check_all(ls_idx f[N_FILES], char path[N_FILES][IMAGES_PATH_MAX],
                     ls_err *err)
{
    int rc = check_split(&f[TRAIN_IMAGES], path[TRAIN_IMAGES], &f[TRAIN_LABELS],
                         path[TRAIN_LABELS], err);
    if (rc)
        return rc;
    rc = check_split(&f[TEST_IMAGES], path[TEST_IMAGES], &f[TEST_LABELS],
                     path[TEST_LABELS], err);
    if (rc)
        return rc;
    const uint32_t *a = f[TRAIN_IMAGES].dims, *b = f[TEST_IMAGES].dims;
    if (a[1] != b[1] || a[2] != b[2])
        return ls_err_set(err, LS_EFORMAT, "%s: images are %ux%u but %s has %ux%u",
                          path[TEST_IMAGES], (unsigned)b[1], (unsigned)b[2],
                          path[TRAIN_IMAGES], (unsigned)a[1], (unsigned)a[2]);
    /* T and I are ints; a sane header never comes near this. */
    if (a[1] > INT_MAX || a[2] > INT_MAX)
        return ls_err_set(err, LS_EFORMAT, "%s: images of %ux%u pixels are too large",
                          path[TRAIN_IMAGES], (unsigned)a[1], (unsigned)a[2]);
    return 0;
}

/* Concatenate train then test into one buffer.  The training buffer is
 * grown in place, which avoids holding a third copy of the pixels. */
static uint8_t *concat(ls_idx *train, const ls_idx *test)
{
    uint8_t *p = ls_realloc(train->data, train->size + test->size);
    if (!p)
        return NULL;
    memcpy(p + train->size, test->data, test->size);
    train->data = NULL; /* now owned by the caller */
    return p;
}

static int build(ls_dataset *ds, ls_idx f[N_FILES], const char *dir, ls_err *err)
{
    ds->kind = LS_DATA_IMAGES;
    snprintf(ds->name, sizeof ds->name, "%s", dir);
    ds->T = (int)f[TRAIN_IMAGES].dims[1];
    ds->I = (int)f[TRAIN_IMAGES].dims[2];
    ds->classes = IMAGES_CLASSES;
    ds->n_train = f[TRAIN_IMAGES].dims[0];
    ds->n_test = f[TEST_IMAGES].dims[0];
    ds->pixels = concat(&f[TRAIN_IMAGES], &f[TEST_IMAGES]);
    ds->labels = ds->pixels ? concat(&f[TRAIN_LABELS], &f[TEST_LABELS]) : NULL;
    if (!ds->labels)
        return ls_err_set(err, LS_ENOMEM, "%s: out of memory for the images", dir);
    return 0;
}

int ls_images_load(ls_dataset **out, const char *dir, ls_err *err)
{
    static const int ndims[N_FILES] = { 3, 1, 3, 1 };
    ls_idx f[N_FILES] = { { 0 } };
    char(*path)[IMAGES_PATH_MAX];
    ls_dataset *ds = NULL;
    int rc = 0;

    *out = NULL;
    path = ls_alloc(N_FILES * sizeof *path);
    ds = ls_alloc(sizeof *ds);
    if (!path || !ds) {
        rc = ls_err_set(err, LS_ENOMEM, "%s: out of memory", dir);
        goto out_free;
    }
    for (int k = 0; k < N_FILES && !rc; k++)
        rc = open_one(dir, file_names[k], ndims[k], &f[k], path[k], err);
    if (!rc)
        rc = check_all(f, path, err);
    if (!rc)
        rc = build(ds, f, dir, err);
    if (!rc) {
        *out = ds;
        ds = NULL;
    }

out_free:
    for (int k = 0; k < N_FILES; k++)
        ls_idx_free(&f[k]);
    ls_dataset_destroy(ds);
    ls_free(path);
    return rc;
}
