/* fuzz_csv.c - libFuzzer target: the CSV reader, ls_csv_read() with the
 * results header and without one, and ls_results_merge() of the input with
 * itself into a temporary file, whose output must read back (see fuzz.h). */
#include "fuzz.h"

#include "lstmsweep/csv.h"
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

    r->want = header ? ls_csv_column(header, "message") + 1 : -1;
    r->n = r->bytes = 0;
    rc = ls_csv_read(path, header, count_row, r, torn, &err);
    fuzz_check_rc("ls_csv_read", rc, &err, path);
    return rc;
}

/* Merge the input with itself; the output must read back with one row per
 * job and no torn line. */
static void merge(const char *path, int rc_read, const rows *read)
{
    char buf[4096];
    const char *out = fuzz_path("merged.csv", buf, sizeof buf);
    const char *inputs[2] = {path, path};
    ls_merge_stats st;
    ls_err err = {0};
    rows back;
    int torn, rc = ls_results_merge(out, inputs, 2, &st, &err);

    fuzz_check_rc("ls_results_merge", rc, &err, NULL);
    if (rc == 0) {
        if (rc_read != 0 || st.rows != 2 * read->n || st.jobs > read->n ||
            st.jobs + st.replaced != st.rows)
            FUZZ_DIE("ls_results_merge: stats rows %zu jobs %zu replaced %zu "
                     "for %zu rows read (rc %d)", st.rows, st.jobs, st.replaced,
                     read->n, rc_read);
        if (read_csv(out, LS_RESULTS_COLUMNS, &back, &torn) != 0 || torn ||
            back.n != st.jobs)
            FUZZ_DIE("ls_results_merge: output does not read back (%zu of %zu "
                     "rows, torn %d)", back.n, st.jobs, torn);
    }
    unlink(out);
}

int fuzz_csv_file(const char *path)
{
    rows with, any;
    int torn, rc = read_csv(path, LS_RESULTS_COLUMNS, &with, &torn);

    read_csv(path, NULL, &any, &torn);
    merge(path, rc, &with);
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
