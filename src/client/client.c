/* client.c - the experiment server's HTTP client on libcurl; see
 * include/lstmsweep/client.h. */
#include "lstmsweep/client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/http.h"
#include "lstmsweep/statedir.h"
#include "lstmsweep/token.h"

#define CONNECT_TIMEOUT_MS 5000L
/* The server sends a comment every 15 s on an idle stream: 45 s of
 * silence means the stream is dead (a killed server, a lost network). */
#define STREAM_SILENCE_S 45L

struct ls_client {
    CURL *curl;
    char url[LS_STATE_URL_MAX];         /* as found */
    char base[LS_STATE_URL_MAX];        /* what goes before the path */
    char socket[LS_STATE_URL_MAX];      /* unix: path, "" for TCP */
    char state[LS_STATE_URL_MAX];       /* the state directory looked at */
    char found_by[LS_STATE_URL_MAX + 16];
    char token[LS_TOKEN_LEN];           /* "" if none */
    char token_note[LS_STATE_URL_MAX + 600];
    long timeout_ms;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- finding the server ------------------------------------------------- */

static int set_url(ls_client *c, const char *url, ls_err *err)
{
    snprintf(c->url, sizeof c->url, "%s", url);
    if (!strncmp(url, "unix:", 5) && url[5]) {
        /* the host part is only the Host: header on a unix socket */
        snprintf(c->socket, sizeof c->socket, "%s", url + 5);
        snprintf(c->base, sizeof c->base, "http://localhost");
        return 0;
    }
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return ls_err_set(err, LS_EINVAL, "server '%s': expected http://HOST:PORT or unix:PATH",
                          url);
    snprintf(c->base, sizeof c->base, "%s", url);
    size_t n = strlen(c->base);
    while (n > 8 && c->base[n - 1] == '/')               /* paths bring their own '/' */
        c->base[--n] = '\0';
    return 0;
}

static int token_from_file(ls_client *c)
{
    ls_err e = {0};
    if (!c->state[0])
        return -1;
    if (ls_token_read(c->state, c->token, &e)) {
        c->token[0] = '\0';
        snprintf(c->token_note, sizeof c->token_note, "no token: LSTMSWEEP_TOKEN is unset "
                 "and %s", e.msg);
        return -1;
    }
    snprintf(c->token_note, sizeof c->token_note, "token from %s/token", c->state);
    return 0;
}

static int token_from_env(ls_client *c)
{
    const char *t = getenv("LSTMSWEEP_TOKEN");
    if (!t || !*t)
        return -1;
    snprintf(c->token, sizeof c->token, "%s", t);
    snprintf(c->token_note, sizeof c->token_note, "token from LSTMSWEEP_TOKEN");
    return 0;
}

/* The URL (and the token that goes with it), in the order of client.h. */
static int discover(ls_client *c, const ls_client_opts *o, ls_err *err)
{
    const char *env = getenv("LSTMSWEEP_SERVER");
    char url[LS_STATE_URL_MAX];
    ls_err derr = {0};
    int from_state = 0, rc;

    snprintf(c->token_note, sizeof c->token_note, "no token: LSTMSWEEP_TOKEN is unset");
    if (o->state_dir)
        snprintf(c->state, sizeof c->state, "%s", o->state_dir);
    else if (ls_state_dir_default(c->state, sizeof c->state, &derr))
        c->state[0] = '\0';
    if (o->server) {
        snprintf(c->found_by, sizeof c->found_by, "--server");
        rc = set_url(c, o->server, err);
    } else if (!o->state_dir && env && *env) {
        snprintf(c->found_by, sizeof c->found_by, "LSTMSWEEP_SERVER");
        rc = set_url(c, env, err);
    } else {
        from_state = 1;
        if (c->state[0] && !ls_state_url_read(c->state, url, sizeof url, NULL))
            snprintf(c->found_by, sizeof c->found_by, "%s/%s", c->state, LS_STATE_URL_FILE);
        else
            snprintf(c->found_by, sizeof c->found_by, "the default address"),
                snprintf(url, sizeof url, "http://%s", LS_HTTP_DEFAULT_LISTEN);
        rc = set_url(c, url, err);
    }
    if (rc)
        return rc;
    if (from_state ? token_from_file(c) && token_from_env(c)
                   : token_from_env(c) && token_from_file(c))
        c->token[0] = '\0';
    return 0;
}

int ls_client_create(ls_client **out, const ls_client_opts *o, ls_err *err)
{
    ls_client *c;
    int rc;

    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return ls_err_set(err, LS_EIO, "libcurl: %s", curl_easy_strerror(curl_init_rc));
    if (!(c = ls_calloc(1, sizeof *c)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 300000;
    if ((rc = discover(c, o, err))) {
        ls_client_destroy(c);
        return rc;
    }
    if (!(c->curl = curl_easy_init())) {
        ls_client_destroy(c);
        return ls_err_set(err, LS_ENOMEM, "libcurl: cannot make a handle");
    }
    *out = c;
    return 0;
}

void ls_client_destroy(ls_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    ls_free(c);
}

const char *ls_client_url(const ls_client *c) { return c->url; }
const char *ls_client_state_dir(const ls_client *c) { return c->state; }
const char *ls_client_found_by(const ls_client *c) { return c->found_by; }
const char *ls_client_token_note(const ls_client *c) { return c->token_note; }

/* ---- requests ----------------------------------------------------------- */

typedef struct buffer {
    char *p;
    size_t len, cap;
    int oom;
} buffer;

static int buffer_add(buffer *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = ls_realloc(b->p, cap);
        if (!p)
            return b->oom = 1, -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    return buffer_add(ctx, data, size * nmemb) ? 0 : size * nmemb;
}

/* The handle set up for method path; *headers to curl_slist_free_all. */
static int prepare(ls_client *c, CURL *h, const char *method, const char *path,
                   const char *content_type, struct curl_slist **headers, char *errbuf)
{
    char line[LS_TOKEN_LEN + 64], *url = ls_strprintf("%s%s", c->base, path);
    struct curl_slist *l = NULL;

    if (!url)
        return LS_ENOMEM;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    ls_free(url);                        /* libcurl keeps its own copy */
    if (c->socket[0])
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "lstmsweep/" PACKAGE_VERSION);
    if (strcmp(method, "GET") && strcmp(method, "POST"))
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (c->token[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", c->token);
        l = curl_slist_append(l, line);
    }
    if (content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", content_type);
        l = curl_slist_append(l, line);
    }
    /* the server answers at once; waiting for "100 Continue" only costs a second */
    l = curl_slist_append(l, "Expect:");
    if (!l)
        return LS_ENOMEM;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    *headers = l;
    return 0;
}

static int transport_error(const ls_client *c, CURLcode cc, const char *errbuf, ls_err *err)
{
    return ls_err_set(err, LS_EIO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

int ls_client_request(ls_client *c, const char *method, const char *path,
                      const char *content_type, const char *body, size_t len,
                      ls_client_reply *out, ls_err *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    buffer b = {0};
    CURLcode cc;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = prepare(c, c->curl, method, path, body ? content_type : NULL, &headers, errbuf)))
        return ls_err_set(err, rc, "out of memory");
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
    }
    cc = curl_easy_perform(c->curl);
    curl_slist_free_all(headers);
    if (b.oom) {
        ls_free(b.p);
        return ls_err_set(err, LS_ENOMEM, "out of memory for the answer");
    }
    if (cc != CURLE_OK) {
        ls_free(b.p);
        return transport_error(c, cc, errbuf, err);
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &out->status);
    if (!b.p && buffer_add(&b, "", 0))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    out->body = b.p;
    out->len = b.len;
    return 0;
}

void ls_client_reply_free(ls_client_reply *r)
{
    ls_free(r->body);
    memset(r, 0, sizeof *r);
}

char *ls_client_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = ls_alloc(3 * strlen(s) + 1), *p = out;

    for (; out && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch))
            *p++ = (char)ch;
        else
            *p++ = '%', *p++ = hex[ch >> 4], *p++ = hex[ch & 15];
    }
    if (p)
        *p = '\0';
    return out;
}

/* ---- the event stream --------------------------------------------------- */

typedef struct stream {
    CURL *h;
    ls_sse parser;
    ls_sse_fn on_event;
    ls_client_tick_fn on_tick;
    void *ctx;
    char *last_id;
    int stop;
    long status;                 /* 0 until the first bytes */
    buffer fail;                 /* the body of a non-200 answer */
    time_t last_tick;
} stream;

static int stream_event(void *ctx, const char *id, const char *type, const char *data)
{
    stream *s = ctx;
    snprintf(s->last_id, LS_SSE_ID_MAX, "%s", id);
    return s->stop = s->on_event(s->ctx, id, type, data);
}

static size_t stream_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    stream *s = ctx;
    size_t n = size * nmemb;

    if (!s->status)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200)      /* an error's JSON, a few hundred bytes */
        return s->fail.len > 65536 || buffer_add(&s->fail, data, n) ? 0 : n;
    return ls_sse_feed(&s->parser, data, n) ? 0 : n;
}

/* libcurl's progress callback, called about once a second when idle. */
static int stream_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                           curl_off_t un)
{
    stream *s = ctx;
    time_t now = time(NULL);

    if (!s->on_tick || now == s->last_tick)
        return 0;
    s->last_tick = now;
    return (s->stop = s->on_tick(s->ctx)) != 0;
}

int ls_client_events(ls_client *c, char *last_id, ls_sse_fn on_event, ls_client_tick_fn on_tick,
                     void *ctx, int *stop, ls_client_reply *fail, ls_err *err)
{
    char errbuf[CURL_ERROR_SIZE] = "", line[LS_SSE_ID_MAX + 32];
    struct curl_slist *headers = NULL;
    stream s = {.on_event = on_event, .on_tick = on_tick, .ctx = ctx, .last_id = last_id};
    CURLcode cc;
    int rc = 0;

    *stop = 0;
    memset(fail, 0, sizeof *fail);
    if (!(s.h = curl_easy_init()))
        return ls_err_set(err, LS_ENOMEM, "libcurl: cannot make a handle");
    ls_sse_init(&s.parser, stream_event, &s);
    if (prepare(c, s.h, "GET", "/api/v1/events", NULL, &headers, errbuf)) {
        curl_easy_cleanup(s.h);
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    }
    if (last_id && last_id[0]) {
        snprintf(line, sizeof line, "Last-Event-ID: %s", last_id);
        headers = curl_slist_append(headers, line);
        curl_easy_setopt(s.h, CURLOPT_HTTPHEADER, headers);
    }
    curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, stream_body);
    curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(s.h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(s.h, CURLOPT_XFERINFOFUNCTION, stream_progress);
    curl_easy_setopt(s.h, CURLOPT_XFERINFODATA, &s);
    curl_easy_setopt(s.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(s.h, CURLOPT_LOW_SPEED_TIME, STREAM_SILENCE_S);
    cc = curl_easy_perform(s.h);
    if (!s.status)                             /* an answer without a body */
        curl_easy_getinfo(s.h, CURLINFO_RESPONSE_CODE, &s.status);
    if (s.stop) {
        *stop = s.stop;                        /* our own callbacks ended it */
    } else if (s.fail.oom) {
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    } else if (s.status && s.status != 200) {
        fail->status = s.status;
        fail->body = s.fail.p ? s.fail.p : ls_strdup("");
        fail->len = s.fail.p ? s.fail.len : 0;
        s.fail.p = NULL;
    } else {
        rc = cc == CURLE_OK ? ls_err_set(err, LS_EIO, "the event stream ended")
                            : transport_error(c, cc, errbuf, err);
    }
    ls_free(s.fail.p);
    curl_slist_free_all(headers);
    curl_easy_cleanup(s.h);
    return rc;
}
