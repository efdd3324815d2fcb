/* mono.h - the monotonic clock as the server's waits use it: deadlines
 * that do not move when the wall clock jumps.  Internal to src/server. */
#ifndef LSTMSWEEP_SERVER_MONO_H
#define LSTMSWEEP_SERVER_MONO_H

#include <pthread.h>
#include <time.h>

static inline double ls_mono_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* The monotonic time ms milliseconds from now, for pthread_cond_timedwait
 * on a condition variable made by ls_mono_cond_init. */
static inline struct timespec ls_mono_after(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static inline void ls_mono_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

#endif
