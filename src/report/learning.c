/* learning.c - the learning curves charts: the curves file(s) read for the
 * seeds of each group's best three configurations, averaged per epoch and
 * drawn; see report_int.h. */
#include "report_int.h"
#include "lstmsweep/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/curves.h"

typedef struct cjob {
    char id[LS_JOB_ID_LEN];
    int n;                /* epochs 1..n */
    double *loss, *terr;  /* [n + 1]; NAN where no row (terr: no evaluation) */
} cjob;

typedef struct curves {
    cjob *j;              /* sorted by id */
    size_t n;
    size_t rows;          /* rows that matched a job */
} curves;

static int cmp_cjob(const void *a, const void *b)
{
    return strcmp(((const cjob *)a)->id, ((const cjob *)b)->id);
}

static void curves_free(curves *cv)
{
    for (size_t i = 0; i < cv->n; i++) {
        ls_free(cv->j[i].loss);
        ls_free(cv->j[i].terr);
    }
    ls_free(cv->j);
}

/* The jobs whose curves are drawn: the seeds of each group's best three. */
static int curves_select(const ls_report *r, curves *cv)
{
    memset(cv, 0, sizeof *cv);
    if (!(cv->j = ls_calloc(r->njobs + 1, sizeof *cv->j)))
        return LS_ENOMEM;
    for (size_t g = 0; g < r->ngroups; g++)
        for (size_t k = 0; k < r->groups[g].nranked && k < 3; k++) {
            const cfg *c = &r->cfgs[r->groups[g].ranked[k]];
            for (size_t i = c->start; i < c->start + c->runs; i++) {
                const job *j = &r->jobs[r->order[i]];
                cjob *cj = &cv->j[cv->n];
                if (j->status != LS_STATUS_OK || isnan(j->test_error))
                    continue;
                memcpy(cj->id, j->id, sizeof cj->id);
                cj->n = j->v[HP_EPOCHS] > 0 && j->v[HP_EPOCHS] < 1e7 ? (int)j->v[HP_EPOCHS] : 0;
                cj->loss = ls_alloc(((size_t)cj->n + 1) * sizeof *cj->loss);
                cj->terr = ls_alloc(((size_t)cj->n + 1) * sizeof *cj->terr);
                cv->n++;
                if (!cj->loss || !cj->terr)
                    return LS_ENOMEM;
                for (int e = 0; e <= cj->n; e++)
                    cj->loss[e] = cj->terr[e] = NAN;
            }
        }
    qsort(cv->j, cv->n, sizeof *cv->j, cmp_cjob);
    return 0;
}

static int curve_row(void *ctx, const ls_curve_row *row, ls_err *err)
{
    curves *cv = ctx;
    cjob key, *cj;
    snprintf(key.id, sizeof key.id, "%s", row->job_id);
    if (!(cj = bsearch(&key, cv->j, cv->n, sizeof *cv->j, cmp_cjob)))
        return 0;
    if (row->epoch < 1 || row->epoch > cj->n)
        return 0;
    /* a resumed job may repeat epochs after its checkpoint: the later row wins */
    cj->loss[row->epoch] = row->train_loss;
    cj->terr[row->epoch] = 100 * row->test_error;
    cv->rows++;
    return 0;
}

/* Read the curves file(s); a missing one is a note, not an error. */
static int curves_load(plotter *pl, curves *cv, ls_err *err)
{
    const ls_report_opts *o = pl->o;
    int n = o->curves ? 1 : pl->r->npaths, found = 0, rc;
    char path[4096], missing[1024] = "";
    for (int i = 0; i < n; i++) {
        if (o->curves)
            snprintf(path, sizeof path, "%s", o->curves);
        else
            ls_curve_path(pl->r->paths[i], path, sizeof path);
        if (access(path, F_OK) != 0) {
            size_t m = strlen(missing);
            snprintf(missing + m, sizeof missing - m, "%s%.900s", m ? ", " : "", path);
            continue;
        }
        found++;
        if ((rc = ls_curve_read(path, curve_row, cv, NULL, err)))
            return rc;
    }
    if (found && !cv->rows)
        rep_note(pl->info, "learning curves skipped: the curves file(s) hold no rows of the "
                           "best configurations' jobs");
    if (!found && o->curves)
        rep_note(pl->info, "learning curves skipped: %s not found", missing);
    else if (!found)
        rep_note(pl->info, "learning curves skipped: no curves file (%s not found; pass "
                           "--curves FILE)", missing);
    else if (*missing)
        rep_note(pl->info, "learning curves: %s not found, drawn from the others", missing);
    return 0;
}

/* Mean over the configuration's seeds at each epoch, into two blocks of d:
 * test error (epochs with an evaluation) and training loss.  Returns 1 if
 * there was any row, 0 if none. */
static int curves_blocks(const ls_report *r, const cfg *c, const curves *cv, FILE *d,
                         range *re, range *rl)
{
    int emax = 0, any = 0;
    const cjob *js[64];
    size_t nj = 0;
    for (size_t i = c->start; i < c->start + c->runs && nj < 64; i++) {
        cjob key;
        memcpy(key.id, r->jobs[r->order[i]].id, sizeof key.id);
        const cjob *cj = bsearch(&key, cv->j, cv->n, sizeof *cv->j, cmp_cjob);
        if (cj) {
            js[nj++] = cj;
            emax = cj->n > emax ? cj->n : emax;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        fprintf(d, "# epoch %s\n", pass ? "train_loss" : "test_error_pct");
        for (int e = 1; e <= emax; e++) {
            double sum = 0;
            int n = 0;
            for (size_t k = 0; k < nj; k++) {
                double v = e > js[k]->n ? NAN : pass ? js[k]->loss[e] : js[k]->terr[e];
                if (!isnan(v))
                    sum += v, n++;
            }
            if (!n)
                continue;
            fprintf(d, "%d %.6g\n", e, sum / n);
            rep_range_add(pass ? rl : re, sum / n);
            any = 1;
        }
        fputs("\n\n", d);
    }
    return any;
}

/* The configurations a chart shows: those of the group's best three that
 * have curve rows, their legend names and data blocks. */
typedef struct shown {
    size_t n;
    size_t idx[3];        /* rank - 1: blocks 2 idx (test error), 2 idx + 1 */
    char name[3][320];
    range re, rl;         /* test error, training loss */
} shown;

/* DIR/<stem>.dat: a comment and two blocks per best configuration. */
static int curves_data(plotter *pl, size_t g, const curves *cv, const char *stem,
                       shown *s, ls_err *err)
{
    const ls_report *r = pl->r;
    const group *gr = &r->groups[g];
    char desc[256], e[32];
    FILE *d = rep_open_out(pl, stem, ".dat", err);

    if (!d)
        return LS_EIO;
    fprintf(d, "# %s: learning curves of the best configurations, mean over seeds;\n"
               "# two blocks per configuration: test error (%%), training loss\n", gr->label);
    for (size_t k = 0; k < gr->nranked && k < 3; k++) {
        const cfg *c = &r->cfgs[gr->ranked[k]];
        rep_cfg_desc(r, c, 1, desc, sizeof desc);
        fprintf(d, "# #%zu %s\n", k + 1, desc);
        if (!curves_blocks(r, c, cv, d, &s->re, &s->rl))
            continue;
        snprintf(s->name[s->n], sizeof s->name[s->n], "#%zu %s: %s%%", k + 1, desc,
                 rep_sig3(e, 100 * c->err_mean));
        s->idx[s->n++] = k;
    }
    return rep_close_out(d, pl, stem, ".dat", err);
}

/* A panel's plot command: a line per configuration shown, drawn `with`. */
static void curves_plot(FILE *b, const char *stem, const shown *s, const char *with,
                        int loss)
{
    for (size_t i = 0; i < s->n; i++) {
        fprintf(b, "%s\"%s.dat\" index %zu using 1:2 with %s lc %zu title ",
                i ? ", \\\n     " : "plot ", stem, 2 * s->idx[i] + (size_t)loss, with, i + 1);
        rep_gp_str(b, s->name[i]);
    }
}

/* Two panels, test error and training loss, into *body (caller frees). */
static int curves_body(const ls_report *r, size_t g, const char *stem, const shown *s,
                       char **body)
{
    const group *gr = &r->groups[g];
    char title[2400], sub[1024], seeds[256], fixed[512];
    size_t blen;
    FILE *b = open_memstream(body, &blen);

    if (!b)
        return LS_ENOMEM;
    rep_seed_list(r, g, seeds, sizeof seeds);
    rep_fixed_keys(r, g, fixed, sizeof fixed);
    snprintf(sub, sizeof sub, "each line: mean over the ok seeds (%s) of one "
                              "configuration\nsame in every job: %s", seeds, fixed);
    snprintf(title, sizeof title, "%s: learning curves of the %zu best configurations "
                                  "(legend: final test error)\n%s", gr->label, s->n, sub);
    fputs(rep_gp_style, b);
    /* below the panels: curves fill any corner of a log-scaled panel */
    fputs("set key outside below center vertical nobox\nset xlabel \"epoch\"\n", b);
    fputs("set multiplot layout 1,2 title ", b);
    rep_gp_str(b, title);
    fputs("\nset title \"test error, at each evaluation of the test split\"\n", b);
    rep_gp_y_axis(b, &s->re, "test error", "%", "y");
    curves_plot(b, stem, s, "linespoints lw 2 pt 7", 0);
    /* autoscale first: a log axis cannot be set while the left panel's
     * [0:...] range is still in force */
    fputs("\nunset logscale y\nset autoscale y\nset title \"training loss (cross-entropy, "
          "mean over the epoch's batches)\"\n", b);
    rep_gp_y_axis(b, &s->rl, "training loss", "nats per sample", "y");
    curves_plot(b, stem, s, "lines lw 2", 1);
    fputs("\nunset multiplot\n", b);
    return fclose(b) ? LS_ENOMEM : 0;
}

/* DIR/curves_<group>.{dat,gp}, or a note if no best configuration has rows. */
static int chart_curves(plotter *pl, size_t g, const curves *cv, ls_err *err)
{
    shown s = {.re = {INFINITY, 0, 0}, .rl = {INFINITY, 0, 0}};
    char stem[256], *body = NULL;
    int rc;

    snprintf(stem, sizeof stem, "curves_%s", pl->r->groups[g].slug);
    if ((rc = curves_data(pl, g, cv, stem, &s, err)))
        return rc;
    if (!s.n) {
        rep_note(pl->info, "learning curves of %s skipped: no curve rows for its best "
                           "configurations", pl->r->groups[g].label);
        return 0;
    }
    if (curves_body(pl->r, g, stem, &s, &body))
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    else
        rc = rep_write_script(pl, stem, body, 1300, 640, err);
    free(body);
    return rc;
}

int rep_plot_curves(plotter *pl, ls_err *err)
{
    curves cv = {0};
    int rc = curves_select(pl->r, &cv);

    if (rc)
        ls_err_set(err, rc, "out of memory");
    else
        rc = curves_load(pl, &cv, err);
    for (size_t g = 0; g < pl->r->ngroups && !rc && cv.rows; g++)
        rc = chart_curves(pl, g, &cv, err);
    curves_free(&cv);
    return rc;
}
