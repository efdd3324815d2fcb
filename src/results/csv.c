/* csv.c - the CSV format both ways: quoting and the crash-safe append,
 * then the reader; see include/lstmsweep/csv.h. */
#include "lstmsweep/csv.h"
#include "lstmsweep/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lstmsweep/sysinfo.h"

/* ---- writing ---------------------------------------------------------- */

int ls_csv_quote(const char *field, char *out, size_t cap)
{
    size_t n = 0;
    int quote = strpbrk(field, ",\"\n\r") != NULL;

    if (quote && n < cap)
        out[n++] = '"';
    for (const char *p = field; *p; p++) {
        if (n + 2 >= cap)
            return -1;
        if (*p == '"')
            out[n++] = '"';
        out[n++] = *p;
    }
    if (quote && n < cap)
        out[n++] = '"';
    if (n >= cap)
        return -1;
    out[n] = '\0';
    return (int)n;
}

/* Does the file on fd start with exactly `header` + '\n'? */
static int header_matches(int fd, const char *header)
{
    size_t len = strlen(header);
    char *buf = ls_alloc(len + 1);
    int ok = buf && pread(fd, buf, len + 1, 0) == (ssize_t)(len + 1) &&
             !memcmp(buf, header, len) && buf[len] == '\n';
    ls_free(buf);
    return ok;
}

/* Write all of buf at the end of fd in one write(2); on a short write
 * truncate back to `size` so the file keeps whole lines only. */
static int write_whole(int fd, const char *buf, size_t len, off_t size,
                       const char *path, ls_err *err)
{
    ssize_t w = write(fd, buf, len);
    if (w == (ssize_t)len)
        return 0;
    int e = w < 0 ? errno : ENOSPC;
    if (ftruncate(fd, size) != 0) {
        /* Nothing more we can do; the reader skips a torn last line. */
    }
    return ls_err_set(err, LS_EIO, "%s: cannot append: %s", path, strerror(e));
}

/* mkdir -p of the directory part of path (results/x.csv -> results/);
 * failures show at the open() that follows. */
static void make_parents(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        ls_sys_mkdirs(dir);
    }
}

int ls_csv_append_line(const char *path, const char *header, const char *line,
                       int sync, ls_err *err)
{
    struct stat st;
    char last;
    int rc = 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0 && errno == ENOENT) {
        make_parents(path);
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    }

    if (fd < 0)
        return ls_err_set(err, LS_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
        rc = ls_err_set(err, LS_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (st.st_size == 0) {
        size_t hl = strlen(header);
        char *h = ls_alloc(hl + 2);
        if (!h) {
            rc = ls_err_set(err, LS_ENOMEM, "%s: out of memory", path);
            goto out;
        }
        memcpy(h, header, hl);
        memcpy(h + hl, "\n", 2);
        rc = write_whole(fd, h, hl + 1, 0, path, err);
        ls_free(h);
        if (rc)
            goto out;
        st.st_size = (off_t)hl + 1;
    } else {
        int rfd = open(path, O_RDONLY | O_CLOEXEC);
        int ok = rfd >= 0 && header_matches(rfd, header);
        /* A line torn by an earlier crash must not swallow our row. */
        int torn = rfd >= 0 && pread(rfd, &last, 1, st.st_size - 1) == 1 &&
                   last != '\n';
        if (rfd >= 0)
            close(rfd);
        if (!ok) {
            rc = ls_err_set(err, LS_EFORMAT,
                            "%s: exists with a different header (not a file "
                            "of this format or version); use another file", path);
            goto out;
        }
        if (torn && (rc = write_whole(fd, "\n", 1, st.st_size, path, err)))
            goto out;
        st.st_size += torn;
    }
    if ((rc = write_whole(fd, line, strlen(line), st.st_size, path, err)))
        goto out;
    if (sync && fsync(fd) != 0)
        rc = ls_err_set(err, LS_EIO, "%s: fsync: %s", path, strerror(errno));
out:
    close(fd); /* also releases the lock */
    return rc;
}

/* ---- reading ---------------------------------------------------------- */

void ls_csv_next_field(const char **p, char *out)
{
    const char *s = *p;
    int quoted = *s == '"';

    s += quoted;
    while (*s && (quoted || *s != ',')) {
        if (quoted && *s == '"') {
            if (s[1] != '"') {
                quoted = 0;
                s++;
                continue;
            }
            s++;
        }
        *out++ = *s++;
    }
    *out = '\0';
    *p = *s == ',' ? s + 1 : s;
}

#define MAX_FIELDS LS_CSV_MAX_FIELDS

int ls_csv_split(char *rec, char **fields)
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
            char *nr = ls_realloc(rec, rcap = 2 * (rlen + (size_t)n + 1));
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
            want = ls_csv_split(rec, fields);
            rlen = 0;
            continue;
        }
        int nf = ls_csv_split(rec, fields);
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
    ls_free(rec);
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

int ls_csv_is_number(const char *s, int integer)
{
    char *end;
    if (integer) {
        const char *p = s + (*s == '-');
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
        return *p == '\0';
    }
    strtod(s, &end);
    return end != s && *end == '\0' && !isspace((unsigned char)*s);
}
