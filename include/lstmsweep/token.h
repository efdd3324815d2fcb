/* token.h - the server's bearer token: 32 random bytes (getrandom) as 64
 * hex digits, made at the first start and kept in STATE/token, mode 0600,
 * so that only the server's user can read it and hand it to clients.
 *
 * A token file that others may read (any group or other permission bit)
 * is refused (LS_EINVAL) rather than trusted; one of the wrong length or
 * charset is LS_EFORMAT.  The file is created with O_EXCL, written whole
 * and fsync'ed, so two servers starting at once cannot end up with two
 * tokens.  Threading: none (call it once at start-up).
 */
#ifndef LSTMSWEEP_TOKEN_H
#define LSTMSWEEP_TOKEN_H

#include <stddef.h>

#include "lstmsweep/error.h"

#define LS_TOKEN_LEN 65   /* 64 hex digits + NUL */

/* Read STATE/token, creating it first if missing.  *created (may be NULL)
 * says whether it was made now. */
int ls_token_load(const char *state_dir, char token[LS_TOKEN_LEN], int *created,
                  ls_err *err);

/* Read STATE/token without making one (a client's side): LS_EIO if there
 * is none, the same refusals as ls_token_load otherwise. */
int ls_token_read(const char *state_dir, char token[LS_TOKEN_LEN], ls_err *err);

/* 1 if a and b (NUL-terminated) are equal, compared in time that depends
 * only on their lengths, not on where they differ. */
int ls_token_equal(const char *a, const char *b);

#endif
