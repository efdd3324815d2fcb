/* bytes.h (internal) - little-endian encoding helpers shared by the model
 * and checkpoint file formats, so files move between machines. */
#ifndef LSTMSWEEP_BYTES_H
#define LSTMSWEEP_BYTES_H

#include <stdint.h>
#include <string.h>

static inline void ls_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void ls_put64(unsigned char *p, uint64_t v)
{
    ls_put32(p, (uint32_t)v);
    ls_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t ls_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t ls_get64(const unsigned char *p)
{
    return (uint64_t)ls_get32(p) | (uint64_t)ls_get32(p + 4) << 32;
}

static inline uint32_t ls_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float ls_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint64_t ls_d2u(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static inline double ls_u2d(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

#endif
