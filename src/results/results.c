/* results.c - crash-safe CSV appends; see include/lstmsweep/results.h. */
#include "lstmsweep/results.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lstmsweep/sysinfo.h"

static const char *status_names[] = {"ok", "diverged", "failed", "interrupted"};

const char *ls_status_name(ls_status s)
{
    return (unsigned)s < 4 ? status_names[s] : "unknown";
}

int ls_status_parse(const char *name, ls_status *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, status_names[i])) {
            *s = (ls_status)i;
            return 0;
        }
    return LS_EINVAL;
}

void ls_result_init(ls_result *r)
{
    memset(r, 0, sizeof *r);
    r->test_error = -1;
    r->numa_node = -1;
}

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
    char *buf = malloc(len + 1);
    int ok = buf && pread(fd, buf, len + 1, 0) == (ssize_t)(len + 1) &&
             !memcmp(buf, header, len) && buf[len] == '\n';
    free(buf);
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
        char *h = malloc(hl + 2);
        if (!h) {
            rc = ls_err_set(err, LS_ENOMEM, "%s: out of memory", path);
            goto out;
        }
        memcpy(h, header, hl);
        memcpy(h + hl, "\n", 2);
        rc = write_whole(fd, h, hl + 1, 0, path, err);
        free(h);
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

/* Append printf-style text to a growing line buffer. */
typedef struct line {
    char buf[8192];
    size_t n;
} line;

static void put(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(l->buf + l->n, sizeof l->buf - l->n, fmt, ap);
    va_end(ap);
    if (w > 0)
        l->n = l->n + (size_t)w < sizeof l->buf ? l->n + (size_t)w : sizeof l->buf - 1;
}

static void put_str(line *l, const char *s)
{
    char q[2048];
    if (ls_csv_quote(s, q, sizeof q) < 0)
        snprintf(q, sizeof q, "\"(field too long)\"");
    put(l, "%s,", q);
}

static void put_num(line *l, double v)
{
    if (v < 0)
        put(l, ",");
    else
        put(l, "%.6g,", v);
}

int ls_results_append(const char *path, const ls_job *job, const ls_result *r,
                      ls_err *err)
{
    line local, *lp = &local; /* each call formats into its own buffer */
    char id[LS_JOB_ID_LEN], onednn[32];

    lp->n = 0;
    ls_job_id(job, id);
    put(lp, "%s,", id);
    put_str(lp, job->sweep);
    put(lp, "%s,%d,%d,%d,%d,%.6g,%.6g,%llu,", ls_task_name(job->task),
        job->hidden, job->batch, job->layers, job->epochs, job->lr,
        job->dropout, (unsigned long long)job->seed);
    if (job->task == LS_TASK_BITCOUNT)
        put(lp, "%d,", job->bits);
    else
        put(lp, ",");
    put(lp, "%ld,", job->train_size);
    put_str(lp, job->task == LS_TASK_MNIST ? job->data : "");
    put_num(lp, job->target_error);
    put(lp, "%d,%s,%d,", job->eval_every, ls_status_name(r->status),
        r->epochs_run);
    put_num(lp, r->train_loss);
    put_num(lp, r->train_error);
    put_num(lp, r->test_error);
    put(lp, "%.3f,%.3f,%.3f,%.1f,%.3f,%d,", r->wall_s, r->train_s, r->eval_s,
        r->samples_per_s, r->gflops, r->threads);
    put_str(lp, r->cpus);
    if (r->numa_node >= 0)
        put(lp, "%d,", r->numa_node);
    else
        put(lp, ",");
    put_str(lp, r->host);
    put(lp, "%s,%s,", r->start_time, r->end_time);
    ls_sys_onednn_version(onednn, sizeof onednn);
    put(lp, "%s,%s,%s,", onednn, ls_sys_isa(), PACKAGE_VERSION);
    put_str(lp, r->message);
    lp->buf[lp->n - 1] = '\n'; /* the last field's comma ends the line */
    return ls_csv_append_line(path, LS_RESULTS_COLUMNS, lp->buf, 1, err);
}
