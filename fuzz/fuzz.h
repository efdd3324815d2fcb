/* fuzz.h - shared by the libFuzzer targets fuzz/fuzz_*.c and by
 * tests/check_fuzz_regress.c, which replays saved inputs through the very
 * same functions.
 *
 * Each target file defines
 *   int fuzz_<target>_file(const char *path)
 * which runs the target's library entry points on one input file and
 * returns 0 if one of them accepted it, else the (negative) LS_E* code of
 * the first; memory errors are the sanitizers' to find, and a broken
 * documented contract (a failure without its code or message, a message
 * that does not name the file, a success with nonsense in it) is an
 * abort().  Unless FUZZ_NO_MAIN is defined, the file also defines
 * LLVMFuzzerTestOneInput, which writes the input to a per-process
 * temporary file (fuzz_write) and calls the function above.
 *
 * Temporary files live in one directory per process, $TMPDIR/lsfuzz.XXXXXX
 * (TMPDIR defaults to /tmp), made on first use and removed at exit.
 */
#ifndef LSTMSWEEP_FUZZ_H
#define LSTMSWEEP_FUZZ_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/error.h"

int fuzz_sweep_file(const char *path);
int fuzz_idx_file(const char *path);
int fuzz_csv_file(const char *path);
int fuzz_model_file(const char *path);

/* A harness failure (not a finding in the library): say so and stop. */
#define FUZZ_DIE(...)                                   \
    do {                                                \
        fprintf(stderr, "fuzz: " __VA_ARGS__);          \
        fputc('\n', stderr);                            \
        abort();                                        \
    } while (0)

static char fuzz_dir_path[4096];

static inline int fuzz_rm_entry(const char *path, const struct stat *st, int flag,
                         struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static inline void fuzz_rm_dir(void)
{
    if (fuzz_dir_path[0])
        nftw(fuzz_dir_path, fuzz_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* "$TMPDIR/lsfuzz.XXXXXX/name" in a static buffer (one per call site is
 * enough: callers copy it or use it before the next call). */
static inline const char *fuzz_path(const char *name, char *buf, size_t len)
{
    if (!fuzz_dir_path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/lsfuzz.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fuzz_dir_path))
            FUZZ_DIE("cannot create %s", fuzz_dir_path);
        atexit(fuzz_rm_dir);
    }
    if ((size_t)snprintf(buf, len, "%s/%s", fuzz_dir_path, name) >= len)
        FUZZ_DIE("path too long");
    return buf;
}

/* Write data[0..size) to the temporary file `name`; returns its path. */
static inline const char *fuzz_write(const char *name, const uint8_t *data,
                                     size_t size, char *buf, size_t len)
{
    const char *path = fuzz_path(name, buf, len);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        FUZZ_DIE("cannot create %s", path);
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n <= 0)
            FUZZ_DIE("cannot write %s", path);
        data += n;
        size -= (size_t)n;
    }
    if (close(fd) != 0)
        FUZZ_DIE("cannot write %s", path);
    return path;
}

/* The error convention of error.h: 0, or a known negative code that is
 * also in err->code, with a message; loaders name the file in it
 * (named = the path, or NULL when the message need not name it). */
static inline void fuzz_check_rc(const char *what, int rc, const ls_err *err,
                                 const char *named)
{
    if (rc == 0)
        return;
    if (rc < LS_EDIVERGED || rc > 0 || err->code != rc || !err->msg[0])
        FUZZ_DIE("%s: returned %d, err = {%d, \"%s\"}", what, rc, err->code,
                 err->msg);
    if (named && rc != LS_ENOMEM && !strstr(err->msg, named))
        FUZZ_DIE("%s: message does not name the file: \"%s\"", what, err->msg);
}

#endif
