/* eval_model.c - the validation and test errors of a saved bitcount model
 * or mnist model (lstmsweep train --save) on its job's splits, as training
 * would score them: bitcount's data set rebuilt from the model's bits and
 * seed and the training size given (evaluated down the prefix tree),
 * mnist's read from DIR; val_size as given (-1: the default).
 *
 *   bench/eval_model MODEL.lsm [TRAIN_SIZE [VAL_SIZE]]   bitcount (10000, -1)
 *   bench/eval_model MODEL.lsm DIR [VAL_SIZE]            mnist
 *
 * The README's 5,000-epoch bitcount figures come from models trained
 * before the validation split existed (same training strings, weights and
 * shuffles: the split only moves test strings into validation) and scored
 * with this on the split of today. */
#include <stdio.h>
#include <stdlib.h>

#include "lstmsweep/dataset.h"
#include "lstmsweep/job.h"
#include "lstmsweep/modelfile.h"
#include "lstmsweep/prefix.h"
#include "lstmsweep/train.h"

int main(int argc, char **argv)
{
    ls_modelfile_info info;
    ls_model *m = NULL;
    ls_dataset *ds = NULL;
    ls_prefix_eval *p = NULL;
    ls_err err = {0};
    ls_job j;
    double test = -1, val = -1;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.lsm [TRAIN_SIZE [VAL_SIZE]]\n", argv[0]);
        return 2;
    }
    if (ls_modelfile_load(argv[1], &m, &info, &err))
        goto fail;
    ls_job_defaults(&j, info.task);
    j.bits = info.bits;
    j.seed = info.cfg.seed;
    if (info.task == LS_TASK_BITCOUNT)
        j.train_size = argc > 2 ? atol(argv[2]) : 10000;
    else if (argc > 2)
        snprintf(j.data, sizeof j.data, "%s", argv[2]);
    j.val_size = argc > 3 ? atol(argv[3]) : -1;
    ls_model_config cfg = info.cfg;
    if (ls_train_load_data(&j, &ds, &err))
        goto fail;
    int chunk = ls_prefix_eval_chunk(ds, &cfg);
    if (chunk ? ls_prefix_eval_create(&p, &cfg, ds, chunk, &err) ||
                    ls_prefix_evaluate(p, m, &test, &val, &err)
              : ls_evaluate(m, ds, &test, &val, &err))
        goto fail;
    printf("%s: %s seed %llu: validation error %.4f%% of %zu, test error %.4f%% of %zu\n",
           argv[1], ls_task_name(j.task), (unsigned long long)j.seed, 100 * val,
           ls_dataset_size(ds, LS_SPLIT_VAL), 100 * test, ls_dataset_size(ds, LS_SPLIT_TEST));
    return 0;
fail:
    fprintf(stderr, "eval_model: %s\n", err.msg);
    return 1;
}
