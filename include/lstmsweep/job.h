/* job.h - one training job: a task and all its hyperparameters.
 *
 * A job's identity is the canonical text of every field that changes its
 * result (not the thread count, not where it runs, not the sweep's name);
 * its id is a 64-bit FNV-1a hash of that text in hex, so the same job has
 * the same id in every run, on every machine, and a results file can be
 * resumed or merged by id.
 *
 * ls_job is a plain value: copy it freely; it owns no memory.
 */
#ifndef LSTMSWEEP_JOB_H
#define LSTMSWEEP_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "lstmsweep/cell.h"
#include "lstmsweep/error.h"
#include "lstmsweep/precision.h"

typedef enum { LS_TASK_BITCOUNT = 0, LS_TASK_MNIST = 1 } ls_task;

#define LS_JOB_PATH_MAX 512
#define LS_JOB_ID_LEN 17 /* 16 hex digits + NUL */

typedef struct ls_job {
    char sweep[64];        /* sweep name ("" for a single `train`) */
    ls_task task;
    int hidden;            /* LSTM units per layer */
    int batch;             /* training mini-batch */
    int layers;            /* LSTM layers */
    ls_cell cell;          /* recurrent cell (cell.h); lstm, the default,
                              is left out of the canonical text */
    ls_precision precision; /* of the recurrent layers (precision.h); f32,
                              the default, is left out of the canonical
                              text; bf16 and auto are part of the id */
    int epochs;            /* maximum epochs */
    double lr;             /* Adam learning rate */
    double dropout;        /* drop rate after each LSTM layer, [0, 1) */
    uint64_t seed;         /* data split, init, shuffles, dropout */
    int bits;              /* bitcount: string length */
    long train_size;       /* bitcount: training strings; mnist: 0 = all,
                              else the first train_size training images */
    long val_size;         /* validation samples set aside; 0: none; -1:
                              the task's default (ls_job_val_size) */
    char data[LS_JOB_PATH_MAX]; /* mnist: directory with the IDX files */
    double target_error;   /* stop once test error <= this; < 0: never */
    int eval_every;        /* epochs between test evaluations; 0: auto */
    int threads;           /* OpenMP threads; 0: inherited.  Not part of
                              the identity. */
    int until;             /* an adaptive search's rung: train to this
                              epoch, checkpoint and end "paused" (a later
                              run with a larger until goes on from there);
                              0 or >= epochs: to the end.  Not part of the
                              identity, nor a key. */
    int rung;              /* the search's rung that until is (1 first), for
                              the row's rung column; 0: none.  Not part of
                              the identity, nor a key. */
    char search[LS_JOB_ID_LEN]; /* an adaptive search's tag (searchrun.h):
                              the job's result depends on the search it is
                              in, so the tag is part of its identity; ""
                              (a grid's job) leaves it out of the text. */
} ls_job;

/* Defaults of the reference tutorials for `task` (bitcount: hidden 24,
 * batch 1000, 1 layer, 600 epochs; mnist: hidden 128, batch 100, 1 layer,
 * 10 epochs, data "data/mnist"; both Adam 1e-3, seed 1). */
void ls_job_defaults(ls_job *job, ls_task task);

/* The validation split's size: val_size, or for -1 the task's default
 * (mnist 5,000; bitcount 10,000 strings, or half of those not used for
 * training when fewer than 20,000 are).  The job id and the results row
 * hold this resolved value. */
long ls_job_val_size(const ls_job *job);

/* Validate ranges (sizes >= 1, bits 1..30, lr > 0, dropout in [0, 1), ...)
 * and write a message naming the offending field on error (LS_EINVAL). */
int ls_job_validate(const ls_job *job, ls_err *err);

const char *ls_task_name(ls_task task);
/* "bitcount" or "mnist" -> task; LS_EINVAL otherwise. */
int ls_task_parse(const char *name, ls_task *task);

/* Canonical identity text, e.g.
 * "task=bitcount hidden=24 batch=1000 layers=1 epochs=600 lr=0.001 ...";
 * a cell other than lstm adds " cell=gru" (schema.h), lstm adds nothing,
 * so every LSTM job keeps the id it had before cells existed; likewise a
 * precision other than f32 adds " precision=bf16" (last). */
void ls_job_canonical(const ls_job *job, char *buf, size_t len);
/* 16 lowercase hex digits of FNV-1a-64 of the canonical text. */
void ls_job_id(const ls_job *job, char id[LS_JOB_ID_LEN]);
/* FNV-1a-64 of text, from h (LS_JOB_HASH_INIT to start; a previous value
 * to go on): the ids' hash, for other identities (a search's tag). */
#define LS_JOB_HASH_INIT 0xcbf29ce484222325ULL
uint64_t ls_job_hash(uint64_t h, const char *text);

/* ---- keys: one table serves the command line and the sweep files ----
 * The keys, their help, and how their values are parsed and printed are
 * the KEY and RES_KEY columns of the results schema (schema.h), in its
 * order; the canonical text above is its identity columns. */

typedef struct ls_job_key {
    const char *name;   /* "hidden", "train_size", ... (also accepted with
                           '-' for '_') */
    const char *help;   /* one line, for --help */
} ls_job_key;

int ls_job_key_count(void);
const ls_job_key *ls_job_key_at(int i);

/* Set one field from text: `key` is a key name (either spelling), `value`
 * its text.  LS_EINVAL with a message naming the key for an unknown key or
 * a value that is not a number of the right kind (range checks are
 * ls_job_validate's).  Setting "task" resets nothing else. */
int ls_job_set(ls_job *job, const char *key, const char *value, ls_err *err);

/* Current value of a key as text (for --help defaults and job listings). */
void ls_job_get(const ls_job *job, const char *key, char *buf, size_t len);

#endif
