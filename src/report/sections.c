/* sections.c - the report's sections (ls_report_write): jobs by status,
 * problem jobs, best configurations, pivot tables, speed; each a table
 * printed as text, markdown or CSV.  See report_int.h. */
#include "report_int.h"
#include "lstmsweep/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/table.h"

static int hp_index(const char *name)
{
    for (int k = 0; k < NHP; k++)
        if (!strcmp(rep_hp_name(k), name))
            return k;
    return -1;
}

void ls_report_opts_init(ls_report_opts *o)
{
    memset(o, 0, sizeof *o);
}

int ls_report_parse_by(ls_report_opts *o, char *list, ls_err *err)
{
    int n = 0;
    for (char *p = list; p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        for (char *q = p; *q; q++)
            *q = *q == '-' ? '_' : *q;
        int k = hp_index(p);
        if (k <= HP_TASK)
            return ls_err_set(err, LS_EINVAL,
                              "--by: unknown key '%s' (keys: hidden, batch, layers, "
                              "epochs, lr, dropout, seed, bits, train_size, data, "
                              "target_error, eval_every)", p);
        for (int i = 0; i < n; i++)
            if (!strcmp(o->by[i], p))
                return ls_err_set(err, LS_EINVAL, "--by: '%s' given twice", p);
        if (n == LS_REPORT_MAX_BY)
            return ls_err_set(err, LS_EINVAL, "--by: at most %d keys", LS_REPORT_MAX_BY);
        o->by[n++] = p;
        p = comma ? comma + 1 : NULL;
    }
    if (n < 2)
        return ls_err_set(err, LS_EINVAL, "--by needs two keys or more: rows, columns, "
                                          "then one table per value combination");
    o->nby = n;
    return 0;
}



void rep_heading(writer *w, const char *fmt, ...)
{
    va_list ap;
    if (w->fmt == LS_REPORT_CSV)
        return;
    fputs(w->fmt == LS_REPORT_MARKDOWN ? "## " : w->sections && !w->blank ? "\n== " : "== ",
          w->f);
    va_start(ap, fmt);
    vfprintf(w->f, fmt, ap);
    va_end(ap);
    fputs(w->fmt == LS_REPORT_MARKDOWN ? "\n\n" : " ==\n", w->f);
    w->sections++;
    w->blank = w->captioned = 0;
}

/* A line of prose (text, markdown); caption = a table's title. */
void rep_prose(writer *w, int caption, const char *fmt, ...)
{
    va_list ap;
    if (w->fmt == LS_REPORT_CSV)
        return;
    if (caption)
        fputs(w->fmt == LS_REPORT_MARKDOWN ? "**" : w->blank ? "" : "\n", w->f);
    va_start(ap, fmt);
    vfprintf(w->f, fmt, ap);
    va_end(ap);
    if (caption)
        fputs(w->fmt == LS_REPORT_MARKDOWN ? "**\n\n" : "\n", w->f);
    else
        fputs(w->fmt == LS_REPORT_MARKDOWN ? "\n\n" : "\n", w->f);
    w->blank = 0;
    w->captioned = caption;
}

void rep_emit(writer *w, ls_table *t, const char *section, int skip_header)
{
    w->oom |= t->oom;
    if (w->fmt == LS_REPORT_TEXT) {
        if (!w->blank && !w->captioned)
            fputc('\n', w->f);
        ls_table_text(w->f, t);
        fputc('\n', w->f);
        w->blank = 1;
        w->captioned = 0;
    }
    else if (w->fmt == LS_REPORT_MARKDOWN)
        ls_table_markdown(w->f, t);
    else
        ls_table_csv(w->f, t, section, skip_header);
    ls_table_free(t);
}

const char *rep_sig3(char *buf, double v)
{
    double a = fabs(v);
    if (isnan(v))
        snprintf(buf, 32, "-");
    else if (a == 0)
        snprintf(buf, 32, "0");
    else if (a >= 100)
        snprintf(buf, 32, "%.0f", v);
    else if (a >= 0.001)
        snprintf(buf, 32, "%.*f", 2 - (int)floor(log10(a)), v);
    else
        snprintf(buf, 32, "%.2e", v);
    return buf;
}

/* A test error: percent for people, the fraction in CSV. */
const char *rep_fmt_err(const writer *w, char *buf, double frac)
{
    if (w->fmt == LS_REPORT_CSV) {
        snprintf(buf, 32, "%.6g", frac);
        return buf;
    }
    return rep_sig3(buf, 100 * frac);
}

static void write_summary(writer *w)
{
    const ls_report_counts *c = &w->r->counts;
    ls_table t;
    ls_table_init(&t, 2, 1);
    if (w->fmt == LS_REPORT_CSV) {
        const char *names[] = {"files", "rows", "jobs", "superseded", "torn", "configurations"};
        size_t vals[] = {(size_t)w->r->npaths, c->rows, c->jobs, c->superseded, c->torn,
                         c->configs};
        ls_table_row(&t), ls_table_put(&t, "item"), ls_table_put(&t, "value");
        for (int i = 0; i < 6; i++)
            ls_table_row(&t), ls_table_put(&t, "%s", names[i]), ls_table_put(&t, "%zu", vals[i]);
    } else {
        rep_heading(w, "Jobs by status");
        rep_prose(w, 0, "%zu job(s) from %zu row(s) in %d file(s), %zu configuration(s)%s",
              c->jobs, c->rows, w->r->npaths, c->configs,
              c->superseded || c->torn ? ";" : "");
        if (c->superseded)
            rep_prose(w, 0, "%zu row(s) superseded by a later or final row of the same job",
                  c->superseded);
        if (c->torn)
            rep_prose(w, 0, "%zu torn last line(s) skipped (a crash while writing)", c->torn);
        ls_table_row(&t), ls_table_put(&t, "status"), ls_table_put(&t, "jobs");
    }
    for (int s = 0; s < LS_NSTATUS; s++)
        ls_table_row(&t), ls_table_put(&t, "%s", ls_status_name((ls_status)s)),
            ls_table_put(&t, "%zu", c->status[s]);
    rep_emit(w, &t, "summary", 0);
}

static void write_problems(writer *w)
{
    const ls_report *r = w->r;
    const ls_report_counts *c = &r->counts;
    size_t n = c->status[LS_STATUS_FAILED] + c->status[LS_STATUS_DIVERGED] +
               c->status[LS_STATUS_INTERRUPTED];
    int csv = w->fmt == LS_REPORT_CSV;
    ls_table t;

    rep_heading(w, "Failed, diverged and interrupted jobs");
    if (!n && !csv) {
        rep_prose(w, 0, "none: every job finished ok");
        return;
    }
    /* text: 9 columns, job_id, task, status and message aligned left */
    ls_table_init(&t, csv ? 11 : 9, csv ? 0 : 0x143u);
    ls_table_row(&t);
    const char *hdr[] = {"job_id", "task", "data", "hidden", "batch", "layers", "seed",
                         "status", "epochs_run", "epochs", "message"};
    for (int i = 0; i < 11; i++)
        if (csv || (i != 2 && i != 9))
            ls_table_put(&t, "%s", !csv && i == 8 ? "epochs" : hdr[i]);
    const ls_status order[] = {LS_STATUS_FAILED, LS_STATUS_DIVERGED, LS_STATUS_INTERRUPTED};
    for (int s = 0; s < 3; s++)
        for (size_t i = 0; i < r->njobs; i++) {
            const job *j = &r->jobs[i];
            if (j->status != order[s])
                continue;
            const char *msg = *j->message ? j->message
                              : j->status == LS_STATUS_INTERRUPTED
                                  ? "(checkpointed; rerun the sweep to continue)"
                                  : "";
            ls_table_row(&t);
            ls_table_put(&t, "%s", j->id);
            ls_table_put(&t, "%s", csv ? j->hp[HP_TASK] : r->groups[j->group].label);
            if (csv)
                ls_table_put(&t, "%s", j->hp[HP_DATA]);
            ls_table_put(&t, "%s", j->hp[HP_HIDDEN]);
            ls_table_put(&t, "%s", j->hp[HP_BATCH]);
            ls_table_put(&t, "%s", j->hp[HP_LAYERS]);
            ls_table_put(&t, "%s", j->hp[HP_SEED]);
            ls_table_put(&t, "%s", ls_status_name(j->status));
            if (csv)
                ls_table_put(&t, "%d", j->epochs_run), ls_table_put(&t, "%s", j->hp[HP_EPOCHS]);
            else
                ls_table_put(&t, "%d/%s", j->epochs_run, j->hp[HP_EPOCHS]);
            ls_table_put(&t, "%s", csv ? j->message : msg);
        }
    rep_emit(w, &t, "problems", 0);
}

/* Columns of the configuration tables: hidden, batch, layers, then the
 * other keys that vary in the group (all keys in CSV). */
static int cfg_keys(const writer *w, const group *g, int *keys)
{
    int n = 0;
    for (int k = HP_HIDDEN; k < NHP; k++) {
        if (k == HP_SEED || k == HP_DATA)
            continue;
        if (w->fmt == LS_REPORT_CSV || k <= HP_LAYERS || g->varies[k])
            keys[n++] = k;
    }
    return n;
}

static void best_header(ls_table *t, const writer *w, const int *keys, int nk)
{
    int csv = w->fmt == LS_REPORT_CSV;
    ls_table_row(t);
    if (csv)
        ls_table_put(t, "task"), ls_table_put(t, "data");
    ls_table_put(t, "rank");
    for (int i = 0; i < nk; i++)
        ls_table_put(t, "%s", rep_hp_name(keys[i]));
    if (csv) {
        const char *h[] = {"runs", "seeds", "val_error_mean", "test_error_mean",
                           "test_error_std", "test_error_min", "test_error_max",
                           "wall_s_mean", "samples_per_s_mean", "gflops_mean"};
        for (int i = 0; i < 10; i++)
            ls_table_put(t, "%s", h[i]);
    } else {
        const char *h[] = {"seeds", "val err %", "test err %", "std", "min", "max", "wall s"};
        for (int i = 0; i < 7; i++)
            ls_table_put(t, "%s", h[i]);
    }
}

static void best_row(ls_table *t, const writer *w, const cfg *c, long rank,
                     const int *keys, int nk)
{
    const ls_report *r = w->r;
    const job *j = &r->jobs[r->order[c->start]];
    char b[5][32];
    ls_table_row(t);
    if (w->fmt == LS_REPORT_CSV) {
        ls_table_put(t, "%s", j->hp[HP_TASK]), ls_table_put(t, "%s", j->hp[HP_DATA]);
        if (rank > 0)
            ls_table_put(t, "%ld", rank);
        else
            ls_table_put(t, "%s", "");
        for (int i = 0; i < nk; i++)
            ls_table_put(t, "%s", j->hp[keys[i]]);
        ls_table_put(t, "%zu", c->runs), ls_table_put(t, "%zu", c->seeds);
        if (!c->seeds)
            return;
        if (c->nval)
            ls_table_put(t, "%.6g", c->val_mean);
        else
            ls_table_put(t, "%s", "");
        ls_table_put(t, "%.6g", c->err_mean), ls_table_put(t, "%.6g", c->err_std);
        ls_table_put(t, "%.6g", c->err_min), ls_table_put(t, "%.6g", c->err_max);
        ls_table_put(t, "%.3f", c->wall_mean);
        if (c->nok)
            ls_table_put(t, "%.1f", c->sps_mean), ls_table_put(t, "%.3f", c->gflops_mean);
        return;
    }
    ls_table_put(t, "%ld", rank);
    for (int i = 0; i < nk; i++)
        ls_table_put(t, "%s", j->hp[keys[i]]);
    if (c->seeds == c->runs)
        ls_table_put(t, "%zu", c->seeds);
    else
        ls_table_put(t, "%zu/%zu", c->seeds, c->runs);
    ls_table_put(t, "%s", c->nval ? rep_fmt_err(w, b[0], c->val_mean) : "-");
    ls_table_put(t, "%s", rep_fmt_err(w, b[0], c->err_mean));
    ls_table_put(t, "%s", c->seeds > 1 ? rep_fmt_err(w, b[1], c->err_std) : "-");
    ls_table_put(t, "%s", rep_fmt_err(w, b[2], c->err_min));
    ls_table_put(t, "%s", rep_fmt_err(w, b[3], c->err_max));
    ls_table_put(t, "%s", rep_sig3(b[4], c->wall_mean));
}

/* The best configuration in a sentence: its validation error (what chose
 * it) and its test error. */
static void best_prose(writer *w, const cfg *c)
{
    char desc[256], v[64] = "", b[5][32];
    rep_cfg_desc(w->r, c, 1, desc, sizeof desc);
    if (c->nval)
        snprintf(v, sizeof v, "validation error %s%%, ", rep_fmt_err(w, b[4], c->val_mean));
    if (c->seeds > 1)
        rep_prose(w, 0, "best: %s: %stest error %s%% (mean of %zu seeds; std %s, min %s, "
                    "max %s), %s s wall", desc, v, rep_fmt_err(w, b[0], c->err_mean), c->seeds,
              rep_fmt_err(w, b[1], c->err_std), rep_fmt_err(w, b[2], c->err_min),
              rep_fmt_err(w, b[3], c->err_max), rep_sig3(b[4], c->wall_mean));
    else
        rep_prose(w, 0, "best: %s: %stest error %s%% (one seed), %s s wall", desc, v,
              rep_fmt_err(w, b[0], c->err_mean), rep_sig3(b[1], c->wall_mean));
}

static void best_text(writer *w, size_t gi)
{
    const ls_report *r = w->r;
    const group *g = &r->groups[gi];
    size_t top = w->o->top > 0 ? (size_t)w->o->top : 5, unranked = 0;
    int keys[NHP], nk = cfg_keys(w, g, keys);
    char fixed[512], seeds[256];
    ls_table t;

    for (size_t c = 0; c < r->ncfgs; c++)
        unranked += r->cfgs[c].group == gi && !r->cfgs[c].seeds;
    rep_heading(w, "%s: best configurations", g->label);
    rep_fixed_keys(r, gi, fixed, sizeof fixed);
    rep_seed_list(r, gi, seeds, sizeof seeds);
    rep_prose(w, 0, "fixed: %s; seeds: %s", *fixed ? fixed : "(nothing)", seeds);
    if (!g->nranked) {
        rep_prose(w, 0, "no configuration has an ok job with a test error");
        return;
    }
    rep_prose(w, 1, "ranked by validation error (%%, mean over seeds; the test error beside "
                "it did not choose; without a validation split, by test error; ties: mean "
                "wall time), top %zu of %zu", top < g->nranked ? top : g->nranked, g->nranked);
    ls_table_init(&t, nk + 8, 0);
    best_header(&t, w, keys, nk);
    for (size_t i = 0; i < g->nranked && i < top; i++)
        best_row(&t, w, &r->cfgs[g->ranked[i]], (long)i + 1, keys, nk);
    rep_emit(w, &t, "configs", 0);
    best_prose(w, &r->cfgs[g->ranked[0]]);
    if (unranked)
        rep_prose(w, 0, "%zu configuration(s) without an ok job are not ranked (see the "
                    "failed, diverged and interrupted jobs)", unranked);
}

static void write_best(writer *w)
{
    const ls_report *r = w->r;
    if (w->fmt != LS_REPORT_CSV) {
        for (size_t g = 0; g < r->ngroups; g++)
            best_text(w, g);
        return;
    }
    /* CSV: every configuration of every group, unranked ones without rank */
    int keys[NHP], nk = cfg_keys(w, &r->groups[0], keys);
    ls_table t;
    ls_table_init(&t, nk + 13, 0);
    best_header(&t, w, keys, nk);
    for (size_t gi = 0; gi < r->ngroups; gi++) {
        const group *g = &r->groups[gi];
        for (size_t i = 0; i < g->nranked; i++)
            best_row(&t, w, &r->cfgs[g->ranked[i]], (long)i + 1, keys, nk);
        for (size_t c = 0; c < r->ncfgs; c++)
            if (r->cfgs[c].group == gi && !r->cfgs[c].seeds)
                best_row(&t, w, &r->cfgs[c], 0, keys, nk);
    }
    rep_emit(w, &t, "configs", 0);
}

/* ---- pivot tables ---- */

typedef struct acc {
    size_t jobs;     /* jobs in the cell, any status */
    size_t n;        /* values averaged */
    double sum;
} acc;

typedef struct pivot {
    int nk, key[LS_REPORT_MAX_BY];
    size_t *val[LS_REPORT_MAX_BY]; /* distinct values (job indices) */
    size_t nval[LS_REPORT_MAX_BY];
    size_t ncells;                 /* product of nval */
    acc *cell[2];                  /* per metric: test error %, samples/s */
} pivot;

static void pivot_free(pivot *p)
{
    for (int i = 0; i < p->nk; i++)
        ls_free(p->val[i]);
    ls_free(p->cell[0]);
    ls_free(p->cell[1]);
}

/* Cell index: key 0 the row, key 1 the column, the others outermost. */
static size_t pivot_index(const pivot *p, const size_t *pos)
{
    size_t idx = 0;
    for (int i = p->nk - 1; i >= 2; i--)
        idx = idx * p->nval[i] + pos[i];
    return (idx * p->nval[0] + pos[0]) * p->nval[1] + pos[1];
}

static int pivot_build(const ls_report *r, size_t g, const int *keys, int nk, pivot *p)
{
    memset(p, 0, sizeof *p);
    p->ncells = 1;
    for (p->nk = 0; p->nk < nk; p->nk++) {
        long m = rep_distinct(r, g, keys[p->nk], &p->val[p->nk]);
        if (m < 0)
            return LS_ENOMEM;
        p->key[p->nk] = keys[p->nk];
        p->nval[p->nk] = (size_t)m;
        p->ncells *= (size_t)m;
    }
    p->cell[0] = ls_calloc(p->ncells, sizeof(acc));
    p->cell[1] = ls_calloc(p->ncells, sizeof(acc));
    if (!p->cell[0] || !p->cell[1])
        return LS_ENOMEM;
    for (size_t i = 0; i < r->njobs; i++) {
        const job *j = &r->jobs[i];
        size_t pos[LS_REPORT_MAX_BY];
        if (j->group != g)
            continue;
        for (int k = 0; k < nk; k++)
            pos[k] = rep_value_pos(r, p->val[k], p->nval[k], keys[k], j);
        size_t idx = pivot_index(p, pos);
        acc *e = &p->cell[0][idx], *s = &p->cell[1][idx];
        e->jobs++, s->jobs++;
        if (j->status != LS_STATUS_OK)
            continue;
        s->n++, s->sum += j->samples_per_s;
        if (!isnan(j->test_error))
            e->n++, e->sum += 100 * j->test_error;
    }
    return 0;
}

/* Positions of the extra keys (2..) for combination number e. */
static void pivot_combo(const pivot *p, size_t e, size_t *pos)
{
    for (int i = 2; i < p->nk; i++) {
        pos[i] = e % p->nval[i];
        e /= p->nval[i];
    }
}

static const char *hp_of(const ls_report *r, const pivot *p, int i, size_t v)
{
    const char *s = r->jobs[p->val[i][v]].hp[p->key[i]];
    return *s ? s : "(none)";
}

static void pivot_table(writer *w, const pivot *p, int metric, size_t e, const char *title)
{
    const ls_report *r = w->r;
    size_t pos[LS_REPORT_MAX_BY];
    int marks = 0;
    char b[32];
    ls_table t;

    pivot_combo(p, e, pos);
    ls_table_init(&t, (int)p->nval[1] + 1, 0);
    ls_table_row(&t);
    ls_table_put(&t, "%s \\ %s", rep_hp_name(p->key[0]), rep_hp_name(p->key[1]));
    for (size_t c = 0; c < p->nval[1]; c++)
        ls_table_put(&t, "%s", hp_of(r, p, 1, c));
    for (size_t row = 0; row < p->nval[0]; row++) {
        ls_table_row(&t);
        ls_table_put(&t, "%s", hp_of(r, p, 0, row));
        for (size_t c = 0; c < p->nval[1]; c++) {
            pos[0] = row, pos[1] = c;
            const acc *a = &p->cell[metric][pivot_index(p, pos)];
            double mean = a->n ? a->sum / (double)a->n : NAN;
            if (!a->jobs)
                ls_table_put(&t, "%s", "");
            else if (!a->n)
                ls_table_put(&t, "-");
            else
                ls_table_put(&t, "%s%s", metric ? (snprintf(b, sizeof b, "%.0f", mean), b)
                                                : rep_sig3(b, mean),
                             a->n < a->jobs ? "*" : "");
            marks |= a->jobs && a->n < a->jobs;
        }
    }
    rep_prose(w, 1, "%s", title);
    rep_emit(w, &t, "pivot", 0);
    if (marks)
        rep_prose(w, 0, "*: mean of fewer jobs than the cell holds (the others failed, "
                    "diverged or are unfinished); -: no finished job");
}

static void pivot_csv(writer *w, size_t gi, const pivot *p, int *header_done)
{
    const ls_report *r = w->r;
    const group *g = &r->groups[gi];
    const char *metric[2] = {"test_error", "samples_per_s"};
    size_t pos[LS_REPORT_MAX_BY];
    ls_table t;

    ls_table_init(&t, p->nk + 6, 0);
    ls_table_row(&t);
    ls_table_put(&t, "task"), ls_table_put(&t, "data"), ls_table_put(&t, "metric");
    for (int i = 0; i < p->nk; i++)
        ls_table_put(&t, "%s", rep_hp_name(p->key[i]));
    ls_table_put(&t, "jobs"), ls_table_put(&t, "values"), ls_table_put(&t, "mean");
    for (int m = 0; m < 2; m++)
        for (size_t idx = 0; idx < p->ncells; idx++) {
            const acc *a = &p->cell[m][idx];
            size_t rest = idx;
            if (!a->jobs)
                continue;
            pos[1] = rest % p->nval[1], rest /= p->nval[1];
            pos[0] = rest % p->nval[0], rest /= p->nval[0];
            pivot_combo(p, rest, pos);
            ls_table_row(&t);
            ls_table_put(&t, "%s", g->task), ls_table_put(&t, "%s", g->data);
            ls_table_put(&t, "%s", metric[m]);
            for (int i = 0; i < p->nk; i++)
                ls_table_put(&t, "%s", r->jobs[p->val[i][pos[i]]].hp[p->key[i]]);
            ls_table_put(&t, "%zu", a->jobs), ls_table_put(&t, "%zu", a->n);
            if (a->n)
                ls_table_put(&t, "%.6g", m ? a->sum / (double)a->n : a->sum / (double)a->n / 100);
        }
    rep_emit(w, &t, "pivot", *header_done);
    *header_done = 1;
}

/* Does combination e of the extra keys hold any job? */
static int combo_used(const pivot *p, size_t e)
{
    size_t per = p->nval[0] * p->nval[1];
    for (size_t i = 0; i < per; i++)
        if (p->cell[0][e * per + i].jobs)
            return 1;
    return 0;
}

static void pivot_text(writer *w, size_t gi, const pivot *p)
{
    const group *g = &w->r->groups[gi];
    const char *metric[2] = {"test error (%)", "training samples/s"};
    char avg[256], title[1024];
    size_t combos = p->ncells / (p->nval[0] * p->nval[1]), pos[LS_REPORT_MAX_BY];

    rep_averaged_keys(g, p->key, p->nk, avg, sizeof avg);
    rep_heading(w, "%s: test error and speed by %s (rows) and %s (columns)", g->label,
            rep_hp_name(p->key[0]), rep_hp_name(p->key[1]));
    for (int m = 0; m < 2; m++)
        for (size_t e = 0; e < combos; e++) {
            size_t n = 0;
            if (!combo_used(p, e))
                continue;
            pivot_combo(p, e, pos);
            n += (size_t)snprintf(title, sizeof title, "%s: %s", g->label, metric[m]);
            for (int i = 2; i < p->nk && n < sizeof title; i++)
                n += (size_t)snprintf(title + n, sizeof title - n, "%s %s=%s",
                                      i == 2 ? "," : "", rep_hp_name(p->key[i]),
                                      hp_of(w->r, p, i, pos[i]));
            if (*avg && n < sizeof title)
                snprintf(title + n, sizeof title - n, " (mean over %s)", avg);
            pivot_table(w, p, m, e, title);
        }
}

/* By default one table per batch size, and per cell where the results
 * hold several (cells are never averaged together unasked). */
static const char *const default_by[] = {"hidden", "layers", "batch", "cell"};

static int cells_vary(const ls_report *r)
{
    for (size_t g = 0; g < r->ngroups; g++)
        if (r->groups[g].varies[HP_CELL])
            return 1;
    return 0;
}

static int write_pivots(writer *w, ls_err *err)
{
    const ls_report_opts *o = w->o;
    int keys[LS_REPORT_MAX_BY], header_done = 0;
    int nk = o->nby ? o->nby : 3 + cells_vary(w->r);
    for (int i = 0; i < nk; i++) {
        const char *name = o->nby ? o->by[i] : default_by[i];
        keys[i] = hp_index(name);
        if (keys[i] <= HP_TASK || nk < 2 || nk > LS_REPORT_MAX_BY)
            return ls_err_set(err, LS_EINVAL, "bad pivot keys (at '%s')", name);
    }
    for (size_t g = 0; g < w->r->ngroups; g++) {
        pivot p;
        if (pivot_build(w->r, g, keys, nk, &p)) {
            pivot_free(&p);
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        }
        if (w->fmt == LS_REPORT_CSV)
            pivot_csv(w, g, &p, &header_done);
        else
            pivot_text(w, g, &p);
        pivot_free(&p);
    }
    return 0;
}

/* ---- speed ---- */

static int cmp_gflops(const void *a, const void *b, void *ctx)
{
    const ls_report *r = ctx;
    double x = r->cfgs[*(const size_t *)a].gflops_mean, y = r->cfgs[*(const size_t *)b].gflops_mean;
    return (x < y) - (x > y);
}

static void speed_row(ls_table *t, const writer *w, const cfg *c, int other)
{
    const ls_report *r = w->r;
    const job *j = &r->jobs[r->order[c->start]];
    char desc[256];
    ls_table_row(t);
    if (w->fmt == LS_REPORT_CSV) {
        int keys[NHP], nk = cfg_keys(w, &r->groups[c->group], keys);
        ls_table_put(t, "%s", j->hp[HP_TASK]), ls_table_put(t, "%s", j->hp[HP_DATA]);
        for (int i = 0; i < nk; i++)
            ls_table_put(t, "%s", j->hp[keys[i]]);
        ls_table_put(t, "%zu", c->nok), ls_table_put(t, "%d", c->thr_min);
        ls_table_put(t, "%d", c->thr_max);
        ls_table_put(t, "%.1f", c->sps_mean), ls_table_put(t, "%.3f", c->gflops_mean);
        if (w->o->peak_gflops > 0)
            ls_table_put(t, "%.4f", c->gflops_mean / w->o->peak_gflops);
        return;
    }
    ls_table_put(t, "%s", r->groups[c->group].label);
    ls_table_put(t, "%s", j->hp[HP_HIDDEN]), ls_table_put(t, "%s", j->hp[HP_BATCH]);
    ls_table_put(t, "%s", j->hp[HP_LAYERS]);
    if (other) {
        /* the group's varying keys beyond hidden, batch, layers */
        char *p = desc;
        rep_cfg_desc(r, c, 1, desc, sizeof desc);
        for (int skip = 0; skip < 3 && p; skip++)
            p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
        ls_table_put(t, "%s", p ? p : "");
    }
    if (c->thr_min == c->thr_max)
        ls_table_put(t, "%d", c->thr_min);
    else
        ls_table_put(t, "%d-%d", c->thr_min, c->thr_max);
    ls_table_put(t, "%.0f", c->sps_mean), ls_table_put(t, "%.2f", c->gflops_mean);
}

static void speed_header(ls_table *t, const writer *w, int other)
{
    ls_table_row(t);
    if (w->fmt == LS_REPORT_CSV) {
        int keys[NHP], nk = cfg_keys(w, &w->r->groups[0], keys);
        const char *h[] = {"jobs", "threads_min", "threads_max", "samples_per_s_mean",
                           "gflops_mean", "peak_fraction"};
        ls_table_put(t, "task"), ls_table_put(t, "data");
        for (int i = 0; i < nk; i++)
            ls_table_put(t, "%s", rep_hp_name(keys[i]));
        for (int i = 0; i < 6; i++)
            ls_table_put(t, "%s", h[i]);
        return;
    }
    ls_table_put(t, "task"), ls_table_put(t, "hidden"), ls_table_put(t, "batch");
    ls_table_put(t, "layers");
    if (other)
        ls_table_put(t, "other");
    ls_table_put(t, "threads"), ls_table_put(t, "samples/s"), ls_table_put(t, "GFLOP/s");
}

static int write_speed(writer *w, ls_err *err)
{
    const ls_report *r = w->r;
    size_t *c = ls_alloc((r->ncfgs + 1) * sizeof *c), n = 0, k = 3;
    int other = 0, csv = w->fmt == LS_REPORT_CSV;
    char desc[256];
    ls_table t;

    if (!c)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->ncfgs; i++)
        if (r->cfgs[i].nok)
            c[n++] = i;
    qsort_r(c, n, sizeof *c, cmp_gflops, (void *)r);
    for (size_t g = 0; g < r->ngroups; g++)
        for (int key = HP_CELL; key < NHP; key++)
            other |= key != HP_SEED && key != HP_DATA && r->groups[g].varies[key];
    rep_heading(w, "Speed");
    if (!n) {
        rep_prose(w, 0, "no ok job: no speed to show");
        ls_free(c);
        return 0;
    }
    int keys[NHP], ncols = csv ? 2 + cfg_keys(w, &r->groups[0], keys) + 6 : 7 + other;
    ls_table_init(&t, ncols, csv ? 0x3u : other ? 0x11u : 0x1u);
    speed_header(&t, w, other);
    for (size_t i = 0; i < n; i++) {
        if (!csv && n > 2 * k && i == k) {
            ls_table_row(&t);
            for (int col = 0; col < t.ncols; col++)
                ls_table_put(&t, "...");
            i = n - k;
        }
        speed_row(&t, w, &r->cfgs[c[i]], other);
    }
    rep_prose(w, 1, "training GFLOP/s by configuration, mean over ok jobs (%s of %zu)",
          n > 2 * k ? "fastest 3 and slowest 3" : "all", n);
    rep_emit(w, &t, "speed", 0);
    const cfg *best = &r->cfgs[c[0]];
    rep_cfg_desc(r, best, 1, desc, sizeof desc);
    if (w->o->peak_gflops > 0)
        rep_prose(w, 0, "fastest: %.2f GFLOP/s (%s %s, %d thread%s per job) = %.1f%% of the "
                    "peak %.2f GFLOP/s given with --peak (%.2f GFLOP/s short)",
              best->gflops_mean, r->groups[best->group].label, desc, best->thr_max,
              best->thr_max == 1 ? "" : "s",
              100 * best->gflops_mean / w->o->peak_gflops, w->o->peak_gflops,
              w->o->peak_gflops - best->gflops_mean);
    else
        rep_prose(w, 0, "fastest: %.2f GFLOP/s (%s %s, %d thread%s per job); peak unknown "
                    "(pass --peak)", best->gflops_mean, r->groups[best->group].label,
              desc, best->thr_max, best->thr_max == 1 ? "" : "s");
    ls_free(c);
    return 0;
}

int ls_report_write(const ls_report *r, const ls_report_opts *o, FILE *out, ls_err *err)
{
    writer w = {.r = r, .o = o, .f = out, .fmt = o->format};
    int rc;

    if ((unsigned)o->format > LS_REPORT_CSV)
        return ls_err_set(err, LS_EINVAL, "unknown report format %d", (int)o->format);
    if (o->nby) { /* check the keys before printing anything */
        ls_report_opts copy = *o;
        char list[256] = "";
        size_t n = 0;
        for (int i = 0; i < o->nby && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? "," : "", o->by[i]);
        if ((rc = ls_report_parse_by(&copy, list, err)))
            return rc;
    }
    write_summary(&w);
    write_problems(&w);
    write_best(&w);
    if ((rc = write_pivots(&w, err)) || (rc = write_speed(&w, err)) ||
        (rc = rep_write_search(&w, err)))
        return rc;
    if (w.oom)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    if (fflush(out) != 0 || ferror(out))
        return ls_err_set(err, LS_EIO, "cannot write the report: %s", strerror(errno));
    return 0;
}
