/* statedir.h - the experiment server's state directory as the server and
 * its clients both see it: where it is by default, and the files a client
 * reads there to find the server.
 *
 *   STATE/state.db     the store (store.h)
 *   STATE/token        the bearer token, mode 0600 (token.h)
 *   STATE/server.url   where the server listens, one line: "http://HOST:PORT"
 *                      (the port it really bound, also for --listen ...:0)
 *                      or "unix:/ABSOLUTE/PATH"; written at each start with
 *                      ls_file_replace, removed at a clean stop
 *   STATE/sweeps/      the sweeps' CSVs and checkpoints
 *
 * The default directory follows the XDG base directory specification:
 * $XDG_STATE_HOME/lstmsweep if XDG_STATE_HOME is set to an absolute path
 * (the spec says to ignore a relative one), else $HOME/.local/state/lstmsweep,
 * with HOME from the password database when unset.
 *
 * Threading: none of these keep state; getenv makes them unsafe only
 * against a concurrent setenv.  Errors: LS_EINVAL (no home directory, a
 * path too long), LS_EIO (a file missing or unwritable), LS_EFORMAT (a
 * server.url that is not a URL); err says which file.
 */
#ifndef LSTMSWEEP_STATEDIR_H
#define LSTMSWEEP_STATEDIR_H

#include <stddef.h>

#include "lstmsweep/error.h"

#define LS_STATE_URL_FILE "server.url"
#define LS_STATE_URL_MAX 1024

/* The default state directory into buf (not created). */
int ls_state_dir_default(char *buf, size_t len, ls_err *err);

/* The URL clients should use for a server listening on `listen` (as
 * http.h takes it; NULL is the default) whose TCP port is `port` (the one
 * bound; ignored for unix:): "127.0.0.1:0" with port 41234 gives
 * "http://127.0.0.1:41234"; a wildcard host (0.0.0.0, [::]) becomes the
 * loopback one; a relative unix: path is made absolute. */
int ls_state_url_for(const char *listen, int port, char *buf, size_t len, ls_err *err);

/* Replace STATE/server.url with url (atomically and durably). */
int ls_state_url_write(const char *dir, const char *url, ls_err *err);

/* Read STATE/server.url into buf (LS_EIO if there is none). */
int ls_state_url_read(const char *dir, char *buf, size_t len, ls_err *err);

/* Remove STATE/server.url if it still holds url (another server may have
 * taken the directory over meanwhile); errors are ignored. */
void ls_state_url_remove(const char *dir, const char *url);

#endif
