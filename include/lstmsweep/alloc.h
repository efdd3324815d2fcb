/* alloc.h - the allocator every module uses for its large buffers.
 *
 * Buffers are 64-byte aligned (a cache line, and what oneDNN prefers for
 * f32 data) and zero-filled.  A test hook makes the Nth allocation from now
 * on fail, so tests can prove that an allocation failure inside a job ends
 * that job with an error and nothing else (SQLite-style fault injection).
 */
#ifndef LSTMSWEEP_ALLOC_H
#define LSTMSWEEP_ALLOC_H

#include <stddef.h>

/* Zero-filled, 64-byte aligned block of `bytes` (0 gives a valid minimal
 * block).  Returns NULL on failure.  Free with ls_free (NULL is a no-op). */
void *ls_alloc(size_t bytes);
void ls_free(void *p);

/* Test hook: the n-th call to ls_alloc() from now on (n >= 1) returns NULL,
 * once; n = 0 disarms.  Counting is process-wide and thread-safe. */
void ls_alloc_fail_at(long n);

#endif
