/* fuzz_csv.c - libFuzzer target: the CSV reader, ls_csv_read() with the
 * results header (today's or an earlier layout's), the curves header and none, and ls_results_merge() and
 * ls_curves_merge() of the input with itself into a temporary file, whose
 * output must read back (see fuzz.h). */
#include "fuzz.h"

#include "lstmsweep/csv.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/merge.h"
#include "lstmsweep/results.h"

typedef struct rows {
    int want;       /* fields per row, or -1 for any */
    size_t n;       /* rows seen */
    size_t bytes;   /* field bytes seen (reads every field) */
} rows;

static int count_row(void *ctx, const char *path, long line, int nfields,
                     char **fields, ls_err *err)
{
    rows *r = ctx;

    (void)path, (void)err;
    if (nfields < 1 || (r->want >= 0 && nfields != r->want) || line < 1)
        FUZZ_DIE("ls_csv_read: row at line %ld with %d fields", line, nfields);
    for (int i = 0; i < nfields; i++)
        r->bytes += strlen(fields[i]);
    r->n++;
    return 0;
}

static int read_csv(const char *path, const char *header, rows *r, int *torn)
{
    ls_err err = {0};
    int rc;

    r->want = header ? 1 : -1; /* the header's field count, or any */
    for (const char *p = header ? strchr(header, ',') : NULL; p; p = strchr(p + 1, ','))
        r->want++;
    r->n = r->bytes = 0;
    rc = ls_csv_read(path, header, count_row, r, torn, &err);
    fuzz_check_rc("ls_csv_read", rc, &err, path);
    return rc;
}

typedef int (*merge_fn)(const char *out, const char *const *inputs, int ninputs,
                        ls_merge_stats *stats, ls_err *err);

/* Merge the input with itself; the output must read back with one row per
 * key (job; job and epoch) and no torn line. */
static void merge(const char *name, merge_fn fn, const char *header, const char *path,
                  int rc_read, const rows *read)
{
    char buf[4096];
    const char *out = fuzz_path("merged.csv", buf, sizeof buf);
    const char *inputs[2] = {path, path};
    ls_merge_stats st;
    ls_err err = {0};
    rows back;
    int torn, rc = fn(out, inputs, 2, &st, &err);

    fuzz_check_rc(name, rc, &err, NULL);
    if (rc == 0) {
        if (rc_read != 0 || st.rows != 2 * read->n || st.jobs > read->n ||
            st.jobs + st.replaced != st.rows)
            FUZZ_DIE("%s: stats rows %zu jobs %zu replaced %zu for %zu rows read "
                     "(rc %d)", name, st.rows, st.jobs, st.replaced, read->n, rc_read);
        if (read_csv(out, header, &back, &torn) != 0 || torn || back.n != st.jobs)
            FUZZ_DIE("%s: output does not read back (%zu of %zu rows, torn %d)", name,
                     back.n, st.jobs, torn);
    }
    unlink(out);
}

/* The input read as a results file: with today's header, else with an
 * earlier layout's (results.h), which the results merge upgrades. */
static int read_results(const char *path, rows *r, int *torn)
{
    char old[4096];
    int rc = read_csv(path, LS_RESULTS_COLUMNS, r, torn);
    for (int k = LS_RESULTS_LAYOUT - 1; rc && k >= 1; k--)
        if (!ls_results_layout_header(k, old, sizeof old) && !read_csv(path, old, r, torn))
            rc = 0;
    return rc;
}

int fuzz_csv_file(const char *path)
{
    rows with, curves, any;
    int torn, rc = read_results(path, &with, &torn);
    int rc_curves = read_csv(path, LS_CURVE_COLUMNS, &curves, &torn);

    read_csv(path, NULL, &any, &torn);
    merge("ls_results_merge", ls_results_merge, LS_RESULTS_COLUMNS, path, rc, &with);
    merge("ls_curves_merge", ls_curves_merge, LS_CURVE_COLUMNS, path, rc_curves, &curves);
    return rc;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[4096];

    fuzz_csv_file(fuzz_write("input.csv", data, size, buf, sizeof buf));
    return 0;
}
#endif
