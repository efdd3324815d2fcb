/* schema.h - the results schema: one table of the results CSV's columns,
 * from which everything that names them is generated: the header
 * (LS_RESULTS_COLUMNS), the row writer and reader (results.c), the job keys
 * that ls_job_set/ls_job_get and --help use, and the canonical job text
 * whose hash is the job id (job.c).
 *
 * Each column is one X(...) line of LS_RESULTS_SCHEMA, in the row's order:
 *
 *   name   the column's name; also the ls_job / ls_result field it holds
 *          (the row writer and reader reach the field through it)
 *   type   TEXT (CSV-quoted as needed), TASK, STATUS, CELL, PREC (their
 *          names), INT,
 *          LONG, U64 (%d %ld %llu), REAL (formatted with csv)
 *   from   where the value lives:
 *            GEN      computed as the row is written (job id, host facts);
 *                     never read back
 *            JOB      a field of ls_job that is not a key (sweep)
 *            KEY      a field of ls_job, and a job key: --NAME and NAME =
 *                     in sweep files
 *            RES      a field of ls_result
 *            RES_KEY  both: the row holds the ls_result's value (what ran),
 *                     the key sets the ls_job's (what was asked): threads
 *   empty  when the field is written empty:
 *            NEVER
 *            OPT       text "" or a number < 0 (none; -1 in the
 *                      canonical text)
 *            BITCOUNT  the column belongs to that task: other tasks' rows
 *            MNIST     leave it empty, and their canonical text leaves it out
 *            DEFAULT   the canonical text leaves it out while it holds its
 *                      default (cell = lstm, precision = f32, search = ""),
 *                      so the jobs from before the column keep their ids
 *   id     place in the canonical job text (1 first), 0 if not part of the
 *          job's identity.  Changing it, or adding an identity column,
 *          changes every job id (tests/check_sweep.c pins them).
 *   csv    REAL only: the printf format in the row ("" otherwise)
 *   help   job keys only: one line for --help (NULL otherwise)
 *
 * Adding a column is one line here, its field in ls_job or ls_result (which
 * ls_result_init or ls_job_defaults give a value), and its row in
 * README.md's table; a new last column changes the header, so old results
 * files are refused until merged or renamed.
 *
 * Threading: the table is constant; every function here is reentrant.
 * Errors: ls_column_parse returns LS_EINVAL with "NAME: 'TEXT' is not ..."
 * in err; nothing else fails.
 */
#ifndef LSTMSWEEP_SCHEMA_H
#define LSTMSWEEP_SCHEMA_H

#include <stddef.h>

#include "lstmsweep/error.h"

/* X(name, type, from, empty, id, csv, help), SEP between columns. */
#define LS_RESULTS_SCHEMA(X, SEP)                                              \
    /* name          type    from     empty     id csv     help */             \
    X(job_id,        TEXT,   GEN,     NEVER,    0, "",     NULL) SEP           \
    X(sweep,         TEXT,   JOB,     OPT,      0, "",     NULL) SEP           \
    X(task,          TASK,   KEY,     NEVER,    1, "",                         \
      "bitcount | mnist") SEP                                                  \
    X(hidden,        INT,    KEY,     NEVER,    2, "",                         \
      "LSTM units per layer") SEP                                              \
    X(batch,         INT,    KEY,     NEVER,    3, "",                         \
      "training mini-batch size") SEP                                          \
    X(layers,        INT,    KEY,     NEVER,    4, "",                         \
      "stacked LSTM layers") SEP                                               \
    X(cell,          CELL,   KEY,     DEFAULT,  15, "",                        \
      "lstm | gru (Keras) | lbr-gru (PyTorch, cuDNN) | rnn (tanh)") SEP         \
    X(precision,     PREC,   RES_KEY, DEFAULT,  17, "",                        \
      "f32 | bf16 (mixed, where oneDNN has brgemm) | auto (bf16 where so)") SEP \
    X(epochs,        INT,    KEY,     NEVER,    5, "",                         \
      "maximum epochs") SEP                                                    \
    X(lr,            REAL,   KEY,     NEVER,    6, "%.6g",                     \
      "Adam learning rate") SEP                                                \
    X(dropout,       REAL,   KEY,     NEVER,    7, "%.6g",                     \
      "drop rate after each LSTM layer (training only)") SEP                   \
    X(seed,          U64,    KEY,     NEVER,    8, "",                         \
      "seed of data split, init, shuffles, dropout") SEP                       \
    X(bits,          INT,    KEY,     BITCOUNT, 11, "",                        \
      "bitcount: bits per string (<= 30)") SEP                                 \
    X(train_size,    LONG,   KEY,     NEVER,    12, "",                        \
      "bitcount: training strings; mnist: first N training images (0 = all)") SEP \
    X(val_size,      LONG,   KEY,     NEVER,    14, "",                        \
      "validation samples (-1 = default: mnist 5000, bitcount 10000)") SEP      \
    X(data,          TEXT,   KEY,     MNIST,    13, "",                        \
      "mnist: directory with the four IDX files") SEP                          \
    X(target_error,  REAL,   KEY,     OPT,      10, "%.6g",                    \
      "stop once val. error (test if val_size = 0) <= this (-1 = never)") SEP  \
    X(eval_every,    INT,    KEY,     NEVER,    9, "",                         \
      "epochs between test evaluations (0 = auto)") SEP                        \
    X(search,        TEXT,   JOB,     DEFAULT,  16, "",     NULL) SEP           \
    X(status,        STATUS, RES,     NEVER,    0, "",     NULL) SEP           \
    X(epochs_run,    INT,    RES,     NEVER,    0, "",     NULL) SEP           \
    X(rung,          INT,    RES,     OPT,      0, "",     NULL) SEP           \
    X(train_loss,    REAL,   RES,     OPT,      0, "%.6g", NULL) SEP           \
    X(train_error,   REAL,   RES,     OPT,      0, "%.6g", NULL) SEP           \
    X(val_error,     REAL,   RES,     OPT,      0, "%.6g", NULL) SEP           \
    X(test_error,    REAL,   RES,     OPT,      0, "%.6g", NULL) SEP           \
    X(wall_s,        REAL,   RES,     NEVER,    0, "%.3f", NULL) SEP           \
    X(train_s,       REAL,   RES,     NEVER,    0, "%.3f", NULL) SEP           \
    X(eval_s,        REAL,   RES,     NEVER,    0, "%.3f", NULL) SEP           \
    X(samples_per_s, REAL,   RES,     NEVER,    0, "%.1f", NULL) SEP           \
    X(gflops,        REAL,   RES,     NEVER,    0, "%.3f", NULL) SEP           \
    X(threads,       INT,    RES_KEY, NEVER,    0, "",                         \
      "OpenMP threads of the job (0 = inherited, fewer for small steps)") SEP  \
    X(cpus,          TEXT,   RES,     OPT,      0, "",     NULL) SEP           \
    X(numa_node,     INT,    RES,     OPT,      0, "",     NULL) SEP           \
    X(host,          TEXT,   RES,     OPT,      0, "",     NULL) SEP           \
    X(start_time,    TEXT,   RES,     OPT,      0, "",     NULL) SEP           \
    X(end_time,      TEXT,   RES,     OPT,      0, "",     NULL) SEP           \
    X(onednn,        TEXT,   GEN,     NEVER,    0, "",     NULL) SEP           \
    X(isa,           TEXT,   GEN,     NEVER,    0, "",     NULL) SEP           \
    X(version,       TEXT,   GEN,     NEVER,    0, "",     NULL) SEP           \
    X(message,       TEXT,   RES,     OPT,      0, "",     NULL)

/* The header line, as one string literal: "job_id,sweep,...,message". */
#define LS_SCHEMA_NAME_(name, ...) #name
#define LS_SCHEMA_HEADER LS_RESULTS_SCHEMA(LS_SCHEMA_NAME_, ",")

/* Column indices: LS_COLUMN_job_id = 0, ..., LS_NCOLUMNS. */
#define LS_SCHEMA_ENUM_(name, ...) LS_COLUMN_##name,
enum { LS_RESULTS_SCHEMA(LS_SCHEMA_ENUM_, ) LS_NCOLUMNS };

typedef enum {
    LS_TYPE_TEXT, LS_TYPE_TASK, LS_TYPE_STATUS, LS_TYPE_CELL, LS_TYPE_PREC,
    LS_TYPE_INT, LS_TYPE_LONG, LS_TYPE_U64, LS_TYPE_REAL
} ls_col_type;

typedef enum {
    LS_FROM_GEN, LS_FROM_JOB, LS_FROM_KEY, LS_FROM_RES, LS_FROM_RES_KEY
} ls_col_from;

typedef enum {
    LS_EMPTY_NEVER, LS_EMPTY_OPT, LS_EMPTY_BITCOUNT, LS_EMPTY_MNIST,
    LS_EMPTY_DEFAULT
} ls_col_empty;

/* One column, as readers see it (a report's column table, a checker). */
typedef struct ls_column {
    const char *name;
    int index;            /* position in the row (LS_COLUMN_<name>) */
    ls_col_type type;
    ls_col_from from;
    ls_col_empty empty;   /* != LS_EMPTY_NEVER: the field may be empty */
    int id;               /* place in the canonical job text; 0: not identity */
} ls_column;

int ls_schema_count(void);                 /* LS_NCOLUMNS */
const ls_column *ls_schema_at(int i);      /* 0 <= i < LS_NCOLUMNS */
/* The column called name, or NULL. */
const ls_column *ls_schema_column(const char *name);
/* The identity columns in the canonical text's order: i = 0, 1, ...;
 * NULL past the last. */
const ls_column *ls_schema_identity(int i);

/* INT, LONG, U64 or REAL; of those, all but REAL. */
int ls_column_is_number(const ls_column *c);
int ls_column_is_integer(const ls_column *c);

struct ls_job;
struct ls_result;

/* The three text forms of a value. */
typedef enum {
    LS_FORM_CSV,    /* the row: REAL with its csv format, none ("" or < 0
                       for OPT) as "", unquoted (ls_csv_quote is the
                       writer's) */
    LS_FORM_CANON,  /* the canonical job text: REAL %.17g, none as -1 */
    LS_FORM_KEY     /* ls_job_get: REAL %g, values as they are */
} ls_form;

/* Write column c's value into buf (capacity len, truncated to fit).  The
 * value is r's field when r is given and c has one (RES, RES_KEY), else
 * job's; a column whose struct is not given is "" (job must be given for
 * GEN columns: the job id).  Returns the length, or -1 with buf "" when
 * the column does not apply to job's task (BITCOUNT, MNIST; LS_FORM_KEY
 * always applies) or, in LS_FORM_CANON, holds its default (DEFAULT). */
int ls_column_format(const ls_column *c, ls_form form, const struct ls_job *job,
                     const struct ls_result *r, char *buf, size_t len);

/* Parse text (the whole of it) into c's field: r's when r is given and c
 * has one, else job's.  Strict: "" is never a number; the row reader maps
 * empty fields to none itself.  GEN columns have no field: 0, nothing set.
 * LS_EINVAL with "NAME: 'TEXT' is not ..." (range checks are
 * ls_job_validate's). */
int ls_column_parse(const ls_column *c, const char *text, struct ls_job *job,
                    struct ls_result *r, ls_err *err);

#endif
