/* gnuplot.c - the charts' files (data, gnuplot scripts) and the one gnuplot
 * run that draws them; see report_int.h. */
#include "report_int.h"
#include "lstmsweep/alloc.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lstmsweep/sysinfo.h"

int rep_make_dirs(const char *path, ls_err *err)
{
    struct stat st;
    if (ls_sys_mkdirs(path) != 0)
        return ls_err_set(err, LS_EIO, "%s: cannot create: %s", path, strerror(errno));
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return ls_err_set(err, LS_EIO, "%s: not a directory", path);
    return 0;
}

FILE *rep_open_out(const plotter *pl, const char *stem, const char *ext, ls_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", pl->o->plots_dir, stem, ext);
    FILE *f = fopen(path, "w");
    if (!f)
        ls_err_set(err, LS_EIO, "%s: cannot create: %s", path, strerror(errno));
    return f;
}

int rep_close_out(FILE *f, const plotter *pl, const char *stem, const char *ext,
                  ls_err *err)
{
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad)
        return ls_err_set(err, LS_EIO, "%s/%s%s: cannot write", pl->o->plots_dir, stem, ext);
    return 0;
}

void rep_gp_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '\n') {
            fputs("\\n", f);
            continue;
        }
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Write DIR/<stem>.gp: the same body once for PNG, once for SVG. */
int rep_write_script(plotter *pl, const char *stem, const char *body, int w, int h,
                     ls_err *err)
{
    FILE *f = rep_open_out(pl, stem, ".gp", err);
    int rc;
    if (!f)
        return LS_EIO;
    fprintf(f, "# %s.gp - written by `lstmsweep report`; the data is in %s.dat.\n"
               "# Redraw with: gnuplot %s.gp\nreset\n", stem, stem, stem);
    fprintf(f, "set terminal pngcairo size %d,%d noenhanced font \"DejaVu Sans,11\"\n"
               "set output \"%s.png\"\n%s", w, h, stem, body);
    /* reset: the PNG's last panel may leave a log axis that the SVG's
     * first panel cannot take a [0:...] range on */
    fprintf(f, "reset\nset terminal svg size %d,%d dynamic noenhanced font \"DejaVu Sans,11\" "
               "background rgb \"white\"\nset output \"%s.svg\"\n%sunset output\n",
            w, h, stem, body);
    if ((rc = rep_close_out(f, pl, stem, ".gp", err)))
        return rc;
    if (pl->nstems == pl->cap) {
        size_t cap = pl->cap ? 2 * pl->cap : 16;
        char **s = ls_realloc(pl->stems, cap * sizeof *s);
        if (!s)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        pl->stems = s;
        pl->cap = cap;
    }
    if (!(pl->stems[pl->nstems] = ls_strdup(stem)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    pl->nstems++;
    return 0;
}

/* ---- running gnuplot ---- */

int rep_find_program(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        char real[PATH_MAX];
        int ok = realpath(name, real) && access(real, X_OK) == 0;
        if (ok)
            snprintf(out, len, "%s", real);
        return ok ? 0 : -1;
    }
    const char *path = getenv("PATH");
    for (const char *p = path && *path ? path : "/usr/bin:/bin"; p;) {
        const char *colon = strchr(p, ':');
        int n = colon ? (int)(colon - p) : (int)strlen(p);
        snprintf(out, len, "%.*s/%s", n, n ? p : ".", name);
        if (access(out, X_OK) == 0)
            return 0;
        p = colon ? colon + 1 : NULL;
    }
    return -1;
}

/* First line of DIR/gnuplot.log (gnuplot's own error message). */
static void log_line(const char *log, char *buf, size_t len)
{
    FILE *f = fopen(log, "r");
    buf[0] = '\0';
    while (f && fgets(buf, (int)len, f) && strspn(buf, " \t\n^") == strlen(buf))
        ;
    buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
}

int rep_run_gnuplot(plotter *pl, const char *prog, ls_err *err)
{
    const char *dir = pl->o->plots_dir;
    char **argv = ls_calloc(pl->nstems + 2, sizeof *argv), log[4096], line[256];
    int status = 0, rc = 0;
    struct stat st;
    pid_t pid;

    if (!argv)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    argv[0] = (char *)prog;
    for (size_t i = 0; i < pl->nstems && !rc; i++)
        if (!(argv[i + 1] = ls_strprintf("%s.gp", pl->stems[i])))
            rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    if (rc || (pid = fork()) < 0) {
        rc = rc ? rc : ls_err_set(err, LS_EIO, "cannot start gnuplot: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        int fd = chdir(dir) == 0 ? open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(in, 0) < 0)
            _exit(126);
        execv(prog, argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        log_line(log, line, sizeof line);
        rc = ls_err_set(err, LS_EIO, "gnuplot failed (%s %d): %s (its output is in %s)",
                        WIFEXITED(status) ? "exit status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                        *line ? line : "no message", log);
        goto out;
    }
    for (size_t i = 0; i < pl->nstems && !rc; i++)
        for (int k = 0; k < 2 && !rc; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.%s", dir, pl->stems[i], k ? "svg" : "png");
            if (stat(path, &st) != 0 || st.st_size == 0)
                rc = ls_err_set(err, LS_EIO, "gnuplot wrote no %s (see %s)", path, log);
        }
    if (!rc && stat(log, &st) == 0 && st.st_size == 0)
        unlink(log);
out:
    for (size_t i = 1; i <= pl->nstems; i++)
        ls_free(argv[i]);
    ls_free(argv);
    return rc;
}
