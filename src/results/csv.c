/* csv.c - see include/lstmsweep/csv.h. */
#include "lstmsweep/csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 256

/* Split one record in place.  rec holds the record without its final
 * newline; quoted fields are unquoted in place.  Returns the number of
 * fields, or -1 for a malformed quote. */
static int split(char *rec, char **fields)
{
    int n = 0;
    char *r = rec, *w;

    for (;;) {
        if (n == MAX_FIELDS)
            return -1;
        fields[n++] = w = r;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0')
                    return -1;            /* unterminated quote */
                if (*r == '"' && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *w++ = *r++;
                }
            }
            if (*r != ',' && *r != '\0')
                return -1;                /* text after closing quote */
        } else {
            while (*r && *r != ',') {
                if (*r == '"')
                    return -1;            /* quote inside unquoted field */
                *w++ = *r++;
            }
        }
        int more = *r == ',';
        *w = '\0';
        if (!more)
            return n;
        r++;
    }
}

/* Is the record in buf[0..len) inside an open quote? */
static int open_quote(const char *buf, size_t len)
{
    int q = 0;
    for (size_t i = 0; i < len; i++)
        q ^= buf[i] == '"';
    return q;
}

int ls_csv_read(const char *path, const char *header, ls_csv_row_fn fn,
                void *ctx, int *torn, ls_err *err)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *rec = NULL, *fields[MAX_FIELDS];
    size_t cap = 0, rlen = 0, rcap = 0;
    long lineno = 0, start = 0;
    int want = -1, rc = 0;

    if (torn)
        *torn = 0;
    if (!f)
        return ls_err_set(err, LS_EIO, "%s: cannot open: %s", path, strerror(errno));
    for (;;) {
        ssize_t n = getline(&line, &cap, f);
        if (n < 0)
            break;
        if (rlen == 0)
            start = lineno + 1;
        lineno++;
        if (rlen + (size_t)n + 1 > rcap) {
            char *nr = realloc(rec, rcap = 2 * (rlen + (size_t)n + 1));
            if (!nr) {
                rc = ls_err_set(err, LS_ENOMEM, "%s: out of memory", path);
                goto out;
            }
            rec = nr;
        }
        memcpy(rec + rlen, line, (size_t)n + 1);
        rlen += (size_t)n;
        if (rec[rlen - 1] != '\n') {
            if (torn)
                *torn = 1;                /* crash-torn last line */
            break;
        }
        if (open_quote(rec, rlen))
            continue;                     /* quoted newline: read on */
        rec[--rlen] = '\0';
        if (rlen && rec[rlen - 1] == '\r')
            rec[--rlen] = '\0';
        if (start == 1 && header) {
            if (strcmp(rec, header) != 0) {
                rc = ls_err_set(err, LS_EFORMAT,
                                "%s:1: unexpected header (not a file of this "
                                "kind, or written by another version)", path);
                goto out;
            }
            want = split(rec, fields);
            rlen = 0;
            continue;
        }
        int nf = split(rec, fields);
        if (nf < 0 || (want >= 0 && nf != want)) {
            rc = nf < 0 ? ls_err_set(err, LS_EFORMAT, "%s:%ld: malformed quoting", path, start)
                        : ls_err_set(err, LS_EFORMAT, "%s:%ld: %d fields, expected %d",
                                     path, start, nf, want);
            goto out;
        }
        rlen = 0;
        if ((rc = fn(ctx, path, start, nf, fields, err)))
            goto out;
    }
    if (ferror(f))
        rc = ls_err_set(err, LS_EIO, "%s: read error", path);
    else if (rlen > 0 && torn)
        *torn = 1;                        /* ended inside an open quote */
out:
    free(line);
    free(rec);
    fclose(f);
    return rc;
}

int ls_csv_column(const char *header, const char *name)
{
    size_t len = strlen(name);
    int i = 0;
    for (const char *p = header; *p; i++) {
        const char *end = strchr(p, ',');
        size_t flen = end ? (size_t)(end - p) : strlen(p);
        if (flen == len && !strncmp(p, name, len))
            return i;
        if (!end)
            break;
        p = end + 1;
    }
    return -1;
}
