/* cmd_serve.c - `lstmsweep serve`: the experiment server's HTTP API on its
 * durable store.
 *
 * The server runs the jobs of its queue through the same scheduler as
 * `run` (jobsource.h): one sweep at a time, chosen by fair share.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lstmsweep/api.h"
#include "lstmsweep/drain.h"
#include "lstmsweep/events.h"
#include "lstmsweep/http.h"
#include "lstmsweep/jobsource.h"
#include "lstmsweep/statedir.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/topo.h"
#include "lstmsweep/store.h"
#include "lstmsweep/token.h"

#define MAX_ROOTS 16
#define EVENT_RING 4096

typedef struct serve_cli {
    const char *state, *listen, *web_root;
    char state_default[LS_STATE_URL_MAX];
    const char *roots[MAX_ROOTS];
    int nroots;
    unsigned max_connections;     /* 0: the transport's default (http.h) */
} serve_cli;

static void serve_usage(FILE *f)
{
    fprintf(f,
        "usage: lstmsweep serve [OPTIONS]\n\n"
        "Serve the experiment queue over HTTP (JSON API under /api/v1, server-sent\n"
        "events, Prometheus /metrics).  Every endpoint but /healthz wants\n"
        "'Authorization: Bearer TOKEN'; the token is made at the first start and\n"
        "kept in STATE/token (mode 0600).  A web dashboard is at /: the link\n"
        "printed at start (/?token=...) signs a browser in with a cookie.\n\n"
        "  --state DIR          state directory: state.db, token, server.url,\n"
        "                       sweeps/ [$XDG_STATE_HOME/lstmsweep, else\n"
        "                       ~/.local/state/lstmsweep]\n"
        "  --listen HOST:PORT   or unix:PATH [" LS_HTTP_DEFAULT_LISTEN "]\n"
        "  --data-root DIR      where submitted sweeps may read data (repeatable)\n"
        "                       [data]\n"
        "  --web-root DIR       the dashboard's files [" LS_WEB_DIR ", else the\n"
        "                       source tree's web/]\n"
        "  --max-connections N  open connections at most, event streams included\n"
        "                       (each holds a thread; 16 at most per address) [64]\n\n"
        "Jobs run through the same scheduler as `run`; the active sweeps share\n"
        "the cores job by job, by fair share (core-seconds used / 2^priority).\n"
        "SIGINT or SIGTERM stops the server.  STATE/server.url says where it\n"
        "listens (the real port when --listen asks for port 0), so that the\n"
        "clients (submit, status, watch, fetch...) find it.\n");
}

/* *out = s if it is an integer in 1..4096 (0), else a message (-1). */
static int max_connections(const char *s, unsigned *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end && v >= 1 && v <= 4096) {
        *out = (unsigned)v;
        return 0;
    }
    cli_error("serve: --max-connections '%s': not an integer in 1..4096", s);
    return -1;
}

/* 0: serve; 1: --help shown; -1: bad usage. */
static int parse_serve(int argc, char **argv, serve_cli *c)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"data-root", required_argument, NULL, 'd'},
        {"web-root", required_argument, NULL, 'w'},
        {"max-connections", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;

    c->state = NULL;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 's')
            c->state = optarg;
        else if (ch == 'l')
            c->listen = optarg;
        else if (ch == 'w')
            c->web_root = optarg;
        else if (ch == 'd' && c->nroots < MAX_ROOTS)
            c->roots[c->nroots++] = optarg;
        else if (ch == 'm' && max_connections(optarg, &c->max_connections))
            return -1;
        else if (ch == 'm')
            continue;
        else if (ch == 'h') {
            serve_usage(stdout);
            return 1;
        } else {
            if (ch == 'd')
                cli_error("at most %d --data-root", MAX_ROOTS);
            serve_usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        cli_error("serve: unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!c->state) {
        ls_err err = {0};
        if (ls_state_dir_default(c->state_default, sizeof c->state_default, &err)) {
            cli_error("serve: %s", err.msg);
            return -1;
        }
        c->state = c->state_default;
    }
    return 0;
}

/* Tell clients where we listen: STATE/server.url. */
static int publish_url(const serve_cli *c, const ls_http *http, char *url, size_t len,
                       ls_err *err)
{
    int rc = ls_state_url_for(c->listen, ls_http_port(http), url, len, err);
    return rc ? rc : ls_state_url_write(c->state, url, err);
}

/* Until the drain flag is set. */
static void wait_for_stop(void)
{
    while (!atomic_load(ls_drain_flag()))
        usleep(200 * 1000);
}

/* Start the HTTP transport and the job source with the drain signals
 * blocked, so that their threads (and the jobs' teams) never take them:
 * they land on this thread, which then takes its own mask back. */
static int start_threads(ls_http **http, ls_api *api, ls_events *events,
                         const ls_http_opts *o, ls_jobsource *js, ls_err *err)
{
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    ls_drain_block_signals();
    int rc = ls_http_start(http, api, events, o, err);
    if (!rc)
        rc = ls_jobsource_start(js, api, err);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    return rc;
}

/* The dashboard's files: --web-root, else the installed ones, else (an
 * uninstalled build) the source tree's. */
static const char *web_root(const serve_cli *c)
{
    if (c->web_root)
        return c->web_root;
    return access(LS_WEB_DIR "/index.html", R_OK) == 0 ? LS_WEB_DIR : LS_SRC_WEB_DIR;
}

/* The dashboard's link with the token, as Jupyter prints it. */
static void print_link(const serve_cli *c, int port, const char *token)
{
    const char *l = c->listen ? c->listen : LS_HTTP_DEFAULT_LISTEN, *colon = strrchr(l, ':');
    int n = colon ? (int)(colon - l) : 0;

    if (!n || (n == 7 && !strncmp(l, "0.0.0.0", 7)) || (n == 4 && !strncmp(l, "[::]", 4)))
        l = "127.0.0.1", n = 9;
    printf("dashboard: http://%.*s:%d/?token=%s\n", n, l, port, token);
}

static int serve(const serve_cli *c, ls_store *store, ls_events *events, const char *token,
                 ls_jobsource *js)
{
    ls_api_config cfg = {.store = store, .events = events, .state_dir = c->state,
                         .data_roots = c->roots, .ndata_roots = (size_t)c->nroots,
                         .token = token, .web_root = web_root(c),
                         .hooks = {.ctx = js, .node_status = ls_jobsource_node,
                                   .busy_cores_of = ls_jobsource_busy_of,
                                   .on_state_change = ls_jobsource_poke}};
    ls_http_opts o = {.listen = c->listen, .max_connections = c->max_connections};
    ls_api *api = NULL;
    ls_http *http = NULL;
    ls_err err = {0};
    char url[LS_STATE_URL_MAX] = "";
    int rc = 0;

    if (ls_api_create(&api, &cfg, &err) || ls_drain_install(&err) ||
        start_threads(&http, api, events, &o, js, &err) ||
        publish_url(c, http, url, sizeof url, &err)) {
        cli_error("%s", err.msg);
        rc = 1;
    } else {
        if (ls_http_port(http)) {
            printf("serving on port %d (token in %s/token)\n", ls_http_port(http), c->state);
            print_link(c, ls_http_port(http), token);
        } else
            printf("serving on %s (token in %s/token)\n", c->listen, c->state);
        printf("clients find it through %s/%s: %s\n", c->state, LS_STATE_URL_FILE, url);
        fflush(stdout);
        wait_for_stop();
        ls_state_url_remove(c->state, url);
    }
    ls_jobsource_destroy(js);   /* drains the running sweep: its jobs checkpoint */
    ls_events_close(events);
    ls_http_stop(http);
    ls_api_destroy(api);
    return rc;
}

/* mkdir STATE, mode 0700; its parents (the default's ~/.local/state) as
 * mkdir -p would.  0, or -1 with errno. */
static int make_state_dir(const char *dir)
{
    char parent[LS_STATE_URL_MAX];
    const char *slash = strrchr(dir, '/');

    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT || !slash || slash == dir ||
        (size_t)(slash - dir) >= sizeof parent)
        return -1;
    snprintf(parent, sizeof parent, "%.*s", (int)(slash - dir), dir);
    if (ls_sys_mkdirs(parent) != 0)
        return -1;
    return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int cmd_serve(int argc, char **argv)
{
    serve_cli c = {0};
    char token[LS_TOKEN_LEN], db[1024];
    ls_store *store = NULL;
    ls_events *events = NULL;
    size_t requeued = 0;
    int created, rc;
    ls_err err = {0};

    if ((rc = parse_serve(argc, argv, &c)))
        return rc > 0 ? 0 : 2;
    if (make_state_dir(c.state) != 0) {
        cli_error("%s: %s", c.state, strerror(errno));
        return 1;
    }
    snprintf(db, sizeof db, "%s/state.db", c.state);
    if (ls_token_load(c.state, token, &created, &err) ||
        ls_store_open(&store, db, &requeued, &err) ||
        ls_events_create(&events, EVENT_RING, &err)) {
        cli_error("%s", err.msg);
        ls_store_close(store);
        return 1;
    }
    if (created)
        printf("made a new token in %s/token\n", c.state);
    if (requeued)
        printf("requeued %zu jobs left running by an earlier server\n", requeued);
    ls_topo *topo = NULL;
    ls_jobsource *js = NULL;
    if (ls_topo_load(&topo, &err) || ls_jobsource_create(&js, store, events, topo, stderr, &err)) {
        cli_error("%s", err.msg);
        rc = 1;
    } else {
        rc = serve(&c, store, events, token, js);   /* frees js */
    }
    ls_topo_destroy(topo);
    ls_events_destroy(events);
    ls_store_close(store);
    return rc;
}
