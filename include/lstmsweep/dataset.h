/* dataset.h - the two sequence-classification data sets, behind one type.
 *
 * A dataset is loaded once and then only read, so any number of jobs and
 * threads may share one (the sweep runner keeps one copy per NUMA node).
 * Samples are kept compact (bit strings as integers, pixels as bytes) and
 * expanded to floats only for the mini-batch at hand by ls_dataset_fill().
 *
 *  bitcount: all 2^bits strings, shuffled with the seed; the first
 *            train_size are the training set, all the rest the test set
 *            (until ls_dataset_split_val takes the validation set from it).
 *            One bit per time step (T = bits, I = 1), label = number of ones
 *            (bits + 1 classes).
 *  images:   the four standard IDX files of MNIST / Fashion-MNIST in one
 *            directory, plain or gzip; each image row is one time step
 *            (T = rows, I = cols), pixels scaled to [0, 1], 10 classes.
 *
 * Validation: ls_dataset_split_val() sets a validation split aside,
 * disjoint from the other two, the way each task's tutorial would:
 *  bitcount: the val_size strings that follow the training strings in the
 *            seeded shuffle (a draw, with the job's seed, from the strings
 *            not used for training); the test set is all the rest.
 *  images:   the first val_size images of the training file (TensorFlow's
 *            input_data: 5,000 of MNIST's 60,000); the others train.
 *
 * Ownership: the *_create / *_load functions allocate a dataset the caller
 * frees with ls_dataset_destroy() (NULL is a no-op).  On error they return a
 * negative LS_E* code, leave *out NULL and write a message naming the file
 * and the problem into err.
 */
#ifndef LSTMSWEEP_DATASET_H
#define LSTMSWEEP_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/error.h"

/* LS_SPLIT_EVAL is what an evaluation reads: the validation samples, then
 * the test samples, as one sequence (so one pass, with one partial batch,
 * scores both). */
typedef enum { LS_SPLIT_TRAIN = 0, LS_SPLIT_TEST = 1, LS_SPLIT_VAL = 2,
               LS_SPLIT_EVAL = 3 } ls_split;

typedef enum { LS_DATA_BITCOUNT = 0, LS_DATA_IMAGES = 1 } ls_data_kind;

#define LS_BITCOUNT_MAX_BITS 30

typedef struct ls_dataset {
    ls_data_kind kind;
    char name[256];     /* "bitcount-20" or the directory it was read from */
    int T;              /* time steps per sample */
    int I;              /* input features per time step */
    int classes;        /* number of labels */
    size_t n_train;     /* training samples */
    size_t n_test;      /* test samples */
    size_t n_val;       /* validation samples (0 until split off) */
    /* Storage: bitcount train | val | test; images val | train | test
     * (each in its files' order); see split_offset() in dataset.c. */
    int bits;           /* bitcount: string length (== T) */
    uint32_t *codes;    /* bitcount: 2^bits strings; step t is
                           bit (bits - 1 - t), so the binary numeral of a
                           code reads in time order */
    uint8_t *pixels;    /* images: samples * T * I bytes */
    uint8_t *labels;    /* one label per sample, in [0, classes) */
} ls_dataset;

/* bitcount with 1 <= bits <= LS_BITCOUNT_MAX_BITS and
 * 1 <= train_size < 2^bits.  The permutation depends only on (bits, seed). */
int ls_bitcount_create(ls_dataset **out, int bits, size_t train_size,
                       uint64_t seed, ls_err *err);

/* Parse a string of '0'/'1' characters into a code as stored above.
 * Returns the number of bits (> 0) or LS_EINVAL for any other character or
 * a length outside [1, LS_BITCOUNT_MAX_BITS]. */
int ls_bitcount_parse(const char *s, uint32_t *code, ls_err *err);

/* Load train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or with
 * .gz) from dir.  Validates magic numbers, dimensions, counts and exact file
 * lengths; any problem is LS_EFORMAT (or LS_EIO) with the file named. */
int ls_images_load(ls_dataset **out, const char *dir, ls_err *err);

void ls_dataset_destroy(ls_dataset *ds);

/* Set val_size samples aside as the validation split (see above); 0 keeps
 * none.  LS_EINVAL, with a message, if it was split already or if val_size
 * would leave no test strings (bitcount) or no training images (images). */
int ls_dataset_split_val(ls_dataset *ds, size_t val_size, ls_err *err);

/* The default validation size: bitcount 10,000 strings, or half of those
 * left after training when fewer than 20,000 are; images 5,000. */
size_t ls_dataset_default_val(ls_data_kind kind, int bits, size_t train_size);

/* A deep copy, whose pages are first touched by the calling thread (so a
 * thread bound to a NUMA node makes a node-local copy).  LS_ENOMEM. */
int ls_dataset_clone(ls_dataset **out, const ls_dataset *ds, ls_err *err);

/* Samples of all splits. */
size_t ls_dataset_samples(const ls_dataset *ds);

/* Bytes of sample storage the dataset holds. */
size_t ls_dataset_bytes(const ls_dataset *ds);

/* Number of samples in a split. */
size_t ls_dataset_size(const ls_dataset *ds, ls_split split);

/* Expand samples idx[0..n) of `split` into a time-major batch
 * x[(t * n + j) * I + i] (oneDNN's `tnc` layout, batch size n) and, if y is
 * not NULL, their labels y[j].  idx entries must be < ls_dataset_size(). */
void ls_dataset_fill(const ls_dataset *ds, ls_split split,
                     const uint32_t *idx, size_t n, float *x, int32_t *y);

/* Same for the contiguous range [first, first + n) of `split`. */
void ls_dataset_fill_range(const ls_dataset *ds, ls_split split, size_t first,
                           size_t n, float *x, int32_t *y);

/* The data set's sample buffers (up to max into out): how many. */
size_t ls_dataset_areas(const ls_dataset *ds, ls_area *out, size_t max);

#endif
