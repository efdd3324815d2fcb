/* charts.c - the charts of test error and throughput vs hidden size, and
 * ls_report_plots, which writes every chart and runs gnuplot; see
 * report_int.h. */
#include "report_int.h"
#include "lstmsweep/alloc.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void rep_note(ls_report_plot_info *info, const char *fmt, ...)
{
    size_t n = strlen(info->notes);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(info->notes + n, sizeof info->notes - n, fmt, ap);
    va_end(ap);
    n = strlen(info->notes);
    if (n + 1 < sizeof info->notes)
        memcpy(info->notes + n, "\n", 2);
}

typedef struct point {
    double x, mean, min, max;
    size_t n;
} point;

enum { M_ERR, M_SPS };

static double metric_of(const job *j, int m)
{
    if (j->status != LS_STATUS_OK)
        return NAN;
    return m == M_ERR ? 100 * j->test_error : j->samples_per_s;
}

/* Points of metric m over the hidden sizes hv[0..nh) for group g's jobs
 * with lj's layers and bj's batch (NULL: any).  Returns the point count. */
static size_t series(const ls_report *r, size_t g, const size_t *hv, size_t nh,
                     const job *lj, const job *bj, int m, point *pts)
{
    size_t n = 0;
    for (size_t h = 0; h < nh; h++) {
        const job *hj = &r->jobs[hv[h]];
        point p = {hj->v[HP_HIDDEN], 0, INFINITY, -INFINITY, 0};
        for (size_t i = 0; i < r->njobs; i++) {
            const job *j = &r->jobs[i];
            double v = metric_of(j, m);
            if (j->group != g || isnan(v) || rep_cmp_val(j, hj, HP_HIDDEN) ||
                (lj && rep_cmp_val(j, lj, HP_LAYERS)) || (bj && rep_cmp_val(j, bj, HP_BATCH)))
                continue;
            p.mean += v;
            p.min = fmin(p.min, v);
            p.max = fmax(p.max, v);
            p.n++;
        }
        if (p.n) {
            p.mean /= (double)p.n;
            pts[n++] = p;
        }
    }
    return n;
}

void rep_range_add(range *rg, double v)
{
    if (isnan(v))
        return;
    if (v <= 0) {
        rg->zero = 1;
        return;
    }
    rg->lo = fmin(rg->lo, v);
    rg->hi = fmax(rg->hi, v);
}

/* The hidden sizes on a log2 axis with a tic at each. */
static void gp_hidden_axis(FILE *f, const ls_report *r, const size_t *hv, size_t nh)
{
    fputs("set logscale x 2\nset xtics (", f);
    for (size_t h = 0; h < nh; h++)
        fprintf(f, "%s\"%s\" %s", h ? ", " : "", r->jobs[hv[h]].hp[HP_HIDDEN],
                r->jobs[hv[h]].hp[HP_HIDDEN]);
    fprintf(f, ")\nset xrange [%g:%g]\n", r->jobs[hv[0]].v[HP_HIDDEN] / 1.3,
            r->jobs[hv[nh - 1]].v[HP_HIDDEN] * 1.3);
    fputs("set xlabel \"hidden size (LSTM units per layer, log scale)\"\n", f);
}

void rep_gp_y_axis(FILE *f, const range *rg, const char *what, const char *unit,
                   const char *axis)
{
    int lg = !rg->zero && rg->hi > 10 * rg->lo;
    if (lg) {
        /* labelled tics at 1, 2, 5 x 10^k: gnuplot's own are one per decade */
        double lo = rg->lo / 1.5, hi = rg->hi * 1.5;
        int first = 1;
        fprintf(f, "set logscale %s 10\nset %srange [%g:%g]\nset %stics (", axis, axis, lo,
                hi, axis);
        for (double d = pow(10, floor(log10(lo))); d <= hi; d *= 10)
            for (int m = 1; m <= 5; m += m == 1 ? 1 : 3)
                if (m * d >= lo && m * d <= hi) {
                    fprintf(f, "%s\"%g\" %g", first ? "" : ", ", m * d, m * d);
                    first = 0;
                }
        fprintf(f, ")\nset m%stics 10\n", axis);
    } else
        fprintf(f, "set %srange [0:%g]\n", axis, rg->hi > 0 ? rg->hi * 1.1 : 1);
    fprintf(f, "set %slabel \"%s (%s%s)\"\n", axis, what, unit, lg ? ", log scale" : "");
}

const char rep_gp_style[] =
    "set grid xtics ytics lc rgb \"#b8b8b8\" lw 1 dt 3\n"
    "set border lw 1.2\n"
    "set key outside right top vertical box spacing 1.3\n"
    "set pointsize 1.2\n";

/* Second title line: what a point is; third: the constant keys. */
static void chart_subtitle(const ls_report *r, size_t g, const int *skip, int nskip,
                           int bars, char *buf, size_t len)
{
    char avg[256], fixed[512], seeds[256];
    rep_averaged_keys(&r->groups[g], skip, nskip, avg, sizeof avg);
    rep_fixed_keys(r, g, fixed, sizeof fixed);
    rep_seed_list(r, g, seeds, sizeof seeds);
    if (!*avg)
        snprintf(buf, len, "one job per point\nsame in every job: %s", fixed);
    else if (!strcmp(avg, "seed"))
        snprintf(buf, len, "mean of seeds %s%s\nsame in every job: %s", seeds,
                 bars ? " (bars: min to max)" : "", fixed);
    else
        snprintf(buf, len, "mean over %s%s\nsame in every job: %s", avg,
                 bars ? " (bars: min to max)" : "", fixed);
}

/* "1 thread" or "1-2 threads": the team sizes of group g's ok jobs. */
static const char *threads_text(const ls_report *r, size_t g, char *buf)
{
    int lo = INT_MAX, hi = 0;
    for (size_t i = 0; i < r->njobs; i++) {
        const job *j = &r->jobs[i];
        if (j->group != g || j->status != LS_STATUS_OK)
            continue;
        lo = j->threads < lo ? j->threads : lo;
        hi = j->threads > hi ? j->threads : hi;
    }
    if (lo > hi)
        snprintf(buf, 32, "no ok job");
    else if (lo == hi)
        snprintf(buf, 32, "%d thread%s", lo, lo == 1 ? "" : "s");
    else
        snprintf(buf, 32, "%d-%d threads", lo, hi);
    return buf;
}

/* A chart of lines over the hidden sizes, being written. */
typedef struct hchart {
    char stem[256];
    FILE *dat;            /* DIR/<stem>.dat: one block per line */
    FILE *plot;           /* the plot command, built in memory */
    range rg;
    int bars;             /* some point averages several jobs */
    size_t lines;
} hchart;

/* Add a line: its block in the data file, its clause in the plot command. */
static void hchart_line(hchart *c, const point *pts, size_t n, const char *name,
                        long colour, long dash, long pt)
{
    fprintf(c->dat, "# %s\n# hidden mean min max jobs\n", name);
    for (size_t i = 0; i < n; i++) {
        fprintf(c->dat, "%g %.6g %.6g %.6g %zu\n", pts[i].x, pts[i].mean, pts[i].min,
                pts[i].max, pts[i].n);
        rep_range_add(&c->rg, pts[i].min);
        rep_range_add(&c->rg, pts[i].max);
        c->bars |= pts[i].n > 1;
    }
    fputs("\n\n", c->dat);
    fprintf(c->plot, "%s\"%s.dat\" index %zu using 1:2:3:4 with yerrorlines lw 2 lc %ld "
                     "dt %ld pt %ld title ", c->lines ? ", \\\n     " : "plot ", c->stem,
            c->lines, colour, dash, pt);
    rep_gp_str(c->plot, name);
    c->lines++;
}

/* The lines of a test-error chart (batch bj, a line per layer count) or
 * of the throughput chart (bj NULL, a line per layers x batch). */
static int hchart_lines(const ls_report *r, size_t g, int m, const job *bj, hchart *c,
                        const size_t *hv, size_t nh)
{
    size_t *lv = NULL, *bv = NULL;
    long nl = rep_distinct(r, g, HP_LAYERS, &lv), nb = bj ? 1 : rep_distinct(r, g, HP_BATCH, &bv);
    point *pts = ls_alloc((nh + 1) * sizeof *pts);
    int rc = nl < 0 || nb < 0 || !pts ? LS_ENOMEM : 0;

    for (long bi = 0; bi < nb && !rc; bi++)
        for (long l = 0; l < nl; l++) {
            const job *lj = &r->jobs[lv[l]], *b = bj ? bj : &r->jobs[bv[bi]];
            size_t n = series(r, g, hv, nh, lj, b, m, pts);
            char name[128];
            if (!n)
                continue;
            snprintf(name, sizeof name, "%s layer%s%s%s", lj->hp[HP_LAYERS],
                     lj->v[HP_LAYERS] == 1 ? "" : "s", bj ? "" : ", batch ",
                     bj ? "" : b->hp[HP_BATCH]);
            /* colour: the layer count; dashes and points: the batch size */
            hchart_line(c, pts, n, name, l + 1, bi % 5 + 1, (bj ? l : bi) % 4 * 2 + 5);
        }
    ls_free(pts);
    ls_free(lv);
    ls_free(bv);
    return rc;
}

/* Titles, axes and the plot command into body (caller frees). */
static int hchart_body(const ls_report *r, size_t g, int m, const job *bj, const hchart *c,
                       const char *plotcmd, const size_t *hv, size_t nh, char **body)
{
    const int skip[3] = {HP_HIDDEN, HP_LAYERS, HP_BATCH};
    char title[2400], sub[1024], thr[32];
    size_t blen;
    FILE *b = open_memstream(body, &blen);
    if (!b)
        return LS_ENOMEM;
    chart_subtitle(r, g, skip, 3, c->bars, sub, sizeof sub);
    if (m == M_ERR)
        snprintf(title, sizeof title, "%s: test error vs hidden size, batch %s\n%s",
                 r->groups[g].label, bj->hp[HP_BATCH], sub);
    else
        snprintf(title, sizeof title, "%s: training throughput vs hidden size (%s per job)\n%s",
                 r->groups[g].label, threads_text(r, g, thr), sub);
    fputs(rep_gp_style, b);
    fputs("set title ", b);
    rep_gp_str(b, title);
    fputc('\n', b);
    gp_hidden_axis(b, r, hv, nh);
    if (m == M_ERR)
        rep_gp_y_axis(b, &c->rg, "test error", "%", "y");
    else
        rep_gp_y_axis(b, &c->rg, "training throughput", "samples/s, per job", "y");
    fprintf(b, "%s\n", c->lines ? plotcmd : "set label 1 \"no finished job\" at graph 0.5,0.5 "
                                            "center\nplot NaN notitle");
    return fclose(b) ? LS_ENOMEM : 0;
}

/* Test error vs hidden (m = M_ERR, for batch size bj), or samples/s vs
 * hidden (m = M_SPS, bj NULL). */
static int chart_vs_hidden(plotter *pl, size_t g, int m, const job *bj, ls_err *err)
{
    const ls_report *r = pl->r;
    hchart c = {.rg = {INFINITY, 0, 0}};
    size_t *hv = NULL, plen;
    long nh = rep_distinct(r, g, HP_HIDDEN, &hv);
    char *plotcmd = NULL, *body = NULL;
    int rc = 0;

    if (m == M_ERR)
        snprintf(c.stem, sizeof c.stem, "error-vs-hidden_%s_batch%s", r->groups[g].slug,
                 bj->hp[HP_BATCH]);
    else
        snprintf(c.stem, sizeof c.stem, "throughput_%s", r->groups[g].slug);
    if (nh < 1 || !(c.plot = open_memstream(&plotcmd, &plen))) {
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
        goto out;
    }
    if (!(c.dat = rep_open_out(pl, c.stem, ".dat", err))) {
        rc = LS_EIO;
        goto out;
    }
    fprintf(c.dat, "# %s: %s vs hidden size; one block per line of the chart\n",
            r->groups[g].label, m == M_ERR ? "test error (%)" : "training samples/s");
    rc = hchart_lines(r, g, m, bj, &c, hv, (size_t)nh);
    int bad_dat = rep_close_out(c.dat, pl, c.stem, ".dat", err), bad_plot = fclose(c.plot);
    c.dat = NULL;
    c.plot = NULL;
    if (rc || bad_plot)
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    else
        rc = bad_dat;
    if (rc)
        goto out;
    if (hchart_body(r, g, m, bj, &c, plotcmd, hv, (size_t)nh, &body))
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    else
        rc = rep_write_script(pl, c.stem, body, 900, 600, err);
out:
    if (c.dat)
        fclose(c.dat);
    if (c.plot)
        fclose(c.plot);
    free(plotcmd);
    free(body);
    ls_free(hv);
    return rc;
}

static int plot_group(plotter *pl, size_t g, ls_err *err)
{
    size_t *bv;
    long nb = rep_distinct(pl->r, g, HP_BATCH, &bv);
    int rc = 0;
    if (nb < 0)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (long i = 0; i < nb && !rc; i++)
        rc = chart_vs_hidden(pl, g, M_ERR, &pl->r->jobs[bv[i]], err);
    ls_free(bv);
    return rc ? rc : chart_vs_hidden(pl, g, M_SPS, NULL, err);
}

int ls_report_plots(const ls_report *r, const ls_report_opts *o,
                    ls_report_plot_info *info, ls_err *err)
{
    plotter pl = {.r = r, .o = o, .info = info};
    char prog[4096];
    int rc;

    memset(info, 0, sizeof *info);
    if (!o->plots_dir)
        return ls_err_set(err, LS_EINVAL, "no plots directory given");
    if ((rc = rep_make_dirs(o->plots_dir, err)))
        return rc;
    for (size_t g = 0; g < r->ngroups && !rc; g++)
        rc = plot_group(&pl, g, err);
    if (!rc)
        rc = rep_plot_curves(&pl, err);
    if (!rc)
        rc = rep_plot_search(&pl, err);
    info->charts = (int)pl.nstems;
    if (rc)
        goto out;
    if (rep_find_program(o->gnuplot ? o->gnuplot : "gnuplot", prog, sizeof prog) != 0)
        rep_note(info, "%s not found: charts not drawn (install gnuplot-nox, e.g. with "
                       "scripts/install-deps). Their data and scripts are in %s; draw them "
                       "later with: cd %s && gnuplot *.gp",
                 o->gnuplot ? o->gnuplot : "gnuplot", o->plots_dir, o->plots_dir);
    else if (!(rc = rep_run_gnuplot(&pl, prog, err)))
        info->drawn = 1;
out:
    for (size_t i = 0; i < pl.nstems; i++)
        ls_free(pl.stems[i]);
    ls_free(pl.stems);
    return rc;
}
