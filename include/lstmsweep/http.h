/* http.h - the experiment server's HTTP transport: libmicrohttpd in front
 * of the pure request handler (api.h).  It only reads requests, bounds
 * them and writes the handler's answers; every decision is the API's.
 *
 * Bounds, so that no client can hold the server:
 *  - connections: at most max_connections in all, max_per_ip from one
 *    address (TCP only), each idle at most idle_timeout_s;
 *  - time: a request's headers and body must have arrived within
 *    request_timeout_ms of its first byte, else the connection is shut
 *    down.  libmicrohttpd's own timeout is an idle timeout, which a client
 *    sending a byte a second never trips: a watchdog thread enforces the
 *    deadline (shutdown(2) on a dup of the socket, so it can never hit a
 *    descriptor that was reused meanwhile).  The next request on a
 *    kept-alive connection has the same deadline from the end of the last
 *    one, so an idle kept-alive connection lasts request_timeout_ms too.
 *    Answers (a large CSV, an event stream) have no deadline: they are
 *    bounded by the idle timeout and the connection limits;
 *  - size: request headers within 32 KiB (libmicrohttpd answers 431),
 *    bodies within LS_API_BODY_MAX: 413 at once for a Content-Length over
 *    it, without reading the body; a chunked body is read, its bytes past
 *    the limit dropped (libmicrohttpd cannot answer in the middle of a
 *    body), and answered 413 at its end or cut off at the deadline;
 *  - a request without a valid token is answered 401 once its headers are
 *    in, before its body is read.
 * Threading: a thread per connection (libmicrohttpd's
 * MHD_USE_THREAD_PER_CONNECTION), so a slow client holds only its own
 * thread, and an event stream may wait for events inside its thread; the
 * connection limit bounds the threads.  An event stream sends a comment
 * line every keepalive_ms when idle (which also finds closed clients).
 * Errors: LS_EINVAL (a bad listen address), LS_EIO (cannot listen).
 */
#ifndef LSTMSWEEP_HTTP_H
#define LSTMSWEEP_HTTP_H

#include "lstmsweep/api.h"
#include "lstmsweep/error.h"
#include "lstmsweep/events.h"

#define LS_HTTP_DEFAULT_LISTEN "127.0.0.1:8470"

typedef struct ls_http ls_http;

typedef struct ls_http_opts {
    const char *listen;             /* "HOST:PORT" (IPv4 address, [IPv6] or
                                       localhost; port 0: any free one) or
                                       "unix:PATH"; NULL: the default */
    unsigned max_connections;       /* 0: 64 */
    unsigned max_per_ip;            /* 0: 16 */
    unsigned idle_timeout_s;        /* 0: 30 */
    unsigned request_timeout_ms;    /* 0: 10000 */
    unsigned keepalive_ms;          /* 0: 15000 */
    int nice;                       /* added to the serving threads' nice
                                       value, so that requests yield to the
                                       jobs' threads on a busy node; 0:
                                       LS_HTTP_DEFAULT_NICE, < 0: none */
} ls_http_opts;

#define LS_HTTP_DEFAULT_NICE 10

/* Listen and serve api (its events stream from events) until
 * ls_http_stop.  api and events must outlive the server. */
int ls_http_start(ls_http **out, ls_api *api, ls_events *events, const ls_http_opts *o,
                  ls_err *err);
/* The TCP port it listens on (the one chosen for port 0); 0 for unix. */
int ls_http_port(const ls_http *h);
/* Stop: end the event streams, close every connection, join the threads.
 * NULL is a no-op. */
void ls_http_stop(ls_http *h);

#endif
