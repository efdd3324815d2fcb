/* report.h - analysis of results files: status counts, problem jobs, best
 * configurations with their spread over seeds, pivot tables, speed, and
 * gnuplot charts.
 *
 * Loading reads every input with the CSV reader (header, field counts and
 * number columns checked: LS_EFORMAT "FILE:LINE: ..."; a torn last line is
 * skipped and counted), then keeps each job's best row with the merge
 * module's rule, in memory (ls_results_merge_load: a final row beats an
 * interrupted one, a later row beats an earlier one).  Inputs with no job
 * row at all are LS_EINVAL "nothing to report".
 *
 * Terms used throughout:
 *   task group     a task, and for mnist its data directory (MNIST and
 *                  Fashion-MNIST are different problems): never averaged.
 *   configuration  every hyperparameter except the seed.
 *   statistics     over the configuration's `ok` jobs that have a test
 *                  error; std is the sample standard deviation (0 for one
 *                  seed).  Configurations are ranked by mean test error,
 *                  ties broken by mean wall time.
 *
 * The library never prints on its own and never exits: output goes to the
 * FILE the caller passes, notes for the user into ls_report_plot_info.
 */
#ifndef LSTMSWEEP_REPORT_H
#define LSTMSWEEP_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "lstmsweep/error.h"
#include "lstmsweep/results.h"

typedef struct ls_report ls_report; /* the loaded jobs; opaque */

typedef enum {
    LS_REPORT_TEXT = 0,  /* aligned columns */
    LS_REPORT_MARKDOWN,  /* headings and pipe tables */
    LS_REPORT_CSV        /* sections: every line starts with the section
                            name; a section's first line is its header */
} ls_report_format;

#define LS_REPORT_MAX_BY 6

typedef struct ls_report_opts {
    ls_report_format format;
    int nby;                           /* 0: hidden, layers, batch */
    const char *by[LS_REPORT_MAX_BY];  /* pivot keys: rows, columns, then one
                                          table per value combination */
    double peak_gflops;                /* machine peak, GFLOP/s; <= 0 unknown */
    int top;                           /* rows of the ranked lists; 0: 5 */
    const char *plots_dir;             /* charts go here (ls_report_plots) */
    const char *curves;                /* per-epoch CSV; NULL: each results
                                          path with .csv -> -curves.csv */
    const char *gnuplot;               /* program; NULL: "gnuplot" on PATH */
} ls_report_opts;

/* Zero opts: text format, default pivot keys, no peak, no plots. */
void ls_report_opts_init(ls_report_opts *o);

/* Parse "hidden,layers,batch" into o->by / o->nby.  The pointers point into
 * list, which is modified ('-' -> '_', ',' -> NUL) and must outlive o.
 * LS_EINVAL for an unknown or repeated key, fewer than 2 or more than
 * LS_REPORT_MAX_BY keys. */
int ls_report_parse_by(ls_report_opts *o, char *list, ls_err *err);

/* Load paths[0..n).  On success *out owns everything it needs (the paths
 * are copied); free it with ls_report_destroy.  On error *out is NULL. */
int ls_report_load(ls_report **out, const char *const *paths, int n, ls_err *err);

/* NULL is a no-op. */
void ls_report_destroy(ls_report *r);

typedef struct ls_report_counts {
    size_t rows;         /* data rows read from all inputs */
    size_t jobs;         /* distinct job ids */
    size_t superseded;   /* rows dropped for a better row of the same job */
    size_t torn;         /* torn last lines skipped */
    size_t status[LS_NSTATUS];    /* jobs by ls_status of their best row */
    size_t configs;      /* configurations */
} ls_report_counts;

void ls_report_get_counts(const ls_report *r, ls_report_counts *c);

typedef struct ls_report_config {
    char task[16];           /* "bitcount", "mnist" */
    char data[256];          /* mnist data directory, "" for bitcount */
    int hidden, batch, layers;
    char desc[256];          /* every hyperparameter but task, data, seed:
                                "hidden=32 batch=100 layers=2 epochs=30 ..." */
    size_t runs;             /* jobs of the configuration, any status */
    size_t seeds;            /* ok jobs with a test error */
    double err_mean, err_std, err_min, err_max; /* test error, fraction */
    double wall_mean;        /* s, over the same jobs */
    double sps_mean;         /* training samples/s, over ok jobs */
    double gflops_mean;      /* GFLOP/s, over ok jobs */
} ls_report_config;

/* The rank-th configuration (0 = best) of the task group `task` (and
 * `data`, NULL or "" for bitcount).  LS_EINVAL if there is none (only
 * configurations with at least one ok seed are ranked). */
int ls_report_ranked(const ls_report *r, const char *task, const char *data,
                     size_t rank, ls_report_config *out);

/* Render every table (status counts, problem jobs, best configurations,
 * pivots of test error and samples/s, speed) to out.  LS_EINVAL for a bad
 * pivot key, LS_EIO if writing fails. */
int ls_report_write(const ls_report *r, const ls_report_opts *o, FILE *out,
                    ls_err *err);

typedef struct ls_report_plot_info {
    int charts;         /* charts whose data and gnuplot script were written */
    int drawn;          /* 1: gnuplot ran and wrote each chart's .png + .svg */
    char notes[2048];   /* lines for the user (skipped charts, missing
                           gnuplot); "" if none */
} ls_report_plot_info;

/* Write into o->plots_dir (created if missing) a data file and a gnuplot
 * script per chart, then run gnuplot on them (cwd = that directory) for PNG
 * and SVG files:
 *   error-vs-hidden_<group>_batch<B>   test error vs hidden, a line per
 *                                      layer count
 *   curves_<group>                     test error and train loss vs epoch
 *                                      of the 3 best configurations
 *   throughput_<group>                 samples/s vs hidden, a line per
 *                                      (layers, batch)
 * A missing gnuplot or curves file is not an error: a note says so and
 * info->drawn stays 0 (the scripts can be run later).  gnuplot failing is
 * LS_EIO naming DIR/gnuplot.log. */
int ls_report_plots(const ls_report *r, const ls_report_opts *o,
                    ls_report_plot_info *info, ls_err *err);

#endif
