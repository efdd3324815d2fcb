/* error.c - see include/lstmsweep/error.h. */
#include "lstmsweep/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ls_err_set(ls_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int ls_err_prefix(ls_err *err, const char *fmt, ...)
{
    char prefix[256], old[sizeof err->msg];
    va_list ap;

    if (!err)
        return LS_EINVAL;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    return err->code;
}

const char *ls_strerror(int code)
{
    switch (code) {
    case LS_OK: return "success";
    case LS_EINVAL: return "invalid argument";
    case LS_ENOMEM: return "out of memory";
    case LS_EIO: return "I/O error";
    case LS_EFORMAT: return "malformed file";
    case LS_EDNNL: return "oneDNN error";
    case LS_EDIVERGED: return "diverged";
    case LS_ECONFLICT: return "conflict";
    default: return "unknown error";
    }
}
