/* error.h - the one error convention of lstmsweep.
 *
 * Every library function that can fail returns 0 on success or a negative
 * LS_E* code, and, when given a non-NULL `ls_err *`, writes a one-line
 * human-readable message into it (file names, line numbers, oneDNN status
 * text...).  Library code never prints-and-dies and never calls exit(): a
 * failing job must not take a whole sweep down.  The caller decides what to
 * show.  An `ls_err` is a plain value owned by the caller; it holds no heap
 * memory and needs no cleanup.
 */
#ifndef LSTMSWEEP_ERROR_H
#define LSTMSWEEP_ERROR_H

#include <stddef.h>

enum {
    LS_OK = 0,
    LS_EINVAL = -1,   /* bad argument or configuration value */
    LS_ENOMEM = -2,   /* allocation failed */
    LS_EIO = -3,      /* file could not be opened, read or written */
    LS_EFORMAT = -4,  /* file content is malformed, truncated or mismatched */
    LS_EDNNL = -5,    /* a oneDNN call failed */
    LS_EDIVERGED = -6, /* training produced a NaN or infinite loss */
    LS_ECONFLICT = -7  /* state changed meanwhile (a stale attempt, a job
                          not in the state the call needs) */
};

typedef struct ls_err {
    int code;       /* last LS_E* code set, 0 if none */
    char msg[512];  /* NUL-terminated message, "" if none */
} ls_err;

/* Record `code` and a printf-style message in *err (if err != NULL) and
 * return `code`, so call sites read `return ls_err_set(err, LS_EIO, ...);`. */
int ls_err_set(ls_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in *err with printf-style context, e.g. the
 * file name, keeping the code.  Returns err->code (or LS_EINVAL if NULL). */
int ls_err_prefix(ls_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Short static name of an LS_E* code ("invalid argument", ...). */
const char *ls_strerror(int code);

#endif
