/* report_int.h - what the report's files share: the loaded jobs, their
 * configurations and task groups (load.c), descriptions of keys and
 * configurations (keys.c), number formatting (sections.c), and the chart
 * writer's state and helpers (charts.c, gnuplot.c, learning.c).
 *
 * The report has three stages:
 *   load    load.c: check every input row (numbers included, FILE:LINE
 *           errors), keep each job's best row through ls_results_merge_load
 *           (the one best-row rule of the project), then sort jobs into
 *           task groups and configurations and compute each
 *           configuration's statistics;
 *   render  sections.c: the report's sections, as tables (table.h) printed
 *           as text, markdown or CSV;
 *   plot    charts.c, learning.c: a data file and a gnuplot script per
 *           chart; gnuplot.c: those files, and one gnuplot run.
 *
 * Not a public header: names here carry the prefix rep_.
 */
#ifndef LSTMSWEEP_REPORT_INT_H
#define LSTMSWEEP_REPORT_INT_H

#include <stddef.h>
#include <stdio.h>

#include "lstmsweep/job.h"
#include "lstmsweep/report.h"
#include "lstmsweep/schema.h"
#include "lstmsweep/results.h"
#include "lstmsweep/table.h"

/* ---- loaded data (load.c) ---- */

/* The hyperparameter columns, in the results CSV's order. */
/* The hyperparameters: the schema's columns from task to eval_every, which
 * are contiguous in the row (schema.h); HP_x is column x's place among them. */
#define HP_(name) (LS_COLUMN_##name - LS_COLUMN_task)
enum { HP_TASK = HP_(task), HP_HIDDEN = HP_(hidden), HP_BATCH = HP_(batch),
       HP_LAYERS = HP_(layers), HP_CELL = HP_(cell), HP_EPOCHS = HP_(epochs), HP_SEED = HP_(seed),
       HP_DATA = HP_(data), NHP = HP_(eval_every) + 1 };
/* The name of hyperparameter k (its column's). */
#define rep_hp_name(k) (ls_schema_at(LS_COLUMN_task + (k))->name)

typedef struct job {
    char id[LS_JOB_ID_LEN];
    char *hp[NHP];        /* fields as written, "" when empty */
    double v[NHP];        /* their values; NAN for text or empty fields */
    ls_status status;
    int epochs_run, threads;
    double val_error;     /* fraction; NAN if none (no validation split) */
    double test_error;    /* fraction; NAN if none */
    double wall_s, samples_per_s, gflops;
    double train_s;       /* training seconds, summed over resumed runs */
    char *message;
    size_t group, cfg;
} job;

typedef struct cfg {
    size_t group;
    size_t start, runs;   /* its jobs: order[start .. start + runs) */
    size_t seeds;         /* ok jobs with a test error */
    size_t nok;           /* ok jobs (for the speed means) */
    double err_mean, err_std, err_min, err_max, wall_mean; /* over seeds */
    size_t nval;          /* seeds with a validation error too */
    double val_mean;      /* over them */
    /* What ranks it: the mean validation error when every seed has one,
     * else the mean test error (results without a validation split). */
    double rank_err;
    double sps_mean, gflops_mean;                          /* over nok */
    int thr_min, thr_max;
} cfg;

typedef struct group {
    char task[16];
    char *data;           /* "" for bitcount */
    char label[300];      /* "bitcount", "mnist data/fashion-mnist" */
    char slug[128];       /* the same for file names */
    int varies[NHP];      /* the key takes several values in the group */
    size_t *ranked;       /* cfg indices, best first */
    size_t nranked;
} group;

struct ls_report {
    char **paths;
    int npaths;
    job *jobs;
    size_t njobs, cap;
    size_t *order;        /* job indices by group, configuration, seed */
    group *groups;
    size_t ngroups;
    cfg *cfgs;
    size_t ncfgs;
    ls_report_counts counts;
};

/* Order of two jobs' values of key k: numeric when both are numbers. */
int rep_cmp_val(const job *a, const job *b, int k);

/* ---- keys and configurations, described (keys.c) ---- */

/* "hidden=32 batch=100 ...": the configuration's keys, skipping task, data,
 * seed, empty fields, and (if only_varying) keys constant in its group. */
void rep_cfg_desc(const ls_report *r, const cfg *c, int only_varying, char *buf,
                  size_t len);

/* Distinct values of key k in group g, sorted: one job index per value in
 * *vals (caller frees).  -1 if out of memory. */
long rep_distinct(const ls_report *r, size_t g, int k, size_t **vals);

/* Position of job j's value of key k among vals[0..n). */
size_t rep_value_pos(const ls_report *r, const size_t *vals, size_t n, int k,
                     const job *j);

/* "seed" or "seed, lr": keys (not task, data or skip[]) varying in group g. */
void rep_averaged_keys(const group *g, const int *skip, int nskip, char *buf,
                       size_t len);

/* "epochs=30 lr=0.003 ...": the keys constant in group g (not hidden,
 * batch, layers, seed, data; not empty ones). */
void rep_fixed_keys(const ls_report *r, size_t gi, char *buf, size_t len);

/* "1, 2, 3": the seeds of group g. */
void rep_seed_list(const ls_report *r, size_t g, char *buf, size_t len);

/* ---- writing sections (sections.c) ---- */

typedef struct writer {
    const ls_report *r;
    const ls_report_opts *o;
    FILE *f;
    ls_report_format fmt;
    int sections;
    int blank;         /* text: the output ends with a blank line */
    int captioned;     /* text: a caption was just printed */
    int oom;
} writer;

/* A section's heading; a line of prose (caption: a table's title); a
 * table, printed in the report's format and freed (section: its name in
 * CSV); an error fraction, in percent for people and as the fraction in
 * CSV (buf: 32 bytes). */
void rep_heading(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rep_prose(writer *w, int caption, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rep_emit(writer *w, ls_table *t, const char *section, int skip_header);
const char *rep_fmt_err(const writer *w, char *buf, double frac);

/* The search sections of results files that have an asha search log beside
 * them (search.c); nothing for the others. */
int rep_write_search(writer *w, ls_err *err);

/* ---- numbers (sections.c) ---- */

/* Three significant digits, no exponent above 0.001: 12.3, 1.23, 0.0123
 * ("-" for NAN), into buf (32 bytes), which is returned. */
const char *rep_sig3(char *buf, double v);

/* ---- charts (charts.c, learning.c, gnuplot.c) ---- */

typedef struct plotter {
    const ls_report *r;
    const ls_report_opts *o;
    ls_report_plot_info *info;
    char **stems;        /* charts written: DIR/<stem>.{dat,gp} */
    size_t nstems, cap;
} plotter;

/* Add a line for the user to info->notes. */
void rep_note(ls_report_plot_info *info, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef struct range {
    double lo, hi;   /* over the positive values */
    int zero;        /* some value is <= 0: no log scale */
} range;

/* Widen rg to hold v (NAN: ignored). */
void rep_range_add(range *rg, double v);

/* A y axis from 0, or logarithmic when the values span more than a decade
 * (and none is 0, which a log axis cannot show). */
void rep_gp_y_axis(FILE *f, const range *rg, const char *what, const char *unit,
                   const char *axis);

/* Grid, border, key and point size: the first lines of every chart. */
extern const char rep_gp_style[];

/* The search charts, search_<task>, of the results files that have a
 * search log (search.c). */
int rep_plot_search(plotter *pl, ls_err *err);

/* The learning curves charts, curves_<group>, of every group (learning.c). */
int rep_plot_curves(plotter *pl, ls_err *err);

/* mkdir -p path; LS_EIO if that fails or path is not a directory. */
int rep_make_dirs(const char *path, ls_err *err);

/* DIR/<stem><ext> opened for writing; NULL with LS_EIO in err. */
FILE *rep_open_out(const plotter *pl, const char *stem, const char *ext, ls_err *err);

/* Close f (from rep_open_out); LS_EIO naming the file if it was not all
 * written. */
int rep_close_out(FILE *f, const plotter *pl, const char *stem, const char *ext,
                  ls_err *err);

/* A gnuplot string literal; a newline becomes \n (a line break in titles). */
void rep_gp_str(FILE *f, const char *s);

/* Write DIR/<stem>.gp, which draws body into <stem>.png and <stem>.svg
 * (w x h pixels), and add stem to the charts gnuplot will run. */
int rep_write_script(plotter *pl, const char *stem, const char *body, int w, int h,
                     ls_err *err);

/* Full path of program name (searched on PATH if it has no '/'), or -1. */
int rep_find_program(const char *name, char *out, size_t len);

/* One gnuplot process, cwd DIR, on every script; output in DIR/gnuplot.log. */
int rep_run_gnuplot(plotter *pl, const char *prog, ls_err *err);

#endif
