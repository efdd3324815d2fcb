/* token.c - the server's bearer token; see include/lstmsweep/token.h. */
#include "lstmsweep/token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int make_token(const char *path, char token[LS_TOKEN_LEN], ls_err *err)
{
    unsigned char raw[32];
    ssize_t got = getrandom(raw, sizeof raw, 0);
    int fd;

    if (got != (ssize_t)sizeof raw)
        return ls_err_set(err, LS_EIO, "getrandom: %s", got < 0 ? strerror(errno) : "short read");
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        return errno == EEXIST ? 1 : ls_err_set(err, LS_EIO, "%s: %s", path, strerror(errno));
    if (write(fd, token, 64) != 64 || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return ls_err_set(err, LS_EIO, "%s: %s", path, strerror(e));
    }
    close(fd);
    return 0;
}

static int read_token(const char *path, char token[LS_TOKEN_LEN], ls_err *err)
{
    char buf[LS_TOKEN_LEN + 2];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n;

    if (fd < 0)
        return ls_err_set(err, LS_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
        close(fd);
        return ls_err_set(err, LS_EINVAL, "%s: readable by others (mode %03o); "
                          "chmod 600 it or remove it to make a new one", path,
                          (unsigned)(st.st_mode & 0777));
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 64 || (n > 64 && buf[64] != '\n') || n > 65)
        return ls_err_set(err, LS_EFORMAT, "%s: not a token (64 hex digits)", path);
    buf[64] = '\0';
    if (strspn(buf, "0123456789abcdef") != 64)
        return ls_err_set(err, LS_EFORMAT, "%s: not a token (64 hex digits)", path);
    memcpy(token, buf, LS_TOKEN_LEN);
    return 0;
}

int ls_token_load(const char *state_dir, char token[LS_TOKEN_LEN], int *created,
                  ls_err *err)
{
    char path[1024];
    int rc;

    if (created)
        *created = 0;
    if ((size_t)snprintf(path, sizeof path, "%s/token", state_dir) >= sizeof path)
        return ls_err_set(err, LS_EINVAL, "%s: path too long", state_dir);
    rc = make_token(path, token, err);
    if (rc < 0)
        return rc;
    if (rc == 0 && created)
        *created = 1;
    /* read back even a fresh one: the file is the token's one source */
    return read_token(path, token, err);
}

int ls_token_read(const char *state_dir, char token[LS_TOKEN_LEN], ls_err *err)
{
    char path[1024];

    if ((size_t)snprintf(path, sizeof path, "%s/token", state_dir) >= sizeof path)
        return ls_err_set(err, LS_EINVAL, "%s: path too long", state_dir);
    return read_token(path, token, err);
}

int ls_token_equal(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;

    /* every byte of a is looked at whatever b holds */
    for (size_t i = 0; i < na; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)(i < nb ? b[i] : 0);
    return diff == 0;
}
