/* check_data.c - tests of the data sets: bitcount, IDX files and
 * ls_images_load, and the batch expansion ls_dataset_fill. */

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check_util.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/dataset.h"
#include "lstmsweep/idx.h"

/* --- Temporary files ---------------------------------------------------
 * One base directory per test case, made and removed by an unchecked
 * fixture: that runs in the parent process, so the directory is removed
 * even when a (forked) test fails half-way.  Each test makes its own
 * subdirectory in it. */

static char base_dir[] = "/tmp/check_data.XXXXXX";

static void base_setup(void)
{
    if (!mkdtemp(base_dir))
        abort();
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    return remove(path);
}

static void base_teardown(void)
{
    nftw(base_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    strcpy(base_dir, "/tmp/check_data.XXXXXX");
}

static void make_dir(char *dir, size_t size)
{
    snprintf(dir, size, "%s/t.XXXXXX", base_dir);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void join(char *out, size_t size, const char *dir, const char *name)
{
    ck_assert_int_lt(snprintf(out, size, "%s/%s", dir, name), (int)size);
}

/* Write raw bytes, plain or gzip: for headers the library would refuse to
 * write. */
static void write_raw(const char *path, const void *bytes, size_t len, int gz)
{
    gzFile f = gzopen(path, gz ? "wb" : "wbT");
    ck_assert_ptr_nonnull(f);
    if (len)
        ck_assert_int_eq(gzwrite(f, bytes, (unsigned)len), (int)len);
    ck_assert_int_eq(gzclose(f), Z_OK);
}

static void append_byte(const char *path)
{
    FILE *f = fopen(path, "ab");
    ck_assert_ptr_nonnull(f);
    fputc(42, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Expect failure `code` with the message naming `what` (and `also`). */
#define ck_assert_err(rc, err, want, what, also)                          \
    do {                                                                  \
        ck_assert_int_eq((rc), (want));                                   \
        ck_assert_int_eq((err).code, (want));                             \
        ck_assert_msg(strstr((err).msg, (what)) != NULL,                  \
                      "message \"%s\" lacks \"%s\"", (err).msg, (what));  \
        ck_assert_msg(strstr((err).msg, (also)) != NULL,                  \
                      "message \"%s\" lacks \"%s\"", (err).msg, (also));  \
    } while (0)

/* --- bitcount ---------------------------------------------------------- */

static int bit_of(uint32_t code, int bits, int t)
{
    return (int)((code >> (bits - 1 - t)) & 1u);
}

/* What the runner counts for a data set (ls_dataset_bytes: its sample
 * storage) is what it holds through ls_alloc, but for the ls_dataset
 * struct itself; and destroying it gives every byte back. */
static void expect_dataset_memory(ls_dataset *ds, size_t start)
{
    ck_assert_uint_eq(ls_alloc_live_bytes() - start,
                      ls_dataset_bytes(ds) + sizeof(ls_dataset));
    ls_dataset *copy = NULL;
    ls_err err = { 0 };
    ck_assert_int_eq(ls_dataset_clone(&copy, ds, &err), 0);
    ck_assert_uint_eq(ls_alloc_live_bytes() - start,
                      2 * (ls_dataset_bytes(ds) + sizeof(ls_dataset)));
    ls_dataset_destroy(copy);
    ls_dataset_destroy(ds);
    ck_assert_uint_eq(ls_alloc_live_bytes(), start);
}

START_TEST(test_data_bitcount_sizes)
{
    ls_dataset *ds = NULL;
    ls_err err = { 0 };
    size_t start = ls_alloc_live_bytes();

    ck_assert_int_eq(ls_bitcount_create(&ds, 20, 10000, 1, &err), 0);
    ck_assert_int_eq(ds->kind, LS_DATA_BITCOUNT);
    ck_assert_str_eq(ds->name, "bitcount-20");
    ck_assert_int_eq(ds->T, 20);
    ck_assert_int_eq(ds->I, 1);
    ck_assert_int_eq(ds->classes, 21);
    ck_assert_int_eq(ds->bits, 20);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TRAIN), 10000);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TEST), 1038576);
    expect_dataset_memory(ds, start);
    ls_dataset_destroy(NULL);
}
END_TEST

START_TEST(test_data_bitcount_labels_are_popcount)
{
    ls_dataset *ds = NULL;
    ck_assert_int_eq(ls_bitcount_create(&ds, 20, 10000, 7, NULL), 0);
    for (size_t k = 0; k < ds->n_train + ds->n_test; k++)
        ck_assert_int_eq(ds->labels[k], __builtin_popcount(ds->codes[k]));

    /* And the expanded batch: each column's bits are the code, their sum
     * the label.  Indices from both ends of both splits. */
    const uint32_t idx[2][4] = { { 0, 9999, 5, 17 }, { 0, 1038575, 12345, 3 } };
    for (int sp = 0; sp < 2; sp++) {
        const size_t n = 4, off = sp ? ds->n_train : 0;
        float x[20 * 4];
        int32_t y[4];
        ls_dataset_fill(ds, (ls_split)sp, idx[sp], n, x, y);
        for (size_t j = 0; j < n; j++) {
            uint32_t code = ds->codes[off + idx[sp][j]];
            float sum = 0;
            for (int t = 0; t < 20; t++) {
                ck_assert_float_eq(x[t * n + j], (float)bit_of(code, 20, t));
                sum += x[t * n + j];
            }
            ck_assert_int_eq(y[j], __builtin_popcount(code));
            ck_assert_float_eq(sum, (float)y[j]);
        }
    }
    ls_dataset_destroy(ds);
}
END_TEST

START_TEST(test_data_bitcount_is_permutation)
{
    ls_dataset *ds = NULL;
    ck_assert_int_eq(ls_bitcount_create(&ds, 20, 10000, 3, NULL), 0);
    size_t n = ds->n_train + ds->n_test;
    ck_assert_uint_eq(n, (size_t)1 << 20);
    uint8_t *seen = calloc(n, 1);
    ck_assert_ptr_nonnull(seen);
    for (size_t k = 0; k < n; k++) {
        ck_assert_uint_lt(ds->codes[k], n);
        ck_assert_int_eq(seen[ds->codes[k]]++, 0);
    }
    free(seen);
    ls_dataset_destroy(ds);
}
END_TEST

START_TEST(test_data_bitcount_seed_decides_split)
{
    ls_dataset *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    ck_assert_int_eq(ls_bitcount_create(&a, 16, 1000, 42, NULL), 0);
    ck_assert_int_eq(ls_bitcount_create(&b, 16, 1000, 42, NULL), 0);
    ck_assert_int_eq(ls_bitcount_create(&c, 16, 1000, 43, NULL), 0);
    /* The permutation depends on (bits, seed) only, not on train_size. */
    ck_assert_int_eq(ls_bitcount_create(&d, 16, 5000, 42, NULL), 0);
    size_t bytes = ((size_t)1 << 16) * sizeof(uint32_t);
    ck_assert_int_eq(memcmp(a->codes, b->codes, bytes), 0);
    ck_assert_int_ne(memcmp(a->codes, c->codes, 1000 * sizeof(uint32_t)), 0);
    ck_assert_int_eq(memcmp(a->codes, d->codes, bytes), 0);
    ls_dataset_destroy(a);
    ls_dataset_destroy(b);
    ls_dataset_destroy(c);
    ls_dataset_destroy(d);
}
END_TEST

START_TEST(test_data_bitcount_other_lengths)
{
    static const int bits[] = { 1, 4, 12 };
    for (size_t k = 0; k < sizeof bits / sizeof bits[0]; k++) {
        ls_dataset *ds = NULL;
        int b = bits[k];
        size_t n = (size_t)1 << b;
        ck_assert_int_eq(ls_bitcount_create(&ds, b, n - 1, 5, NULL), 0);
        ck_assert_int_eq(ds->T, b);
        ck_assert_int_eq(ds->classes, b + 1);
        ck_assert_uint_eq(ds->n_test, 1);

        /* The whole training set in one batch. */
        float *x = malloc(sizeof(float) * (size_t)b * (n - 1));
        int32_t *y = malloc(sizeof(int32_t) * (n - 1));
        ck_assert(x && y);
        ls_dataset_fill_range(ds, LS_SPLIT_TRAIN, 0, n - 1, x, y);
        for (size_t j = 0; j < n - 1; j++) {
            int sum = 0;
            for (int t = 0; t < b; t++) {
                ck_assert_float_eq(x[t * (n - 1) + j], (float)bit_of(ds->codes[j], b, t));
                sum += (int)x[t * (n - 1) + j];
            }
            ck_assert_int_eq(y[j], sum);
        }
        free(x);
        free(y);
        ls_dataset_destroy(ds);
    }
}
END_TEST

START_TEST(test_data_bitcount_parse_round_trip)
{
    static const char s[] = "01010010011011100110";
    ls_dataset *ds = NULL;
    ls_err err = { 0 };
    uint32_t code = 0;

    ck_assert_int_eq(ls_bitcount_parse(s, &code, &err), 20);
    ck_assert_uint_eq(code, 0x526e6); /* the string read as a binary numeral */
    ck_assert_int_eq(__builtin_popcount(code), 10);

    /* Find where the split put this string and expand it again. */
    ck_assert_int_eq(ls_bitcount_create(&ds, 20, 10000, 11, NULL), 0);
    size_t pos = 0;
    while (ds->codes[pos] != code)
        pos++;
    ls_split split = pos < ds->n_train ? LS_SPLIT_TRAIN : LS_SPLIT_TEST;
    size_t k = split == LS_SPLIT_TRAIN ? pos : pos - ds->n_train;
    float x[20];
    int32_t y;
    ls_dataset_fill_range(ds, split, k, 1, x, &y);
    for (int t = 0; t < 20; t++)
        ck_assert_float_eq(x[t], (float)(s[t] - '0'));
    ck_assert_int_eq(y, 10);
    ls_dataset_destroy(ds);

    ck_assert_int_eq(ls_bitcount_parse("1", &code, NULL), 1);
    ck_assert_uint_eq(code, 1);
    char ones30[31];
    memset(ones30, '1', 30);
    ones30[30] = '\0';
    ck_assert_int_eq(ls_bitcount_parse(ones30, &code, NULL), 30);
    ck_assert_uint_eq(code, (1u << 30) - 1);
}
END_TEST

START_TEST(test_data_fill_range_matches_fill)
{
    ls_dataset *ds = NULL;
    float xa[10 * 8], xb[10 * 8];
    int32_t ya[8], yb[8];
    uint32_t idx[8];

    ck_assert_int_eq(ls_bitcount_create(&ds, 10, 600, 9, NULL), 0);
    for (int sp = 0; sp < 2; sp++) {
        for (uint32_t j = 0; j < 8; j++)
            idx[j] = 100 + j;
        ls_dataset_fill(ds, (ls_split)sp, idx, 8, xa, ya);
        ls_dataset_fill_range(ds, (ls_split)sp, 100, 8, xb, yb);
        ck_assert_int_eq(memcmp(xa, xb, sizeof xa), 0);
        ck_assert_int_eq(memcmp(ya, yb, sizeof ya), 0);
        /* y is optional. */
        ls_dataset_fill_range(ds, (ls_split)sp, 100, 8, xb, NULL);
        ck_assert_int_eq(memcmp(xa, xb, sizeof xa), 0);
    }
    ls_dataset_destroy(ds);
}
END_TEST

START_TEST(test_data_bitcount_bad_args)
{
    static const struct { int bits; size_t train; const char *what; } bad[] = {
        { 0, 1, "bits" }, { 31, 1, "bits" }, { -3, 1, "bits" },
        { 4, 0, "train_size" }, { 4, 16, "train_size" }, { 4, 17, "train_size" },
        { 20, (size_t)1 << 20, "train_size" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ls_dataset *ds = (ls_dataset *)&bad; /* must be reset to NULL */
        ls_err err = { 0 };
        int rc = ls_bitcount_create(&ds, bad[k].bits, bad[k].train, 1, &err);
        ck_assert_err(rc, err, LS_EINVAL, "bitcount", bad[k].what);
        ck_assert_ptr_null(ds);
    }
    ls_dataset *ds = NULL;
    ck_assert_int_eq(ls_bitcount_create(&ds, 0, 1, 1, NULL), LS_EINVAL);
}
END_TEST

START_TEST(test_data_bitcount_parse_bad)
{
    char ones31[32];
    memset(ones31, '1', 31);
    ones31[31] = '\0';
    const char *const bad[] = { "", "0120", "10 1", "0b101", ones31 };
    uint32_t code = 7;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ls_err err = { 0 };
        ck_assert_int_eq(ls_bitcount_parse(bad[k], &code, &err), LS_EINVAL);
        ck_assert_int_eq(err.code, LS_EINVAL);
        ck_assert_msg(strstr(err.msg, "bit string") != NULL, "%s", err.msg);
    }
    ck_assert_int_eq(ls_bitcount_parse(NULL, &code, NULL), LS_EINVAL);
    ck_assert_uint_eq(code, 7); /* untouched on error */
}
END_TEST

/* --- IDX files --------------------------------------------------------- */

static void check_round_trip(int gz)
{
    static const uint32_t dims[3] = { 3, 4, 5 };
    uint8_t data[60], head[4];
    char dir[256], path[512];
    ls_idx idx;
    ls_err err = { 0 };

    for (int k = 0; k < 60; k++)
        data[k] = (uint8_t)(k * 7 + 1);
    make_dir(dir, sizeof dir);
    join(path, sizeof path, dir, gz ? "a.idx.gz" : "a.idx");
    ck_assert_int_eq(ls_idx_write(path, 3, dims, data, gz, &err), 0);

    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(head, 1, 4, f), 4);
    fclose(f);
    if (gz) {
        ck_assert_uint_eq(head[0], 0x1f);
        ck_assert_uint_eq(head[1], 0x8b);
    } else {
        ck_assert_int_eq(memcmp(head, "\0\0\x08\x03", 4), 0);
    }

    ck_assert_int_eq(ls_idx_read(&idx, path, 3, &err), 0);
    ck_assert_int_eq(idx.ndims, 3);
    for (int d = 0; d < 3; d++)
        ck_assert_uint_eq(idx.dims[d], dims[d]);
    ck_assert_uint_eq(idx.size, 60);
    ck_assert_int_eq(memcmp(idx.data, data, 60), 0);
    ls_idx_free(&idx);
    ck_assert_ptr_null(idx.data);
}

START_TEST(test_data_idx_round_trip_plain)
{
    check_round_trip(0);
}
END_TEST

START_TEST(test_data_idx_round_trip_gzip)
{
    check_round_trip(1);
}
END_TEST

/* A (10, 28, 28) image file, with pseudo-random pixels so that gzip
 * cannot shrink it much and a cut in the middle is a cut in the data. */
static size_t image_file_bytes(uint8_t *buf)
{
    static const uint8_t head[16] = { 0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28 };
    uint32_t s = 12345;
    memcpy(buf, head, 16);
    for (size_t k = 0; k < 7840; k++) {
        s = s * 1103515245u + 12345u;
        buf[16 + k] = (uint8_t)(s >> 16);
    }
    return 16 + 7840;
}

START_TEST(test_data_idx_truncated_plain)
{
    static uint8_t buf[16 + 7840];
    char dir[256], path[512];
    ls_idx idx;
    ls_err err = { 0 };

    make_dir(dir, sizeof dir);
    join(path, sizeof path, dir, "short-idx3-ubyte");
    image_file_bytes(buf);
    write_raw(path, buf, 16 + 1234, 0);
    int rc = ls_idx_read(&idx, path, 3, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path,
                  "truncated: header announces 7840 bytes of data, file holds 1234");
    ck_assert_ptr_null(idx.data);

    /* Cut inside the header, and an empty file. */
    write_raw(path, buf, 10, 0);
    ck_assert_err(ls_idx_read(&idx, path, 3, &err), err, LS_EFORMAT, path, "truncated");
    write_raw(path, buf, 0, 0);
    ck_assert_err(ls_idx_read(&idx, path, 3, &err), err, LS_EFORMAT, path, "truncated");
}
END_TEST

START_TEST(test_data_idx_truncated_gzip)
{
    static uint8_t buf[16 + 7840];
    char dir[256], path[512];
    ls_idx idx;
    ls_err err = { 0 };

    make_dir(dir, sizeof dir);
    join(path, sizeof path, dir, "short-idx3-ubyte.gz");
    write_raw(path, buf, image_file_bytes(buf), 1);
    ck_assert_int_eq(ls_idx_read(&idx, path, 3, &err), 0);
    ls_idx_free(&idx);

    /* Cut the compressed file in half: the gzip stream ends early. */
    ck_assert_int_eq(truncate(path, 4000), 0);
    int rc = ls_idx_read(&idx, path, 3, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "truncated");
}
END_TEST

START_TEST(test_data_idx_corrupt_gzip)
{
    static uint8_t buf[16 + 7840];
    char dir[256], path[512];
    ls_idx idx;
    ls_err err = { 0 };

    make_dir(dir, sizeof dir);
    join(path, sizeof path, dir, "bad.gz");
    /* Compressible content, so the damage hits Huffman-coded data. */
    image_file_bytes(buf);
    memset(buf + 16, 3, 7840);
    write_raw(path, buf, sizeof buf, 1);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 14, SEEK_SET);
    fputs("\xff\xff\xff\xff\xff\xff", f);
    fclose(f);
    int rc = ls_idx_read(&idx, path, 3, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "gzip");

    /* Intact data but a wrong checksum at the end. */
    write_raw(path, buf, sizeof buf, 1);
    f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, -8, SEEK_END);
    int c = fgetc(f);
    fseek(f, -8, SEEK_END);
    fputc(c ^ 1, f);
    fclose(f);
    rc = ls_idx_read(&idx, path, 3, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "gzip");
}
END_TEST

START_TEST(test_data_idx_wrong_magic)
{
    static const uint8_t zip[16] = "PK\x03\x04 not idx!";
    static const uint8_t floats[8] = { 0, 0, 0x0d, 1, 0, 0, 0, 1 };
    char dir[256], path[512];
    ls_idx idx;
    ls_err err = { 0 };

    make_dir(dir, sizeof dir);
    join(path, sizeof path, dir, "archive.zip");
    write_raw(path, zip, sizeof zip, 0);
    int rc = ls_idx_read(&idx, path, 1, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "not an IDX file (magic 0x504b0304)");

    write_raw(path, zip, sizeof zip, 1);
    rc = ls_idx_read(&idx, path, 1, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "not an IDX file");

    /* Valid IDX, but float data. */
    write_raw(path, floats, sizeof floats, 0);
    rc = ls_idx_read(&idx, path, 1, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "0x0d");
}
END_TEST

START_TEST(test_data_idx_bad_dims)
{
    static const uint8_t zero[16] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5 };
    static const uint32_t dims[2] = { 2, 3 };
    static const uint8_t data[6] = { 0 };
    char dir[256], path[512];
    ls_idx idx;
    ls_err err = { 0 };

    make_dir(dir, sizeof dir);
    join(path, sizeof path, dir, "flat-idx2-ubyte");
    ck_assert_int_eq(ls_idx_write(path, 2, dims, data, 0, &err), 0);
    int rc = ls_idx_read(&idx, path, 3, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "has 2 dimensions, expected 3");

    write_raw(path, zero, sizeof zero, 0);
    rc = ls_idx_read(&idx, path, 3, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "dimension 1 is 0");

    /* 2^32-1 cubed overflows 64 bits. */
    static const uint8_t huge[16] = { 0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255,
                                      255, 255, 255, 255 };
    write_raw(path, huge, sizeof huge, 0);
    rc = ls_idx_read(&idx, path, 3, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "overflow");
}
END_TEST

START_TEST(test_data_idx_trailing_data)
{
    static const uint8_t longer[12] = { 0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3, 4 };
    static const uint32_t dims[1] = { 3 };
    char dir[256], path[512];
    ls_idx idx;
    ls_err err = { 0 };

    make_dir(dir, sizeof dir);
    join(path, sizeof path, dir, "labels-idx1-ubyte");
    ck_assert_int_eq(ls_idx_write(path, 1, dims, longer + 8, 0, &err), 0);
    append_byte(path);
    int rc = ls_idx_read(&idx, path, 1, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "trailing data");

    join(path, sizeof path, dir, "labels-idx1-ubyte.gz");
    write_raw(path, longer, sizeof longer, 1);
    rc = ls_idx_read(&idx, path, 1, &err);
    ck_assert_err(rc, err, LS_EFORMAT, path, "trailing data");
}
END_TEST

START_TEST(test_data_idx_io_errors)
{
    static const uint32_t dims[1] = { 1 }, zero[2] = { 1, 0 };
    static const uint8_t data[1] = { 0 };
    char dir[256], path[512];
    ls_idx idx;
    ls_err err = { 0 };

    make_dir(dir, sizeof dir);
    join(path, sizeof path, dir, "missing-idx1-ubyte");
    int rc = ls_idx_read(&idx, path, 1, &err);
    ck_assert_err(rc, err, LS_EIO, path, "No such file");

    join(path, sizeof path, dir, "no-such-dir/out-idx1-ubyte");
    rc = ls_idx_write(path, 1, dims, data, 1, &err);
    ck_assert_err(rc, err, LS_EIO, path, "No such file");

    join(path, sizeof path, dir, "out-idx2-ubyte");
    ck_assert_int_eq(ls_idx_write(path, 2, zero, data, 0, &err), LS_EINVAL);
    ck_assert_int_eq(ls_idx_write(path, 0, dims, data, 0, &err), LS_EINVAL);
    ck_assert_int_eq(ls_idx_write(path, 5, dims, data, 0, &err), LS_EINVAL);
    ck_assert_int_eq(ls_idx_read(&idx, path, 5, &err), LS_EINVAL);
}
END_TEST

/* --- ls_images_load ----------------------------------------------------
 * A small data set: 6 training and 3 test images of 5 rows x 7 columns.
 * The files are a mix of plain and gzip, as both must be found. */

enum { ROWS = 5, COLS = 7, N_TRAIN = 6, N_TEST = 3 };

static uint8_t pixel(int split, int s, int t, int i)
{
    return (uint8_t)(split * 101 + s * 31 + t * 7 + i * 3);
}

static uint8_t label(int split, int s)
{
    return (uint8_t)((split * 3 + s) % 10);
}

static void write_images(const char *dir, const char *name, int split, uint32_t n,
                         uint32_t rows, int ndims)
{
    uint32_t dims[3] = { n, rows, COLS };
    uint8_t *data = malloc((size_t)n * rows * COLS);
    char path[512];
    ls_err err = { 0 };

    ck_assert_ptr_nonnull(data);
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t t = 0; t < rows; t++)
            for (int i = 0; i < COLS; i++)
                data[(s * rows + t) * COLS + i] = pixel(split, (int)s, (int)t, i);
    if (ndims == 2)
        dims[1] = rows * COLS;
    join(path, sizeof path, dir, name);
    ck_assert_int_eq(ls_idx_write(path, ndims, dims, data, strstr(name, ".gz") != NULL,
                                  &err), 0);
    free(data);
}

/* bad_at >= 0 puts an out-of-range label there. */
static void write_labels(const char *dir, const char *name, int split, uint32_t n,
                         int bad_at)
{
    uint8_t data[16];
    char path[512];
    ls_err err = { 0 };

    for (uint32_t s = 0; s < n; s++)
        data[s] = s == (uint32_t)bad_at ? 10 : label(split, (int)s);
    join(path, sizeof path, dir, name);
    ck_assert_int_eq(ls_idx_write(path, 1, &n, data, strstr(name, ".gz") != NULL, &err),
                     0);
}

#define TRAIN_IMAGES "train-images-idx3-ubyte"
#define TRAIN_LABELS "train-labels-idx1-ubyte.gz"
#define TEST_IMAGES "t10k-images-idx3-ubyte.gz"
#define TEST_LABELS "t10k-labels-idx1-ubyte"

static void write_small_set(char *dir, size_t size)
{
    make_dir(dir, size);
    write_images(dir, TRAIN_IMAGES, 0, N_TRAIN, ROWS, 3);
    write_labels(dir, TRAIN_LABELS, 0, N_TRAIN, -1);
    write_images(dir, TEST_IMAGES, 1, N_TEST, ROWS, 3);
    write_labels(dir, TEST_LABELS, 1, N_TEST, -1);
}

START_TEST(test_data_images_load)
{
    char dir[256];
    ls_dataset *ds = NULL;
    ls_err err = { 0 };

    write_small_set(dir, sizeof dir);
    size_t start = ls_alloc_live_bytes();
    ck_assert_int_eq(ls_images_load(&ds, dir, &err), 0);
    ck_assert_int_eq(ds->kind, LS_DATA_IMAGES);
    ck_assert_str_eq(ds->name, dir);
    ck_assert_int_eq(ds->T, ROWS);
    ck_assert_int_eq(ds->I, COLS);
    ck_assert_int_eq(ds->classes, 10);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TRAIN), N_TRAIN);
    ck_assert_uint_eq(ls_dataset_size(ds, LS_SPLIT_TEST), N_TEST);
    for (int k = 0; k < N_TRAIN + N_TEST; k++) {
        int split = k >= N_TRAIN, s = split ? k - N_TRAIN : k;
        ck_assert_uint_eq(ds->labels[k], label(split, s));
        for (int t = 0; t < ROWS; t++)
            for (int i = 0; i < COLS; i++)
                ck_assert_uint_eq(ds->pixels[(k * ROWS + t) * COLS + i],
                                  pixel(split, s, t, i));
    }

    /* Expanded: tnc layout, pixels / 255. */
    static const uint32_t idx[2] = { 2, 0 };
    float x[ROWS * 2 * COLS];
    int32_t y[3];
    ls_dataset_fill(ds, LS_SPLIT_TEST, idx, 2, x, y);
    for (int j = 0; j < 2; j++) {
        ck_assert_int_eq(y[j], label(1, (int)idx[j]));
        for (int t = 0; t < ROWS; t++)
            for (int i = 0; i < COLS; i++)
                ck_assert_float_eq(x[(t * 2 + j) * COLS + i],
                                   pixel(1, (int)idx[j], t, i) / 255.0f);
    }
    float xr[ROWS * 3 * COLS];
    ls_dataset_fill_range(ds, LS_SPLIT_TRAIN, 3, 3, xr, y);
    ck_assert_float_eq(xr[(4 * 3 + 1) * COLS + 6], pixel(0, 4, 4, 6) / 255.0f);
    ck_assert_int_eq(y[2], label(0, 5));
    expect_dataset_memory(ds, start);
}
END_TEST

/* Every allocation of a load can fail (fault injection reaches them all,
 * zlib's own aside): the load then ends with LS_ENOMEM, no data set, and
 * nothing leaked. */
START_TEST(test_data_allocation_failures)
{
    char dir[256];
    ls_err err = { 0 };
    int n, rc;
    write_small_set(dir, sizeof dir);
    for (int images = 0; images < 2; images++) {
        for (n = 1, rc = -1; rc != 0 && n < 100; n++) {
            ls_dataset *ds = (ls_dataset *)dir;
            size_t start = ls_alloc_live_bytes();
            ls_alloc_fail_at(n);
            rc = images ? ls_images_load(&ds, dir, &err)
                        : ls_bitcount_create(&ds, 12, 1000, 1, &err);
            ls_alloc_fail_at(0);
            ck_assert_msg(rc == 0 || (rc == LS_ENOMEM && !ds && strstr(err.msg, "memory")),
                          "allocation %d: rc %d, %s", n, rc, err.msg);
            ls_dataset_destroy(ds);
            ck_assert_uint_eq(ls_alloc_live_bytes(), start);
        }
        ck_assert_int_eq(rc, 0);
        ck_assert_int_ge(n, 4); /* at least 3 allocations failed in turn */
    }
}
END_TEST

/* Load dir, expecting failure `code` with a message naming `what`. */
static void expect_load_error(const char *dir, int code, const char *what,
                              const char *also)
{
    ls_dataset *ds = (ls_dataset *)dir; /* must be reset to NULL */
    ls_err err = { 0 };
    size_t start = ls_alloc_live_bytes();
    int rc = ls_images_load(&ds, dir, &err);
    ck_assert_err(rc, err, code, what, also);
    ck_assert_ptr_null(ds);
    ck_assert_uint_eq(ls_alloc_live_bytes(), start); /* nothing leaked */
}

START_TEST(test_data_images_count_mismatch)
{
    char dir[256];
    write_small_set(dir, sizeof dir);
    write_labels(dir, TRAIN_LABELS, 0, N_TRAIN - 1, -1);
    expect_load_error(dir, LS_EFORMAT, "train-images-idx3-ubyte: 6 images but",
                      "train-labels-idx1-ubyte.gz has 5 labels");
}
END_TEST

START_TEST(test_data_images_size_mismatch)
{
    char dir[256];
    write_small_set(dir, sizeof dir);
    write_images(dir, TEST_IMAGES, 1, N_TEST, ROWS - 1, 3);
    expect_load_error(dir, LS_EFORMAT, "t10k-images-idx3-ubyte.gz: images are 4x7", "5x7");
}
END_TEST

START_TEST(test_data_images_flat_file)
{
    char dir[256];
    write_small_set(dir, sizeof dir);
    write_images(dir, TRAIN_IMAGES, 0, N_TRAIN, ROWS, 2);
    expect_load_error(dir, LS_EFORMAT, "train-images-idx3-ubyte", "has 2 dimensions");
}
END_TEST

START_TEST(test_data_images_bad_label)
{
    char dir[256];
    write_small_set(dir, sizeof dir);
    write_labels(dir, TEST_LABELS, 1, N_TEST, 2);
    expect_load_error(dir, LS_EFORMAT, "t10k-labels-idx1-ubyte", "label 10 at index 2");
}
END_TEST

START_TEST(test_data_images_trailing_data)
{
    char dir[256], path[512];
    write_small_set(dir, sizeof dir);
    join(path, sizeof path, dir, TEST_LABELS);
    append_byte(path);
    expect_load_error(dir, LS_EFORMAT, "t10k-labels-idx1-ubyte", "trailing data");
}
END_TEST

START_TEST(test_data_images_truncated)
{
    char dir[256], path[512];
    write_small_set(dir, sizeof dir);
    join(path, sizeof path, dir, TRAIN_IMAGES);
    ck_assert_int_eq(truncate(path, 16 + 100), 0);
    expect_load_error(dir, LS_EFORMAT, "train-images-idx3-ubyte",
                      "header announces 210 bytes of data, file holds 100");
}
END_TEST

START_TEST(test_data_images_missing_file)
{
    char dir[256], path[512];
    write_small_set(dir, sizeof dir);
    join(path, sizeof path, dir, TEST_LABELS);
    ck_assert_int_eq(unlink(path), 0);
    expect_load_error(dir, LS_EIO, "t10k-labels-idx1-ubyte", ".gz");

    join(path, sizeof path, dir, "nonexistent");
    expect_load_error(path, LS_EIO, "nonexistent/train-images-idx3-ubyte", "not found");
}
END_TEST

Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *core = tcase_create("Core");
    TCase *limits = tcase_create("Limits");

    tcase_add_unchecked_fixture(core, base_setup, base_teardown);
    ls_add_tests(core, LS_TESTS(test_data_bitcount_sizes,
                                test_data_bitcount_labels_are_popcount,
                                test_data_bitcount_is_permutation,
                                test_data_bitcount_seed_decides_split,
                                test_data_bitcount_other_lengths,
                                test_data_bitcount_parse_round_trip,
                                test_data_fill_range_matches_fill,
                                test_data_idx_round_trip_plain, test_data_idx_round_trip_gzip,
                                test_data_images_load));
    suite_add_tcase(s, core);

    tcase_add_unchecked_fixture(limits, base_setup, base_teardown);
    ls_add_tests(limits, LS_TESTS(test_data_bitcount_bad_args, test_data_bitcount_parse_bad,
                                  test_data_idx_truncated_plain, test_data_idx_truncated_gzip,
                                  test_data_idx_corrupt_gzip, test_data_idx_wrong_magic,
                                  test_data_idx_bad_dims, test_data_idx_trailing_data,
                                  test_data_idx_io_errors, test_data_images_count_mismatch,
                                  test_data_images_size_mismatch, test_data_images_flat_file,
                                  test_data_images_bad_label, test_data_images_trailing_data,
                                  test_data_images_truncated, test_data_images_missing_file,
                                  test_data_allocation_failures));
    suite_add_tcase(s, limits);
    return s;
}

LS_CHECK_MAIN(data_suite)
