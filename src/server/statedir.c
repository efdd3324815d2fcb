/* statedir.c - the state directory's default place and its server.url;
 * see include/lstmsweep/statedir.h. */
#include "lstmsweep/statedir.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/durable.h"
#include "lstmsweep/http.h"

static int put(char *buf, size_t len, ls_err *err, const char *fmt, const char *a,
               const char *b)
{
    if ((size_t)snprintf(buf, len, fmt, a, b) >= len)
        return ls_err_set(err, LS_EINVAL, "%s%s: path too long", a, b);
    return 0;
}

int ls_state_dir_default(char *buf, size_t len, ls_err *err)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

    if (xdg && xdg[0] == '/')
        return put(buf, len, err, "%s%s", xdg, "/lstmsweep");
    if (!home || !*home) {
        /* a service started without HOME still has a home in passwd */
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return ls_err_set(err, LS_EINVAL, "no home directory (HOME unset) and no "
                          "XDG_STATE_HOME: give the state directory with --state DIR");
    return put(buf, len, err, "%s%s", home, "/.local/state/lstmsweep");
}

static int unix_url(const char *path, char *buf, size_t len, ls_err *err)
{
    char cwd[LS_STATE_URL_MAX];

    if (path[0] == '/')
        return put(buf, len, err, "unix:%s%s", path, "");
    /* the client runs elsewhere: a relative path would be taken from its cwd */
    if (!getcwd(cwd, sizeof cwd))
        return ls_err_set(err, LS_EIO, "getcwd: %s", strerror(errno));
    if ((size_t)snprintf(buf, len, "unix:%s/%s", cwd, path) >= len)
        return ls_err_set(err, LS_EINVAL, "unix:%s: path too long", path);
    return 0;
}

int ls_state_url_for(const char *listen, int port, char *buf, size_t len, ls_err *err)
{
    char host[256];
    const char *spec = listen ? listen : LS_HTTP_DEFAULT_LISTEN, *colon;

    if (!strncmp(spec, "unix:", 5))
        return unix_url(spec + 5, buf, len, err);
    colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof host)
        return ls_err_set(err, LS_EINVAL, "--listen %s: expected HOST:PORT or unix:PATH", spec);
    snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    /* a wildcard is where to listen, not where to connect */
    if (!strcmp(host, "0.0.0.0") || !strcmp(host, "localhost"))
        snprintf(host, sizeof host, "127.0.0.1");
    else if (!strcmp(host, "[::]"))
        snprintf(host, sizeof host, "[::1]");
    if ((size_t)snprintf(buf, len, "http://%s:%d", host, port) >= len)
        return ls_err_set(err, LS_EINVAL, "%s: URL too long", spec);
    return 0;
}

static int url_path(const char *dir, char *path, size_t len, ls_err *err)
{
    return put(path, len, err, "%s/%s", dir, LS_STATE_URL_FILE);
}

static int write_line(int fd, void *ctx, ls_err *err)
{
    const char *url = ctx;
    int rc = ls_write_all(fd, url, strlen(url), err);
    return rc ? rc : ls_write_all(fd, "\n", 1, err);
}

int ls_state_url_write(const char *dir, const char *url, ls_err *err)
{
    char path[LS_STATE_URL_MAX + 32];
    int rc = url_path(dir, path, sizeof path, err);
    return rc ? rc : ls_file_replace(path, write_line, (void *)url, err);
}

int ls_state_url_read(const char *dir, char *buf, size_t len, ls_err *err)
{
    char path[LS_STATE_URL_MAX + 32];
    unsigned char *text = NULL;
    size_t n;
    int rc = url_path(dir, path, sizeof path, err);

    if (rc || (rc = ls_file_read(path, &text, &n, err)))
        return rc;
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (strncmp((char *)text, "http://", 7) && strncmp((char *)text, "https://", 8) &&
        strncmp((char *)text, "unix:/", 6))
        rc = ls_err_set(err, LS_EFORMAT, "%s: not a server URL (http://HOST:PORT or "
                        "unix:PATH)", path);
    else if (n >= len)
        rc = ls_err_set(err, LS_EFORMAT, "%s: URL too long", path);
    else
        memcpy(buf, text, n + 1);
    ls_free(text);
    return rc;
}

void ls_state_url_remove(const char *dir, const char *url)
{
    char path[LS_STATE_URL_MAX + 32], now[LS_STATE_URL_MAX];

    if (!url_path(dir, path, sizeof path, NULL) &&
        !ls_state_url_read(dir, now, sizeof now, NULL) && !strcmp(now, url))
        unlink(path);
}
