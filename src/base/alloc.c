/* alloc.c - see include/lstmsweep/alloc.h.
 *
 * Each block is a malloc'd region holding, in order: padding, a header
 * (the size asked for and the offset of the user block from the start of
 * the region), the 64-byte aligned user block.  malloc rather than
 * posix_memalign so that ls_realloc can use realloc: glibc grows a large
 * block with mremap, without a copy and without holding both sizes. */
#include "lstmsweep/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64

typedef struct header {
    size_t bytes;  /* asked for */
    size_t offset; /* from the region's start to the user block */
} header;

/* A region holds the user block rounded up to whole cache lines (so
 * vector loops may touch whole lines at the end) plus SLACK: the header
 * and the worst-case padding before it. */
#define SLACK (sizeof(header) + ALIGN)

static atomic_long fail_countdown; /* 0: disarmed */
static atomic_size_t live_bytes, peak_bytes;
static atomic_long calls;         /* ls_alloc and ls_realloc calls so far */

void ls_alloc_fail_at(long n)
{
    atomic_store(&fail_countdown, n);
}

long ls_alloc_calls(void)
{
    return atomic_load(&calls);
}

static int injected_failure(void)
{
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return atomic_load_explicit(&fail_countdown, memory_order_relaxed) > 0 &&
           atomic_fetch_sub(&fail_countdown, 1) == 1;
}

static size_t rounded(size_t bytes)
{
    return ((bytes ? bytes : 1) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static void count(size_t added, size_t removed)
{
    if (removed > added) {
        atomic_fetch_sub(&live_bytes, removed - added);
        return;
    }
    size_t now = atomic_fetch_add(&live_bytes, added - removed) + (added - removed);
    size_t peak = atomic_load(&peak_bytes);
    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now))
        ;
}

/* Offset of the user block in `region`: aligned, with room for its header. */
static size_t offset_in(const unsigned char *region)
{
    uintptr_t u = ((uintptr_t)region + sizeof(header) + ALIGN - 1) &
                  ~(uintptr_t)(ALIGN - 1);
    return (size_t)(u - (uintptr_t)region);
}

static unsigned char *place(unsigned char *region, size_t offset, size_t bytes)
{
    header *h = (header *)(region + offset) - 1;
    h->bytes = bytes;
    h->offset = offset;
    return region + offset;
}

static header *header_of(void *p)
{
    return (header *)p - 1;
}

void *ls_alloc(size_t bytes)
{
    unsigned char *region;

    if (injected_failure() || bytes > SIZE_MAX - 2 * SLACK ||
        !(region = malloc(rounded(bytes) + SLACK)))
        return NULL;
    unsigned char *p = place(region, offset_in(region), bytes);
    memset(p, 0, rounded(bytes));
    count(bytes, 0);
    return p;
}

void *ls_realloc(void *p, size_t bytes)
{
    if (!p)
        return ls_alloc(bytes);
    header old = *header_of(p);
    unsigned char *region;

    if (injected_failure() || bytes > SIZE_MAX - 2 * SLACK ||
        !(region = realloc((unsigned char *)p - old.offset, rounded(bytes) + SLACK)))
        return NULL;
    /* The alignment padding may differ in the new region: move the data
     * (it starts at the old offset) before writing the new header. */
    size_t keep = old.bytes < bytes ? old.bytes : bytes, off = offset_in(region);
    memmove(region + off, region + old.offset, keep);
    unsigned char *q = place(region, off, bytes);
    memset(q + keep, 0, rounded(bytes) - keep);
    count(bytes, old.bytes);
    return q;
}

void *ls_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return ls_alloc(n * size);
}

char *ls_vstrprintf(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    char *s = n < 0 ? NULL : ls_alloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *ls_strprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ls_vstrprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *ls_strdup(const char *s)
{
    size_t n = s ? strlen(s) + 1 : 0;
    char *d = s ? ls_alloc(n) : NULL;
    if (d)
        memcpy(d, s, n);
    return d;
}

void ls_free(void *p)
{
    if (!p)
        return;
    header h = *header_of(p);
    count(0, h.bytes);
    free((unsigned char *)p - h.offset);
}

size_t ls_alloc_live_bytes(void)
{
    return atomic_load(&live_bytes);
}

size_t ls_alloc_peak_bytes(void)
{
    return atomic_load(&peak_bytes);
}

void ls_alloc_peak_reset(void)
{
    atomic_store(&peak_bytes, atomic_load(&live_bytes));
}
