/* cmd_serve.c - `lstmsweep serve`: the experiment server's HTTP API on its
 * durable store.
 *
 * STUB SCHEDULER: no job runs yet.  Sweeps can be submitted, listed,
 * paused, resumed, cancelled and exported, and every endpoint answers, but
 * until the scheduler's job source is wired in (it will take the store's
 * queued jobs, run them and push job_started / epoch / job_ended events),
 * the hooks below report an idle node and no curves. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lstmsweep/api.h"
#include "lstmsweep/drain.h"
#include "lstmsweep/events.h"
#include "lstmsweep/http.h"
#include "lstmsweep/store.h"
#include "lstmsweep/token.h"

#define MAX_ROOTS 16
#define EVENT_RING 4096

typedef struct serve_cli {
    const char *state, *listen;
    const char *roots[MAX_ROOTS];
    int nroots;
} serve_cli;

static void serve_usage(FILE *f)
{
    fprintf(f,
        "usage: lstmsweep serve [OPTIONS]\n\n"
        "Serve the experiment queue over HTTP (JSON API under /api/v1, server-sent\n"
        "events, Prometheus /metrics).  Every endpoint but /healthz wants\n"
        "'Authorization: Bearer TOKEN'; the token is made at the first start and\n"
        "kept in STATE/token (mode 0600).\n\n"
        "  --state DIR          state directory: state.db, token, sweeps/ [state]\n"
        "  --listen HOST:PORT   or unix:PATH [" LS_HTTP_DEFAULT_LISTEN "]\n"
        "  --data-root DIR      where submitted sweeps may read data (repeatable)\n"
        "                       [data]\n\n"
        "Not yet: running jobs (the scheduler is not wired in; see cmd_serve.c).\n"
        "SIGINT or SIGTERM stops the server.\n");
}

/* 0: serve; 1: --help shown; -1: bad usage. */
static int parse_serve(int argc, char **argv, serve_cli *c)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"data-root", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;

    c->state = "state";
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 's')
            c->state = optarg;
        else if (ch == 'l')
            c->listen = optarg;
        else if (ch == 'd' && c->nroots < MAX_ROOTS)
            c->roots[c->nroots++] = optarg;
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
    return 0;
}

/* STUB until the scheduler is wired: the CPUs, none busy. */
static void stub_node_status(void *ctx, ls_node_status *out)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    *out = (ls_node_status){.total_cores = n > 0 ? (int)n : 1};
}

/* STUB until the scheduler is wired: nobody to tell. */
static void stub_state_change(void *ctx, const char *sweep)
{
}

/* Until the drain flag is set. */
static void wait_for_stop(void)
{
    while (!atomic_load(ls_drain_flag()))
        usleep(200 * 1000);
}

static int serve(const serve_cli *c, ls_store *store, ls_events *events, const char *token)
{
    ls_api_config cfg = {.store = store, .events = events, .state_dir = c->state,
                         .data_roots = c->roots, .ndata_roots = (size_t)c->nroots,
                         .token = token,
                         .hooks = {.node_status = stub_node_status,
                                   .on_state_change = stub_state_change}};
    ls_http_opts o = {.listen = c->listen};
    ls_api *api = NULL;
    ls_http *http = NULL;
    ls_err err = {0};

    if (ls_api_create(&api, &cfg, &err) || ls_drain_install(&err)) {
        cli_error("%s", err.msg);
        ls_api_destroy(api);
        return 1;
    }
    /* the server's threads start with the signals blocked, so that they
     * land on this thread, which then takes its own mask back */
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    ls_drain_block_signals();
    int rc = ls_http_start(&http, api, events, &o, &err);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    if (rc) {
        cli_error("%s", err.msg);
        ls_api_destroy(api);
        return 1;
    }
    if (ls_http_port(http))
        printf("serving on port %d (token in %s/token)\n", ls_http_port(http), c->state);
    else
        printf("serving on %s (token in %s/token)\n", c->listen, c->state);
    fflush(stdout);
    wait_for_stop();
    ls_events_close(events);
    ls_http_stop(http);
    ls_api_destroy(api);
    return 0;
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
    if (mkdir(c.state, 0700) != 0 && errno != EEXIST) {
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
    rc = serve(&c, store, events, token);
    ls_events_destroy(events);
    ls_store_close(store);
    return rc;
}
