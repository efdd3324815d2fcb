/* alloc.h - the allocator of every buffer the library allocates.
 *
 * Buffers are 64-byte aligned (a cache line, and what oneDNN prefers for
 * f32 data) and zero-filled.  Going through one allocator gives two things:
 *  - fault injection: a test hook makes the Nth allocation from now on
 *    fail, so tests can prove that an allocation failure inside a job ends
 *    that job with an error and nothing else (SQLite-style);
 *  - a live-bytes counter: the bytes currently allocated, so tests compare
 *    the scheduler's memory estimates with what was really allocated.
 * The counters count the bytes callers asked for, not the allocator's own
 * overhead (a 16-byte header and the round-up to 64 bytes per block).
 * Memory oneDNN allocates itself (primitive descriptors, memory objects)
 * and memory of other libraries (zlib, hwloc, SQLite, jansson, libc stdio:
 * getline's and open_memstream's buffers) is not counted; nor the HTTP
 * response bodies, which libmicrohttpd frees with free().
 *
 * Ownership: every block is freed with ls_free (never free()), and every
 * ls_free'd block came from ls_alloc, ls_realloc or ls_strdup.
 * Threading: all functions are thread-safe; the counters and the fault
 * hook are process-wide atomics.
 */
#ifndef LSTMSWEEP_ALLOC_H
#define LSTMSWEEP_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Zero-filled, 64-byte aligned block of `bytes` (0 gives a valid minimal
 * block).  Returns NULL on failure.  Free with ls_free (NULL is a no-op). */
void *ls_alloc(size_t bytes);
void ls_free(void *p);

/* Resize a block from ls_alloc (or NULL: then ls_alloc) to `bytes`,
 * keeping its first min(old, new) bytes; bytes past the old size are zero.
 * Still 64-byte aligned.  On failure returns NULL and p stays valid. */
void *ls_realloc(void *p, size_t bytes);

/* n blocks of size bytes (zero-filled like every block); NULL also when
 * n * size overflows. */
void *ls_calloc(size_t n, size_t size);

/* Copy of a NUL-terminated string, or NULL (out of memory, or s NULL). */
char *ls_strdup(const char *s);

/* A printf-formatted string in a new block, or NULL. */
char *ls_strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *ls_vstrprintf(const char *fmt, va_list ap);

/* Bytes currently allocated (asked for and not yet freed). */
size_t ls_alloc_live_bytes(void);

/* The highest ls_alloc_live_bytes() since the last reset, and the reset
 * (to the current live bytes): a job's peak memory is the peak over its run
 * minus the live bytes at its start. */
size_t ls_alloc_peak_bytes(void);
void ls_alloc_peak_reset(void);

/* Calls to ls_alloc and ls_realloc so far (ls_strdup, ls_calloc included):
 * tests count a step's allocations to aim ls_alloc_fail_at past them. */
long ls_alloc_calls(void);

/* Test hook: the n-th call to ls_alloc() or ls_realloc() (ls_strdup
 * included) from now on (n >= 1) returns NULL, once; n = 0 disarms. */
void ls_alloc_fail_at(long n);

/* A block of memory, for asking where its pages are (topo.h:
 * ls_topo_area_nodes); the modules that own large buffers list them. */
typedef struct ls_area {
    const void *addr;
    size_t bytes;
} ls_area;

#endif
