/* check_split.c - the validation split (dataset.h): its sizes and the
 * default rule, that no sample is in two splits and every sample is in
 * one, which samples each task sets aside (bitcount: the strings after the
 * training ones in the seeded shuffle; images: the first of the training
 * file), and the errors for a validation set that leaves nothing to test
 * or train on. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/dataset.h"
#include "lstmsweep/idx.h"

START_TEST(test_split_default_sizes)
{
    ck_assert_uint_eq(ls_dataset_default_val(LS_DATA_IMAGES, 0, 0), 5000);
    ck_assert_uint_eq(ls_dataset_default_val(LS_DATA_BITCOUNT, 20, 10000), 10000);
    /* 2^16 - 10000 = 55,536 left: 10,000 of them */
    ck_assert_uint_eq(ls_dataset_default_val(LS_DATA_BITCOUNT, 16, 10000), 10000);
    /* 2^14 - 1000 = 15,384 left: half of them */
    ck_assert_uint_eq(ls_dataset_default_val(LS_DATA_BITCOUNT, 14, 1000), 7692);
    ck_assert_uint_eq(ls_dataset_default_val(LS_DATA_BITCOUNT, 4, 10), 3);
}
END_TEST

/* Every one of the 2^bits strings is in exactly one split, and the
 * validation strings are the ones after the training strings in the same
 * seeded shuffle (so the training set does not move). */
START_TEST(test_split_bitcount_disjoint)
{
    ls_dataset *ds = NULL, *plain = NULL;
    ls_err err = {0};
    const int bits = 12;
    size_t n = (size_t)1 << bits;
    int *seen = calloc(n, sizeof *seen);

    ck_assert(seen);
    ck_assert(ls_bitcount_create(&ds, bits, 1000, 7, &err) == 0);
    ck_assert(ls_bitcount_create(&plain, bits, 1000, 7, &err) == 0);
    ck_assert_msg(ls_dataset_split_val(ds, 500, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TRAIN), 1000);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_VAL), 500);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TEST), n - 1500);
    ck_assert_uint_eq(ls_dataset_samples(ds), n);
    static const ls_split splits[3] = {LS_SPLIT_TRAIN, LS_SPLIT_VAL, LS_SPLIT_TEST};
    for (int s = 0; s < 3; s++) {
        size_t m = ls_dataset_size(ds, splits[s]);
        float *x = malloc(m * bits * sizeof *x);
        int32_t *y = malloc(m * sizeof *y);
        ck_assert(x && y);
        ls_dataset_fill_range(ds, splits[s], 0, m, x, y);
        for (size_t j = 0; j < m; j++) {
            uint32_t code = 0;
            for (int t = 0; t < bits; t++)
                code = code << 1 | (uint32_t)x[(size_t)t * m + j];
            ck_assert_msg(seen[code]++ == 0, "string %u in two splits", code);
            ck_assert_int_eq(y[j], __builtin_popcount(code));
        }
        free(x);
        free(y);
    }
    for (size_t c = 0; c < n; c++)
        ck_assert_msg(seen[c] == 1, "string %zu in no split", c);
    /* the training strings are those of the data set without a split, and
     * the validation strings come right after them in the shuffle */
    ck_assert(!memcmp(ds->codes, plain->codes, n * sizeof *ds->codes));
    ck_assert_uint_eq(ls_dataset_size(plain, LS_SPLIT_TEST), n - 1000);
    free(seen);
    ls_dataset_destroy(ds);
    ls_dataset_destroy(plain);
}
END_TEST

START_TEST(test_split_bitcount_errors)
{
    ls_dataset *ds = NULL;
    ls_err err = {0};

    ck_assert(ls_bitcount_create(&ds, 8, 200, 1, &err) == 0);
    /* 56 strings left: 56 would leave no test string */
    ck_assert_int_eq(ls_dataset_split_val(ds, 56, &err), LS_EINVAL);
    ck_assert_msg(strstr(err.msg, "val_size = 56 leaves no test strings"), "%s", err.msg);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TEST), 56);
    ck_assert_int_eq(ls_dataset_split_val(ds, 55, &err), 0);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TEST), 1);
    ck_assert_int_eq(ls_dataset_split_val(ds, 1, &err), LS_EINVAL);
    ck_assert_msg(strstr(err.msg, "already"), "%s", err.msg);
    ls_dataset_destroy(ds);
}
END_TEST

/* ---- images ---- */

enum { N_TRAIN = 8, N_TEST = 3, ROWS = 2, COLS = 3 };

static uint8_t pix(int file, int s, int t, int i)
{
    return (uint8_t)(100 * file + 10 * s + 3 * t + i);
}

static void write_file(const char *dir, const char *name, int file, uint32_t n, int images)
{
    char path[256];
    uint8_t data[N_TRAIN * ROWS * COLS];
    uint32_t dims[3] = {n, ROWS, COLS};
    ls_err err = {0};

    for (uint32_t s = 0; s < n; s++) {
        if (!images)
            data[s] = (uint8_t)((s + (uint32_t)file) % 10);
        for (int t = 0; images && t < ROWS; t++)
            for (int i = 0; i < COLS; i++)
                data[(s * ROWS + t) * COLS + i] = pix(file, (int)s, t, i);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_msg(ls_idx_write(path, images ? 3 : 1, dims, data, 0, &err) == 0, "%s", err.msg);
}

static ls_dataset *load_images(char *dir)
{
    ls_dataset *ds = NULL;
    ls_err err = {0};

    ls_test_mkdtemp(dir, 64, "split");
    write_file(dir, "train-images-idx3-ubyte", 0, N_TRAIN, 1);
    write_file(dir, "train-labels-idx1-ubyte", 0, N_TRAIN, 0);
    write_file(dir, "t10k-images-idx3-ubyte", 1, N_TEST, 1);
    write_file(dir, "t10k-labels-idx1-ubyte", 1, N_TEST, 0);
    ck_assert_msg(ls_images_load(&ds, dir, &err) == 0, "%s", err.msg);
    return ds;
}

/* Sample j of a split is image `s` of file `file` (0 train, 1 t10k). */
static void expect_image(const ls_dataset *ds, ls_split split, size_t j, int file, int s)
{
    float x[ROWS * COLS];
    int32_t y;
    ls_dataset_fill_range(ds, split, j, 1, x, &y);
    for (int t = 0; t < ROWS; t++)
        for (int i = 0; i < COLS; i++)
            ck_assert_msg(x[t * COLS + i] == (float)pix(file, s, t, i) / 255.0f,
                          "split %d sample %zu is not image %d of file %d", split, j, s, file);
    ck_assert_int_eq(y, (s + file) % 10);
}

START_TEST(test_split_images_first_of_training_file)
{
    char dir[64];
    ls_dataset *ds = load_images(dir);
    ls_err err = {0};

    ck_assert_int_eq(ls_dataset_split_val(ds, 3, &err), 0);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_VAL), 3);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TRAIN), N_TRAIN - 3);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TEST), N_TEST);
    for (int s = 0; s < 3; s++)
        expect_image(ds, LS_SPLIT_VAL, (size_t)s, 0, s);
    for (int s = 3; s < N_TRAIN; s++)
        expect_image(ds, LS_SPLIT_TRAIN, (size_t)s - 3, 0, s);
    for (int s = 0; s < N_TEST; s++)
        expect_image(ds, LS_SPLIT_TEST, (size_t)s, 1, s);
    ls_dataset_destroy(ds);
    ls_test_rmtree(dir);
}
END_TEST

START_TEST(test_split_images_errors)
{
    char dir[64];
    ls_dataset *ds = load_images(dir);
    ls_err err = {0};

    ck_assert_int_eq(ls_dataset_split_val(ds, N_TRAIN, &err), LS_EINVAL);
    ck_assert_msg(strstr(err.msg, "leaves no training images"), "%s", err.msg);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TRAIN), N_TRAIN);
    ck_assert_int_eq(ls_dataset_split_val(ds, 0, &err), 0);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_VAL), 0);
    expect_image(ds, LS_SPLIT_TRAIN, 0, 0, 0);
    ls_dataset_destroy(ds);
    ls_test_rmtree(dir);
}
END_TEST

Suite *split_suite(void)
{
    Suite *s = suite_create("split");
    ls_add_case(s, "Core", NULL, NULL,
                LS_TESTS(test_split_default_sizes, test_split_bitcount_disjoint,
                         test_split_bitcount_errors, test_split_images_first_of_training_file,
                         test_split_images_errors));
    return s;
}

LS_CHECK_MAIN(split_suite)
