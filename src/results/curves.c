/* curves.c - the per-epoch curves CSV; see include/lstmsweep/curves.h. */
#include "lstmsweep/curves.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/csv.h"
#include "lstmsweep/results.h"

int ls_curve_append(const char *path, const char *job_id, int epoch,
                    double train_loss, double train_error, double val_error,
                    double test_error, double elapsed_s, ls_err *err)
{
    char buf[256];
    char ve[32] = "", te[32] = "";

    if (val_error >= 0)
        snprintf(ve, sizeof ve, "%.6g", val_error);
    if (test_error >= 0)
        snprintf(te, sizeof te, "%.6g", test_error);
    snprintf(buf, sizeof buf, "%s,%d,%.6g,%.6g,%s,%s,%.3f\n", job_id, epoch,
             train_loss, train_error, ve, te, elapsed_s);
    return ls_csv_append_line(path, LS_CURVE_COLUMNS, buf, 0, err);
}

int ls_curve_check(const char *path, long line, char **f, ls_err *err)
{
    static const char *const names[] = {"epoch", "train_loss", "train_error",
                                        "val_error", "test_error", "elapsed_s"};
    for (int i = 1; i < 7; i++)
        if ((*f[i] || (i != 4 && i != 5)) && !ls_csv_is_number(f[i], i == 1))
            return ls_err_set(err, LS_EFORMAT, "%s:%ld: %s: '%.40s' is not %s", path, line,
                              names[i - 1], f[i], i == 1 ? "an integer" : "a number");
    return 0;
}

typedef struct reader {
    ls_curve_row_fn fn;
    void *ctx;
} reader;

static int read_row(void *ctx, const char *path, long line, int nf, char **f,
                    ls_err *err)
{
    const reader *rd = ctx;
    ls_curve_row row;
    int rc = ls_curve_check(path, line, f, err);

    if (rc)
        return rc;
    row.job_id = f[0];
    row.epoch = atoi(f[1]);
    row.train_loss = strtod(f[2], NULL);
    row.train_error = strtod(f[3], NULL);
    row.val_error = *f[4] ? strtod(f[4], NULL) : NAN;
    row.test_error = *f[5] ? strtod(f[5], NULL) : NAN;
    row.elapsed_s = strtod(f[6], NULL);
    return rd->fn(rd->ctx, &row, err);
}

int ls_curve_read(const char *path, ls_curve_row_fn fn, void *ctx, int *torn,
                  ls_err *err)
{
    reader rd = {fn, ctx};
    return ls_csv_read(path, LS_CURVE_COLUMNS, read_row, &rd, torn, err);
}

void ls_curve_path(const char *results, char *out, size_t len)
{
    size_t n = strlen(results);
    if (n > 4 && !strcmp(results + n - 4, ".csv"))
        snprintf(out, len, "%.*s-curves.csv", (int)(n - 4), results);
    else
        snprintf(out, len, "%s-curves.csv", results);
}
