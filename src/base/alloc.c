/* alloc.c - see include/lstmsweep/alloc.h. */
#include "lstmsweep/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown; /* 0: disarmed */

void ls_alloc_fail_at(long n)
{
    atomic_store(&fail_countdown, n);
}

void *ls_alloc(size_t bytes)
{
    void *p = NULL;

    if (atomic_load_explicit(&fail_countdown, memory_order_relaxed) > 0 &&
        atomic_fetch_sub(&fail_countdown, 1) == 1)
        return NULL;
    if (bytes == 0)
        bytes = 64;
    /* Round up so vector loops may touch whole cache lines at the end. */
    bytes = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, bytes) != 0)
        return NULL;
    memset(p, 0, bytes);
    return p;
}

void ls_free(void *p)
{
    free(p);
}
