/* serve_load.c - a load generator for `lstmsweep serve`, on loopback only.
 *
 * N clients for D seconds, all in ONE thread on libcurl's multi interface,
 * so that the load itself costs little CPU next to the server it loads
 * (its own CPU time is printed at the end).  Each client is one of:
 *  - a poller: GET /api/v1/sweeps/NAME (the status a `watch` or a dashboard
 *    polls), a think time, GET /metrics (a scraper), a think time, again.
 *    The think time is uniform in [--think-min, --think-max] ms (default
 *    100-500, mean 300: a dashboard refreshing a few times a second), drawn
 *    per request from a seeded generator; the clients start spread over
 *    one think time.  Connections are kept alive, as a browser or a
 *    scraper keeps them;
 *  - a streamer (--streams of the N): GET /api/v1/events held open for
 *    the whole run, counting the events received ("data:" lines; the
 *    keepalive comments are not events).  A stream the server ends early
 *    is a failure and is opened again after a think time.
 * A failure is any transport error (refused, reset, timed out after
 * --timeout ms) or a status outside 2xx.  Latency is curl's total time of
 * the request (connect included when a new connection was needed); for a
 * stream, the time to its first byte.
 *
 * The server limits connections per address (http.h: 16 by default), as it
 * should for clients from many hosts.  Here they come from one machine, so
 * each group of --per-address clients (8) binds its own loopback source
 * address, 127.0.0.2, 127.0.0.3, ...: what the server sees is 100 clients
 * from 13 hosts.  The total (--max-connections of serve, 64 by default)
 * must be raised for N > 64: bench/serve-load.sh passes 256.
 *
 * usage: serve_load --sweep NAME [--url http://127.0.0.1:8470] [--token T |
 *        --token-file F] [--clients 100] [--streams 10] [--duration 60]
 *        [--think-min 100] [--think-max 500] [--timeout 10000]
 *        [--per-address 8] [--seed 1] [--until-done]
 * --until-done ends the run early, when a status poll first finds the
 * sweep done (its wall-clock time is printed: done_at, epoch seconds), so
 * that the load lasts exactly as long as the sweep (--duration then is a
 * cap).
 * Prints a table per endpoint, then one line "serve_load: key=value ..."
 * for scripts.  Exit 0 when it ran (failures are reported, not fatal), 2
 * for bad usage, 1 if it could not start.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { EP_STATUS, EP_METRICS, EP_EVENTS, NEP };
static const char *const ep_name[NEP] = {"status", "metrics", "events"};

typedef struct samples {
    double *ms;
    size_t n, cap;
    size_t failures;
} samples;

typedef struct client {
    CURL *easy;
    int streamer, next_ep, busy;
    double wake;                /* monotonic s: when the next request starts */
    int matched;                /* a stream's line so far against "data:" */
    char body[4096];            /* a status answer (its start) */
    size_t body_len;
} client;

typedef struct opts {
    const char *url, *token, *token_file, *sweep;
    int clients, streams, per_address, think_min, think_max, timeout_ms, until_done;
    double duration;
    unsigned long long seed;
} opts;

static samples stats[NEP];
static unsigned long long events_received, bytes_received;
static double done_at;          /* wall-clock s when a poll first saw the sweep done */
static uint64_t rng_state;

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static double uniform(void)   /* splitmix64 -> [0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static double think(const opts *o)
{
    return (o->think_min + uniform() * (o->think_max - o->think_min)) / 1000.0;
}

static void record(samples *s, double ms)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        double *p = realloc(s->ms, cap * sizeof *p);
        if (!p)
            return;                 /* the sample is lost, not the run */
        s->ms = p, s->cap = cap;
    }
    s->ms[s->n++] = ms;
}

/* Keep the start of the answer (a sweep's status is a few hundred bytes). */
static size_t keep(char *p, size_t size, size_t n, void *ud)
{
    client *c = ud;
    size_t len = size * n, room = sizeof c->body - 1 - c->body_len;
    bytes_received += len;
    memcpy(c->body + c->body_len, p, len < room ? len : room);
    c->body_len += len < room ? len : room;
    return len;
}

static double wall_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Count the lines that start with "data:" across the chunks of a stream:
 * matched is how much of "data:" the current line has matched so far, -1
 * once it cannot be one. */
static size_t on_stream(char *p, size_t size, size_t n, void *ud)
{
    client *c = ud;
    size_t len = size * n;
    bytes_received += len;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n')
            c->matched = 0;
        else if (c->matched >= 0 && p[i] == "data:"[c->matched]) {
            if (++c->matched == 5)
                events_received++, c->matched = -1;
        } else
            c->matched = -1;
    }
    return len;
}

static int setup(client *c, int i, const opts *o, struct curl_slist *hdr, int bind_v4)
{
    char iface[64];
    if (!(c->easy = curl_easy_init()))
        return -1;
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_PROXY, "");          /* never a proxy */
    curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
    if (bind_v4 && o->per_address > 0) {
        snprintf(iface, sizeof iface, "host!127.0.0.%d", 2 + i / o->per_address);
        curl_easy_setopt(c->easy, CURLOPT_INTERFACE, iface);
    }
    c->streamer = i < o->streams;
    return 0;
}

static void start(CURLM *m, client *c, const opts *o)
{
    char url[1024];
    int ep = c->streamer ? EP_EVENTS : c->next_ep;
    if (ep == EP_STATUS)
        snprintf(url, sizeof url, "%s/api/v1/sweeps/%s", o->url, o->sweep);
    else
        snprintf(url, sizeof url, "%s%s", o->url, ep == EP_METRICS ? "/metrics" : "/api/v1/events");
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, c->streamer ? 0L : (long)o->timeout_ms);
    curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, c->streamer ? on_stream : keep);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    c->matched = 0, c->body_len = 0;
    c->busy = 1;
    curl_multi_add_handle(m, c->easy);
}

/* A request ended (res) or a stream was closed by us at the end (closing). */
static void finish(CURLM *m, client *c, CURLcode res, int closing, const opts *o)
{
    long code = 0;
    curl_off_t us = 0;
    int ep = c->streamer ? EP_EVENTS : c->next_ep;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c->easy, c->streamer ? CURLINFO_STARTTRANSFER_TIME_T : CURLINFO_TOTAL_TIME_T,
                      &us);
    curl_multi_remove_handle(m, c->easy);
    c->busy = 0;
    if ((!closing && (res != CURLE_OK || c->streamer)) || code < 200 || code > 299)
        stats[ep].failures++;
    else
        record(&stats[ep], us / 1000.0);
    c->body[c->body_len] = '\0';
    if (ep == EP_STATUS && !done_at && code == 200 && strstr(c->body, "\"state\":\"done\""))
        done_at = wall_clock();
    if (!c->streamer)
        c->next_ep = c->next_ep == EP_STATUS ? EP_METRICS : EP_STATUS;
    c->wake = mono() + think(o);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const samples *s, double p)
{
    if (!s->n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)(s->n - 1) + 0.5);
    return s->ms[k < s->n ? k : s->n - 1];
}

static void report(const opts *o, double wall)
{
    struct rusage ru;
    size_t req = 0, fail = 0;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    printf("serve_load: %d clients (%d holding event streams), %.1f s, think %d-%d ms, %s\n",
           o->clients, o->streams, wall, o->think_min, o->think_max, o->url);
    printf("%-8s %9s %9s %9s %9s %9s %9s\n", "endpoint", "requests", "failures", "p50 ms",
           "p90 ms", "p99 ms", "max ms");
    for (int e = 0; e < NEP; e++) {
        samples *s = &stats[e];
        qsort(s->ms, s->n, sizeof *s->ms, cmp_double);
        req += s->n + s->failures, fail += s->failures;
        printf("%-8s %9zu %9zu %9.2f %9.2f %9.2f %9.2f\n", ep_name[e], s->n + s->failures,
               s->failures, pct(s, 50), pct(s, 90), pct(s, 99), s->n ? s->ms[s->n - 1] : 0.0);
    }
    printf("events received: %llu; %.1f requests/s; %.1f MB read; serve_load's own CPU: %.2f s\n",
           events_received, req / wall, bytes_received / 1e6, cpu);
    if (done_at)
        printf("the sweep was first seen done at %.3f (epoch s)\n", done_at);
    printf("serve_load: requests=%zu failures=%zu events=%llu cpu_s=%.2f wall_s=%.3f "
           "done_at=%.3f", req, fail, events_received, cpu, wall, done_at);
    for (int e = 0; e < NEP; e++)
        printf(" %s_n=%zu %s_fail=%zu %s_p50_ms=%.2f %s_p90_ms=%.2f %s_p99_ms=%.2f %s_max_ms=%.2f",
               ep_name[e], stats[e].n + stats[e].failures, ep_name[e], stats[e].failures,
               ep_name[e], pct(&stats[e], 50), ep_name[e], pct(&stats[e], 90), ep_name[e],
               pct(&stats[e], 99), ep_name[e], stats[e].n ? stats[e].ms[stats[e].n - 1] : 0.0);
    printf("\n");
}

/* Start what is due, let curl work, collect what ended: until the end, then
 * close the streams and let the polls in flight finish. */
static void drive(CURLM *m, client *cl, const opts *o)
{
    double t0 = mono(), end = t0 + o->duration;
    int closed = 0;
    for (int i = 0; i < o->clients; i++)
        cl[i].wake = t0 + uniform() * o->think_max / 1000.0;
    for (;;) {
        double now = mono(), next = now + 0.05;
        int busy = 0, running;
        for (int i = 0; i < o->clients; i++) {
            if (!cl[i].busy && now < end && cl[i].wake <= now)
                start(m, &cl[i], o);
            if (!cl[i].busy && cl[i].wake < next)
                next = cl[i].wake;
        }
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE) {
                client *c;
                CURLcode res = msg->data.result;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
                finish(m, c, res, 0, o);
            }
        if (o->until_done && done_at && now < end)
            end = now;
        if (now >= end && !closed) {
            for (int i = 0; i < o->clients; i++)
                if (cl[i].streamer && cl[i].busy)
                    finish(m, &cl[i], CURLE_OK, 1, o);
            closed = 1;
        }
        for (int i = 0; i < o->clients; i++)
            busy += cl[i].busy;
        if (now >= end && !busy)
            break;
        int ms = (int)((next - mono()) * 1000);
        curl_multi_poll(m, NULL, 0, ms < 1 ? 1 : ms > 50 ? 50 : ms, NULL);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: serve_load --sweep NAME [--url http://127.0.0.1:8470] [--token T | "
               "--token-file F]\n"
               "       [--clients 100] [--streams 10] [--duration 60] [--think-min 100]\n"
               "       [--think-max 500] [--timeout 10000] [--per-address 8] [--seed 1]\n"
               "       [--until-done]\n");
}

/* Loopback only: 127.0.0.0/8, localhost or [::1]. */
static int loopback(const char *url, int *v4)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    *v4 = !strncmp(h, "127.", 4);
    return *v4 || !strncmp(h, "localhost", 9) || !strncmp(h, "[::1]", 5);
}

static int read_token(opts *o, char *buf, size_t cap)
{
    if (o->token)
        return 0;
    FILE *f = o->token_file ? fopen(o->token_file, "r") : NULL;
    if (!f || !fgets(buf, (int)cap, f)) {
        fprintf(stderr, "serve_load: cannot read the token from %s\n",
                o->token_file ? o->token_file : "(no --token or --token-file)");
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    o->token = buf;
    return 0;
}

static int parse(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {
        {"url", 1, NULL, 'u'},      {"token", 1, NULL, 't'},     {"token-file", 1, NULL, 'f'},
        {"sweep", 1, NULL, 's'},    {"clients", 1, NULL, 'c'},   {"streams", 1, NULL, 'e'},
        {"duration", 1, NULL, 'd'}, {"think-min", 1, NULL, 'a'}, {"think-max", 1, NULL, 'b'},
        {"timeout", 1, NULL, 'o'},  {"per-address", 1, NULL, 'p'}, {"seed", 1, NULL, 'r'},
        {"until-done", 0, NULL, 'U'}, {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int ch;
    *o = (opts){.url = "http://127.0.0.1:8470", .clients = 100, .streams = 10, .duration = 60,
                .think_min = 100, .think_max = 500, .timeout_ms = 10000, .per_address = 8,
                .seed = 1};
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'u': o->url = optarg; break;
        case 't': o->token = optarg; break;
        case 'f': o->token_file = optarg; break;
        case 's': o->sweep = optarg; break;
        case 'c': o->clients = atoi(optarg); break;
        case 'e': o->streams = atoi(optarg); break;
        case 'd': o->duration = atof(optarg); break;
        case 'a': o->think_min = atoi(optarg); break;
        case 'b': o->think_max = atoi(optarg); break;
        case 'o': o->timeout_ms = atoi(optarg); break;
        case 'p': o->per_address = atoi(optarg); break;
        case 'r': o->seed = strtoull(optarg, NULL, 10); break;
        case 'U': o->until_done = 1; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (!o->sweep || o->clients < 1 || o->clients > 4096 || o->streams < 0 ||
        o->streams > o->clients || o->duration <= 0 || o->think_min < 0 ||
        o->think_max < o->think_min || o->timeout_ms < 1 || o->per_address < 0 ||
        (o->per_address && (o->clients - 1) / o->per_address + 2 > 254))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    char tok[256], auth[300];
    int v4, rc = 1;
    if (parse(argc, argv, &o) || optind < argc)
        return usage(stderr), 2;
    if (!loopback(o.url, &v4)) {
        fprintf(stderr, "serve_load: %s is not a loopback address (127.0.0.0/8, localhost, "
                        "[::1]): this generator loads only this machine\n", o.url);
        return 2;
    }
    if (read_token(&o, tok, sizeof tok) || curl_global_init(CURL_GLOBAL_DEFAULT))
        return 1;
    rng_state = o.seed;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", o.token);
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    CURLM *m = curl_multi_init();
    client *cl = calloc((size_t)o.clients, sizeof *cl);
    if (!hdr || !m || !cl)
        goto out;
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)o.clients + 16);
    for (int i = 0; i < o.clients; i++)
        if (setup(&cl[i], i, &o, hdr, v4))
            goto out;
    double t0 = mono();
    drive(m, cl, &o);
    report(&o, mono() - t0);
    rc = 0;
out:
    for (int i = 0; cl && i < o.clients; i++)
        curl_easy_cleanup(cl[i].easy);
    free(cl);
    curl_multi_cleanup(m);
    curl_slist_free_all(hdr);
    for (int e = 0; e < NEP; e++)
        free(stats[e].ms);
    curl_global_cleanup();
    if (rc)
        fprintf(stderr, "serve_load: could not set up the clients\n");
    return rc;
}
