/* rng.h - small deterministic random number generator (xoshiro256**,
 * seeded through splitmix64).  Same seed => same stream on every machine,
 * which is what makes a job's shuffles, initial weights and dropout masks
 * reproducible.  A plain value type: copy it, no cleanup. */
#ifndef LSTMSWEEP_RNG_H
#define LSTMSWEEP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ls_rng {
    uint64_t s[4];
} ls_rng;

/* Seed from one 64-bit value and a stream number, so independent streams
 * (shuffle, init, dropout) of one job do not overlap. */
void ls_rng_seed(ls_rng *r, uint64_t seed, uint64_t stream);
uint64_t ls_rng_next(ls_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t ls_rng_below(ls_rng *r, uint64_t n);
/* Uniform float in [0, 1) with 24 random bits. */
float ls_rng_float(ls_rng *r);
/* Standard normal (Box-Muller from two uniforms). */
double ls_rng_normal(ls_rng *r);
/* Fisher-Yates shuffle of a uint32 array. */
void ls_rng_shuffle_u32(ls_rng *r, uint32_t *a, size_t n);

#endif
