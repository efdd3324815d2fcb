/* http.c - libmicrohttpd in front of the API; see include/lstmsweep/http.h.
 *
 * Per connection (NOTIFY_CONNECTION) a `conn` records a dup of its socket
 * and the deadline of the request being received; the watchdog shuts down
 * the late ones.  Per request a `request` gathers the body; its first call
 * (headers in) refuses early what needs no body: a bad token, a
 * Content-Length over the limit. */
#include "lstmsweep/http.h"
#include "lstmsweep/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mono.h"

#define MAX_KV 64                /* headers or query arguments passed on */
#define HEADER_MEMORY (32 * 1024)
#define WATCH_MS 100             /* watchdog period */
#define SLICE_MS 200             /* an event stream checks for stop this often */

typedef struct conn {
    struct conn *prev, *next;
    int fd;                      /* dup of the socket, -1 if dup failed */
    double deadline;             /* monotonic s; 0: not receiving */
} conn;

struct ls_http {
    struct MHD_Daemon *d;
    ls_api *api;
    ls_events *events;
    ls_http_opts o;
    atomic_int stopping;
    pthread_mutex_t lock;        /* conns, watch_stop */
    pthread_cond_t wake;
    conn conns;                  /* list head */
    pthread_t watchdog;
    int watch_started, watch_stop;
    int unix_fd;                 /* unix:PATH's listening socket (the
                                    daemon's once it started) */
    char unix_path[108];
};

/* ---- connections and the watchdog ------------------------------------------------- */

static void set_deadline(ls_http *h, conn *c, int receiving)
{
    if (!c)
        return;
    pthread_mutex_lock(&h->lock);
    c->deadline = receiving ? ls_mono_seconds() + h->o.request_timeout_ms / 1000.0 : 0;
    pthread_mutex_unlock(&h->lock);
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    ls_http *h = cls;
    conn *c = *socket_ctx;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!(c = ls_calloc(1, sizeof *c)))
            return;   /* unguarded, still bounded by the idle timeout */
        c->fd = ci ? dup(ci->connect_fd) : -1;
        c->deadline = ls_mono_seconds() + h->o.request_timeout_ms / 1000.0;
        pthread_mutex_lock(&h->lock);
        c->next = h->conns.next;
        c->prev = &h->conns;
        h->conns.next->prev = c;
        h->conns.next = c;
        pthread_mutex_unlock(&h->lock);
        *socket_ctx = c;
    } else if (c) {
        pthread_mutex_lock(&h->lock);
        c->prev->next = c->next;
        c->next->prev = c->prev;
        pthread_mutex_unlock(&h->lock);
        if (c->fd >= 0)
            close(c->fd);
        ls_free(c);
        *socket_ctx = NULL;
    }
}

static void *watch(void *arg)
{
    ls_http *h = arg;

    pthread_mutex_lock(&h->lock);
    while (!h->watch_stop) {
        struct timespec t = ls_mono_after(WATCH_MS);
        double now = ls_mono_seconds();
        for (conn *c = h->conns.next; c != &h->conns; c = c->next)
            if (c->deadline > 0 && now > c->deadline) {
                c->deadline = 0;       /* once; the connection is closing */
                if (c->fd >= 0)
                    shutdown(c->fd, SHUT_RDWR);
            }
        pthread_cond_timedwait(&h->wake, &h->lock, &t);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* ---- event streams ----------------------------------------------------------------- */

typedef struct stream {
    ls_http *h;
    uint64_t after;
    char buf[LS_EVENT_DATA_MAX + 128];
    size_t len, off;             /* buf[off..len) is still to send */
    double idle_since;
} stream;

/* The next message into s->buf: an event, a keepalive, or nothing (stop). */
static int next_message(stream *s)
{
    ls_event e;

    while (!atomic_load(&s->h->stopping)) {
        int got = ls_events_next(s->h->events, s->after, SLICE_MS, &e);
        if (got < 0)
            return 0;
        if (got > 0) {
            s->after = e.id;
            s->len = ls_event_format(&e, s->buf, sizeof s->buf);
            s->off = 0;
            return 1;
        }
        if (ls_mono_seconds() - s->idle_since >= s->h->o.keepalive_ms / 1000.0) {
            s->len = (size_t)snprintf(s->buf, sizeof s->buf, ": keepalive\n\n");
            s->off = 0;
            return 1;
        }
    }
    return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *s = cls;

    if (s->off == s->len && !next_message(s))
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->buf + s->off, n);
    s->off += n;
    s->idle_since = ls_mono_seconds();
    return (ssize_t)n;
}

static struct MHD_Response *stream_response(ls_http *h, const ls_api_response *r)
{
    stream *s = ls_calloc(1, sizeof *s);
    struct MHD_Response *resp;

    if (!s)
        return NULL;
    s->h = h;
    s->after = r->stream_after;
    s->idle_since = ls_mono_seconds();
    if (r->stream_reset)
        s->len = (size_t)snprintf(s->buf, sizeof s->buf, "event: lost\ndata: "
                                  "{\"missed\":null,\"reason\":\"server restarted\"}\n\n");
    /* libmicrohttpd frees the stream when the response ends: ls_free has
     * the shape of its free callback. */
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, sizeof s->buf, stream_read, s,
                                             ls_free);
    if (!resp)
        ls_free(s);
    else
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    return resp;
}

/* ---- requests ------------------------------------------------------------------------ */

typedef struct request {
    char *body;
    size_t len, cap;
    int too_large;
} request;

typedef struct kv_list {
    ls_api_kv kv[MAX_KV];
    size_t n;
} kv_list;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    kv_list *l = cls;
    if (l->n == MAX_KV)
        return MHD_NO;
    l->kv[l->n].key = key;
    l->kv[l->n++].value = value;
    return MHD_YES;
}

/* Send the API's answer (taking its body). */
static enum MHD_Result send_answer(ls_http *h, struct MHD_Connection *c, ls_api_response *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ok;

    if (r->stream)
        resp = stream_response(h, r);
    else if ((resp = MHD_create_response_from_buffer(r->body_len, r->body ? r->body : "",
                                                     r->body ? MHD_RESPMEM_MUST_FREE
                                                             : MHD_RESPMEM_PERSISTENT)))
        r->body = NULL;                     /* libmicrohttpd frees it */
    if (!resp) {
        ls_api_response_free(r);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", r->content_type);
    if (r->allow)
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->status == 401 && !r->page)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
    if (r->location)
        MHD_add_response_header(resp, "Location", r->location);
    if (r->set_cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->page) {
        /* the dashboard: its own files only, never in a frame (its buttons
         * must not be clickjacked), not cached (it changes with the binary) */
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; "
                                "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                                "form-action 'self'; base-uri 'none'");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    }
    ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    ls_api_response_free(r);
    return ok;
}

static enum MHD_Result send_error(ls_http *h, struct MHD_Connection *c, int status,
                                  const char *msg)
{
    ls_api_response r = {0};
    ls_api_error(&r, status, "%s", msg);
    return send_answer(h, c, &r);
}

/* The whole request through the API. */
static enum MHD_Result answer(ls_http *h, struct MHD_Connection *c, const char *url,
                              const char *method, request *rq)
{
    kv_list headers = {.n = 0}, query = {.n = 0};
    ls_api_response r;

    MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &query);
    ls_api_request req = {.method = method, .path = url, .query = query.kv,
                          .nquery = query.n, .headers = headers.kv, .nheaders = headers.n,
                          .body = rq->body, .body_len = rq->len};
    ls_api_handle(h->api, &req, &r);
    return send_answer(h, c, &r);
}

/* First call, headers in: refuse now what must not send its body. */
static enum MHD_Result early(ls_http *h, struct MHD_Connection *c, const char *url,
                             const char *method, int *answered)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

    *answered = 1;
    if (!ls_api_may_enter(h->api, method, url, auth, cookie)) {
        request none = {0};
        return answer(h, c, url, method, &none);  /* the API's 401 */
    }
    if (length && strtoull(length, NULL, 10) > LS_API_BODY_MAX)
        return send_error(h, c, 413, "the body is larger than the limit (1 MiB)");
    *answered = 0;
    return MHD_YES;
}

static int append_body(request *rq, const char *data, size_t n)
{
    if (rq->too_large || rq->len + n > LS_API_BODY_MAX) {
        rq->too_large = 1;
        return 0;
    }
    if (rq->len + n > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n)
            cap *= 2;
        char *p = ls_realloc(rq->body, cap);
        if (!p)
            return -1;
        rq->body = p;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    return 0;
}

static conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_ctx)
{
    ls_http *h = cls;
    request *rq = *req_ctx;
    int answered;

    if (!rq) {
        enum MHD_Result ok = early(h, c, url, method, &answered);
        if (answered)
            return ok;
        if (!(rq = ls_calloc(1, sizeof *rq)))
            return MHD_NO;
        *req_ctx = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (append_body(rq, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;    /* past the limit: dropped, until the deadline */
        return MHD_YES;
    }
    set_deadline(h, conn_of(c), 0);      /* all in: the answer has no deadline */
    if (rq->too_large)
        return send_error(h, c, 413, "the body is larger than the limit (1 MiB)");
    return answer(h, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
                         enum MHD_RequestTerminationCode code)
{
    ls_http *h = cls;
    request *rq = *req_ctx;

    if (rq) {
        ls_free(rq->body);
        ls_free(rq);
        *req_ctx = NULL;
    }
    set_deadline(h, conn_of(c), 1);      /* the next request on this connection */
}

/* ---- listening ---------------------------------------------------------------------- */

/* "unix:PATH": our own socket (a stale socket file is replaced), mode 0600. */
static int listen_unix(ls_http *h, const char *path, ls_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path || !*path)
        return ls_err_set(err, LS_EINVAL, "unix:%s: path empty or too long", path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return ls_err_set(err, LS_EIO, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || chmod(path, 0600) || listen(fd, 64)) {
        int e = errno;
        close(fd);
        return ls_err_set(err, LS_EIO, "unix:%s: %s", path, strerror(e));
    }
    h->unix_fd = fd;
    snprintf(h->unix_path, sizeof h->unix_path, "%s", path);
    return 0;
}

/* "HOST:PORT" into an IPv4 or IPv6 address; *v6 says which. */
static int parse_inet(const char *spec, struct sockaddr_storage *ss, int *v6, ls_err *err)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;

    if (!colon || !colon[1] || *end || port < 0 || port > 65535 ||
        (size_t)(colon - spec) >= sizeof host)
        return ls_err_set(err, LS_EINVAL, "--listen %s: expected HOST:PORT or unix:PATH", spec);
    snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    size_t n = strlen(host);
    *v6 = n > 2 && host[0] == '[' && host[n - 1] == ']';
    if (*v6) {
        host[n - 1] = '\0';
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1)
            return 0;
    } else {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (!strcmp(host, "localhost"))
            snprintf(host, sizeof host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &a4->sin_addr) == 1)
            return 0;
    }
    return ls_err_set(err, LS_EINVAL, "--listen %s: '%s' is not an IP address", spec, host);
}

static void defaults(ls_http_opts *o)
{
    if (!o->listen)
        o->listen = LS_HTTP_DEFAULT_LISTEN;
    if (!o->max_connections)
        o->max_connections = 64;
    if (!o->max_per_ip)
        o->max_per_ip = 16;
    if (!o->idle_timeout_s)
        o->idle_timeout_s = 30;
    if (!o->request_timeout_ms)
        o->request_timeout_ms = 10000;
    if (!o->keepalive_ms)
        o->keepalive_ms = 15000;
}

static int start_daemon(ls_http *h, ls_err *err)
{
    struct sockaddr_storage ss;
    int v6 = 0, is_unix = !strncmp(h->o.listen, "unix:", 5);
    int rc = is_unix ? listen_unix(h, h->o.listen + 5, err) : parse_inet(h->o.listen, &ss, &v6, err);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_CONNECTION_LIMIT, h->o.max_connections, NULL},
        /* a unix socket has no addresses to limit (0: no limit) */
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, is_unix ? 0 : h->o.max_per_ip, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, h->o.idle_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_MEMORY, NULL},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h},
        is_unix ? (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, h->unix_fd, NULL}
                : (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_END, 0, NULL}};

    if (rc)
        return rc;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, ops,
                            MHD_OPTION_END);
    if (!h->d) {
        if (is_unix) {
            close(h->unix_fd);
            h->unix_fd = -1;
        }
        return ls_err_set(err, LS_EIO, "cannot listen on %s (in use, or no such address)",
                          h->o.listen);
    }
    return 0;
}

/* start_daemon from a thread of its own whose nice value is raised first:
 * libmicrohttpd's threads, made by it and by its polling thread, inherit
 * it (Linux keeps nice per thread), while the caller's does not change
 * (raising it back would need CAP_SYS_NICE).  The server's own CPU then
 * goes to the jobs first when the cores are all busy: measured by
 * bench/serve-load.sh. */
typedef struct starter {
    ls_http *h;
    ls_err err;
    int rc;
} starter;

static void *start_niced(void *arg)
{
    starter *st = arg;
    int nice = st->h->o.nice ? st->h->o.nice : LS_HTTP_DEFAULT_NICE;
    if (nice > 0) {
        pid_t tid = (pid_t)syscall(SYS_gettid);
        errno = 0;
        int now = getpriority(PRIO_PROCESS, (id_t)tid);
        if (errno == 0)
            (void)setpriority(PRIO_PROCESS, (id_t)tid, now + nice); /* best effort */
    }
    st->rc = start_daemon(st->h, &st->err);
    return NULL;
}

static int start_daemon_niced(ls_http *h, ls_err *err)
{
    starter st = {.h = h};
    pthread_t t;
    int rc = pthread_create(&t, NULL, start_niced, &st);
    if (rc)
        return ls_err_set(err, LS_ENOMEM, "server thread: %s", strerror(rc));
    pthread_join(t, NULL);
    if (st.rc && err)
        *err = st.err;
    return st.rc;
}

int ls_http_start(ls_http **out, ls_api *api, ls_events *events, const ls_http_opts *o,
                  ls_err *err)
{
    ls_http *h = ls_calloc(1, sizeof *h);
    int rc;

    *out = NULL;
    if (!h)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    h->api = api;
    h->events = events;
    h->o = o ? *o : (ls_http_opts){0};
    defaults(&h->o);
    h->unix_fd = -1;
    h->conns.next = h->conns.prev = &h->conns;
    pthread_mutex_init(&h->lock, NULL);
    ls_mono_cond_init(&h->wake);
    if ((rc = pthread_create(&h->watchdog, NULL, watch, h))) {
        ls_http_stop(h);
        return ls_err_set(err, LS_ENOMEM, "watchdog thread: %s", strerror(rc));
    }
    h->watch_started = 1;
    if ((rc = start_daemon_niced(h, err))) {
        ls_http_stop(h);
        return rc;
    }
    *out = h;
    return 0;
}

int ls_http_port(const ls_http *h)
{
    const union MHD_DaemonInfo *di =
        h->unix_fd >= 0 ? NULL : MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : 0;
}

void ls_http_stop(ls_http *h)
{
    if (!h)
        return;
    atomic_store(&h->stopping, 1);       /* streams end within SLICE_MS */
    if (h->d)
        MHD_stop_daemon(h->d);
    if (h->watch_started) {
        pthread_mutex_lock(&h->lock);
        h->watch_stop = 1;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->watchdog, NULL);
    }
    if (h->unix_fd >= 0)           /* the daemon closed the socket itself */
        unlink(h->unix_path);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    ls_free(h);
}
