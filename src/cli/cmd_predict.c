/* cmd_predict.c - `lstmsweep predict`: classify bit strings, or MNIST test
 * images, with a model saved by `train --save`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/dataset.h"
#include "lstmsweep/modelfile.h"

static void predict_usage(FILE *f)
{
    fprintf(f, "usage: lstmsweep predict --model FILE BITSTRING...\n"
               "       lstmsweep predict --model FILE --data DIR --index N...\n\n"
               "Print the predicted class and the class probabilities.\n"
               "  --model FILE   model written by `lstmsweep train --save`\n"
               "  --data DIR     (mnist models) IDX directory; with --index,\n"
               "  --index N      classify test image N (repeatable)\n");
}

static void print_probs(const float *p, int C)
{
    int best = 0;
    for (int k = 1; k < C; k++)
        best = p[k] > p[best] ? k : best;
    printf(" -> %d (p = %.4f)\n  probabilities:", best, p[best]);
    for (int k = 0; k < C; k++)
        printf("%s %d:%.4f", k % 8 == 0 ? "\n   " : "", k, p[k]);
    printf("\n");
}

/* Classify each bit string argument; they must match the model's length. */
static int predict_bits(ls_model *m, const ls_modelfile_info *info, char **s,
                        int n)
{
    const ls_model_config *c = &info->cfg;
    float *x = ls_alloc(sizeof(float) * (size_t)c->T * n);
    float *probs = ls_alloc(sizeof(float) * (size_t)c->C * n);
    ls_err err = {0};
    int rc = 1;

    if (!x || !probs) {
        cli_error("predict: out of memory");
        goto out;
    }
    for (int j = 0; j < n; j++) {
        uint32_t code;
        int bits = ls_bitcount_parse(s[j], &code, &err);
        if (bits < 0) {
            cli_error("predict: '%s': %s", s[j], err.msg);
            goto out;
        }
        if (bits != info->bits) {
            cli_error("predict: '%s' has %d bits; the model was trained on %d",
                      s[j], bits, info->bits);
            goto out;
        }
        for (int t = 0; t < bits; t++) /* tnc with I = 1 */
            x[(size_t)t * n + j] = (float)((code >> (bits - 1 - t)) & 1u);
    }
    if (ls_model_predict(m, x, n, probs, &err)) {
        cli_error("predict: %s", err.msg);
        goto out;
    }
    for (int j = 0; j < n; j++) {
        int ones = 0;
        for (const char *q = s[j]; *q; q++)
            ones += *q == '1';
        printf("%s (true count %d)", s[j], ones);
        print_probs(probs + (size_t)j * c->C, c->C);
    }
    rc = 0;
out:
    ls_free(x);
    ls_free(probs);
    return rc;
}

/* Classify test images idx[0..n) of the IDX data set in dir. */
static int predict_images(ls_model *m, const ls_modelfile_info *info,
                          const char *dir, const long *idx, int n)
{
    const ls_model_config *c = &info->cfg;
    ls_dataset *ds = NULL;
    ls_err err = {0};
    float *x = NULL, *probs = NULL;
    int32_t *y = NULL;
    uint32_t *sel = NULL;
    int rc = 1;

    if (ls_images_load(&ds, dir, &err)) {
        cli_error("predict: %s", err.msg);
        return 1;
    }
    if (ds->T != c->T || ds->I != c->I || ds->classes != c->C) {
        cli_error("predict: %s holds %dx%d images in %d classes; the model "
                  "expects %dx%d in %d", dir, ds->T, ds->I, ds->classes, c->T,
                  c->I, c->C);
        goto out;
    }
    x = ls_alloc(sizeof(float) * (size_t)c->T * c->I * n);
    probs = ls_alloc(sizeof(float) * (size_t)c->C * n);
    y = ls_alloc(sizeof(int32_t) * (size_t)n);
    sel = ls_alloc(sizeof(uint32_t) * (size_t)n);
    if (!x || !probs || !y || !sel) {
        cli_error("predict: out of memory");
        goto out;
    }
    for (int j = 0; j < n; j++) {
        if (idx[j] < 0 || (size_t)idx[j] >= ds->n_test) {
            cli_error("predict: --index %ld out of range: %s has %zu test images",
                      idx[j], dir, ds->n_test);
            goto out;
        }
        sel[j] = (uint32_t)idx[j];
    }
    ls_dataset_fill(ds, LS_SPLIT_TEST, sel, (size_t)n, x, y);
    if (ls_model_predict(m, x, n, probs, &err)) {
        cli_error("predict: %s", err.msg);
        goto out;
    }
    for (int j = 0; j < n; j++) {
        printf("test image %ld (label %d)", idx[j], y[j]);
        print_probs(probs + (size_t)j * c->C, c->C);
    }
    rc = 0;
out:
    ls_free(x);
    ls_free(probs);
    ls_free(y);
    ls_free(sel);
    ls_dataset_destroy(ds);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"data", required_argument, NULL, 'd'},
        {"index", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *model_path = NULL, *dir = NULL;
    long idx[256];
    int nidx = 0, ch, rc;
    ls_model *m = NULL;
    ls_modelfile_info info;
    ls_err err = {0};

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'm': model_path = optarg; break;
        case 'd': dir = optarg; break;
        case 'i':
            if (nidx == 256 || (idx[nidx] = strtol(optarg, &end, 10), *end || end == optarg)) {
                cli_error("predict: --index '%s': need an integer (at most 256 of them)", optarg);
                return 2;
            }
            nidx++;
            break;
        case 'h': predict_usage(stdout); return 0;
        default: predict_usage(stderr); return 2;
        }
    }
    if (!model_path) {
        cli_error("predict: --model FILE is required");
        return 2;
    }
    if (ls_modelfile_load(model_path, &m, &info, &err)) {
        cli_error("predict: %s", err.msg);
        return 1;
    }
    if (info.task == LS_TASK_BITCOUNT) {
        if (optind >= argc) {
            cli_error("predict: give one or more bit strings of length %d", info.bits);
            rc = 2;
        } else {
            rc = predict_bits(m, &info, argv + optind, argc - optind);
        }
    } else if (!dir || nidx == 0 || optind < argc) {
        cli_error("predict: an mnist model needs --data DIR and --index N");
        rc = 2;
    } else {
        rc = predict_images(m, &info, dir, idx, nidx);
    }
    ls_model_destroy(m);
    return rc;
}
