/* rng.c - xoshiro256** (Blackman & Vigna), seeded with splitmix64. */
#include "lstmsweep/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ls_rng_seed(ls_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t ls_rng_next(ls_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ls_rng_below(ls_rng *r, uint64_t n)
{
    /* Rejection sampling: discard the top partial block of 2^64 values. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = ls_rng_next(r);
    while (x >= limit);
    return x % n;
}

float ls_rng_float(ls_rng *r)
{
    return (float)(ls_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

void ls_rng_shuffle_u32(ls_rng *r, uint32_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ls_rng_below(r, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

double ls_rng_normal(ls_rng *r)
{
    /* 53-bit uniforms; u1 in (0, 1] so the log is finite. */
    double u1 = ((double)(ls_rng_next(r) >> 11) + 1.0) * 0x1.0p-53;
    double u2 = (double)(ls_rng_next(r) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
