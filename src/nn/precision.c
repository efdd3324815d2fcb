/* precision.c - see include/lstmsweep/precision.h. */
#include "lstmsweep/precision.h"

#include <string.h>

#include "lstmsweep/error.h"

static const char *const names[LS_NPRECS] = {
    [LS_PREC_F32] = "f32", [LS_PREC_BF16] = "bf16", [LS_PREC_AUTO] = "auto"};

const char *ls_precision_name(ls_precision p)
{
    return (unsigned)p < LS_NPRECS ? names[p] : "?";
}

int ls_precision_parse(const char *name, ls_precision *out)
{
    for (int p = 0; p < LS_NPRECS; p++)
        if (!strcmp(name, names[p])) {
            *out = (ls_precision)p;
            return 0;
        }
    return LS_EINVAL;
}
