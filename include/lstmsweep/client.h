/* client.h - the experiment server's HTTP client (libcurl): finding the
 * server, requests, and its event stream.  The command-line clients
 * (src/cli/cmd_client.c) are built on it; anything it does, curl does too.
 *
 * Finding the server (ls_client_create), first match wins:
 *  1. --server URL (opts.server): "http://HOST:PORT" or "unix:PATH";
 *  2. --state DIR (opts.state_dir): DIR/server.url, which the server writes
 *     at each start (statedir.h);
 *  3. the environment: LSTMSWEEP_SERVER, a URL as in 1;
 *  4. the default state directory's server.url (statedir.h);
 *  5. else LS_HTTP_DEFAULT_LISTEN, http://127.0.0.1:8470.
 * The token goes with where the URL came from: for 1 and 3 LSTMSWEEP_TOKEN,
 * else the state directory's token file; for 2, 4 and 5 the token file,
 * else LSTMSWEEP_TOKEN.  No token is not an error here: the server answers
 * 401 and ls_client_token_note says why there was none.
 *
 * Nothing is sent until a request: creating a client cannot tell whether
 * a server answers.  A request returns 0 once any HTTP answer came, with
 * its status (4xx and 5xx included: their body is the JSON error);
 * LS_EIO means no answer (nothing listens, the connection broke, a
 * timeout), with libcurl's reason in err.
 *
 * Ownership: create/destroy; a reply's body is ls_alloc'ed (free with
 * ls_client_reply_free).  Threading: one client per thread (it holds a
 * libcurl easy handle); ls_client_events uses a handle of its own, so its
 * callbacks may make requests on the same client.  Errors: LS_EINVAL (a
 * bad URL, a token file others may read), LS_ENOMEM, LS_EIO.
 */
#ifndef LSTMSWEEP_CLIENT_H
#define LSTMSWEEP_CLIENT_H

#include <stddef.h>

#include "lstmsweep/error.h"
#include "lstmsweep/sse.h"

typedef struct ls_client ls_client;

typedef struct ls_client_opts {
    const char *server;            /* --server URL, or NULL */
    const char *state_dir;         /* --state DIR, or NULL: the default */
    long timeout_ms;               /* a whole request; 0: 300000 */
} ls_client_opts;

typedef struct ls_client_reply {
    long status;                   /* the HTTP status */
    char *body;                    /* [len] + a NUL */
    size_t len;
} ls_client_reply;

int ls_client_create(ls_client **out, const ls_client_opts *o, ls_err *err);
/* NULL is a no-op. */
void ls_client_destroy(ls_client *c);

/* The server's URL, the state directory looked at ("" if none), and how
 * the URL was found ("--server", "LSTMSWEEP_SERVER", "DIR/server.url" or
 * "the default address"): for messages. */
const char *ls_client_url(const ls_client *c);
const char *ls_client_state_dir(const ls_client *c);
const char *ls_client_found_by(const ls_client *c);
/* Where the token came from, or why there is none. */
const char *ls_client_token_note(const ls_client *c);

/* method ("GET", "POST"...) on path ("/api/v1/sweeps?priority=2"), with
 * body [len] of content_type if body is not NULL. */
int ls_client_request(ls_client *c, const char *method, const char *path,
                      const char *content_type, const char *body, size_t len,
                      ls_client_reply *out, ls_err *err);
void ls_client_reply_free(ls_client_reply *r);

/* s percent-encoded for a path segment or a query value (ls_alloc'ed;
 * NULL when out of memory). */
char *ls_client_escape(const char *s);

/* Called about once a second while the stream is open; non-zero stops it. */
typedef int (*ls_client_tick_fn)(void *ctx);

/* GET /api/v1/events from after last_id ("" or NULL: from now), events to
 * on_event until it or on_tick returns non-zero (*stop gets that value and
 * 0 is returned), or the stream ends: LS_EIO (*stop 0).  last_id is
 * updated to the last id seen [LS_SSE_ID_MAX], to reconnect from.  An
 * answer other than 200 returns 0 with *stop 0 and the answer in *fail
 * (its body, for the error). */
int ls_client_events(ls_client *c, char *last_id, ls_sse_fn on_event, ls_client_tick_fn on_tick,
                     void *ctx, int *stop, ls_client_reply *fail, ls_err *err);

#endif
