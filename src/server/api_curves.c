/* api_curves.c - the API's view of the curve files its sweeps write
 * (STATE/sweeps/NAME/curves.csv): one job's points through the curves
 * module's reader (curves.h), and the whole file for curves.csv.  A
 * missing file is no points, not an error (none of the sweep's jobs has
 * started yet). */
#include "api_internal.h"
#include "lstmsweep/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/curves.h"

typedef struct points {
    const char *job_id;
    ls_curve_point *p;
    size_t n, cap;
} points;

static int on_row(void *ctx, const ls_curve_row *row, ls_err *err)
{
    points *pt = ctx;

    if (strcmp(row->job_id, pt->job_id))
        return 0;
    if (pt->n == pt->cap) {
        size_t cap = pt->cap ? 2 * pt->cap : 64;
        void *p = ls_realloc(pt->p, cap * sizeof *pt->p);
        if (!p)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        pt->p = p;
        pt->cap = cap;
    }
    pt->p[pt->n++] = (ls_curve_point){
        .epoch = row->epoch, .train_loss = row->train_loss, .train_error = row->train_error,
        .val_error = isnan(row->val_error) ? -1 : row->val_error,
        .test_error = isnan(row->test_error) ? -1 : row->test_error,
        .elapsed_s = row->elapsed_s};
    return 0;
}

int ls_curves_of_job(const char *path, const char *job_id, ls_curve_point **pts, size_t *n,
                     ls_err *err)
{
    points pt = {.job_id = job_id};
    int rc = 0;

    *pts = NULL;
    *n = 0;
    if (access(path, F_OK) == 0 || errno != ENOENT)
        rc = ls_curve_read(path, on_row, &pt, NULL, err);
    if (rc) {
        ls_free(pt.p);
        return rc;
    }
    *pts = pt.p;
    *n = pt.n;
    return 0;
}

/* Copy f's whole lines after a header that must be `header` (a torn last
 * line, still being appended, is left out). */
static int copy_lines(const char *path, const char *header, FILE *f, FILE *out, ls_err *err)
{
    size_t hlen = strlen(header);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0, first = 1;

    while ((len = getline(&line, &cap, f)) > 0 && line[len - 1] == '\n') {
        if (first && ((size_t)len != hlen + 1 || strncmp(line, header, hlen))) {
            rc = ls_err_set(err, LS_EFORMAT, "%s:1: unexpected header", path);
            break;
        }
        if (!first)
            fwrite(line, 1, (size_t)len, out);
        first = 0;
    }
    if (!rc && ferror(f))
        rc = ls_err_set(err, LS_EIO, "%s: %s", path, strerror(errno));
    free(line);
    return rc;
}

int ls_csv_file_copy(const char *path, const char *header, FILE *out, ls_err *err)
{
    FILE *f = fopen(path, "r");
    int rc = 0;

    fprintf(out, "%s\n", header);
    if (!f)
        return errno == ENOENT ? 0 : ls_err_set(err, LS_EIO, "%s: %s", path, strerror(errno));
    rc = copy_lines(path, header, f, out, err);
    fclose(f);
    if (!rc && ferror(out))
        rc = ls_err_set(err, LS_EIO, "%s: write error", path);
    return rc;
}
