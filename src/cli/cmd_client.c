/* cmd_client.c - the experiment server's command-line clients: submit,
 * status, cancel, pause, resume, priority, watch and fetch.
 *
 * Each is one or two requests through client.h (which finds the server
 * and its token) and prints the answer for people; anything they do, curl
 * does as well (README "Clients").  What they print is in client_out.c.
 * Exit codes are the same for all of them (client_usage lists them), so
 * that scripts can tell "the server said no" from "no server".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "client_out.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/client.h"
#include "lstmsweep/durable.h"
#include "lstmsweep/sweepedit.h"

enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,      /* the server refused the request, or a local file failed */
    EXIT_USAGE = 2,
    EXIT_NO_SERVER = 3,    /* no server answers where the client looked */
    EXIT_TOKEN = 4         /* the server refused the token (401) */
};

#define MAX_SETS 64
#define WATCH_GIVE_UP_S 120      /* of no server answering, once watching */
#define WATCH_POLL_S 5           /* a refresh even without events */
#define WATCH_MIN_GAP_MS 250     /* events faster than this share one refresh */

/* Which options a command takes. */
#define OPT_SET 1u
#define OPT_PRIORITY 2u
#define OPT_OUT 4u

typedef struct client_cli {
    const char *cmd, *synopsis, *what;   /* what: the usage's description */
    unsigned allowed;
    const char *server, *state;
    const char *sets[MAX_SETS];
    int nsets;
    const char *priority;
    const char *out, *curves, *search;
    const char *args[2];
    int nargs;
} client_cli;

static void client_usage(FILE *f, const client_cli *c)
{
    fprintf(f, "usage: lstmsweep %s\n\n%s\n\n", c->synopsis, c->what);
    if (c->allowed & OPT_SET)
        fprintf(f, "  --set SECTION.KEY=VALUES  override a key of the sweep file before it is\n"
                   "                            sent, as `run --set` does (repeatable)\n");
    if (c->allowed & OPT_PRIORITY)
        fprintf(f, "  --priority N              the sweep's priority (its fair share weighs\n"
                   "                            2^N) [0]\n");
    if (c->allowed & OPT_OUT)
        fprintf(f, "  -o, --output FILE         the results CSV ('-': standard output) [-]\n"
                   "  --curves FILE             also the per-epoch curves CSV\n"
                   "  --search FILE             also an asha search's audit log (`report X.csv`\n"
                   "                            reads X-search.csv beside it)\n");
    fprintf(f,
        "  --server URL              http://HOST:PORT or unix:PATH\n"
        "  --state DIR               the server's state directory: its server.url\n"
        "                            and token [$XDG_STATE_HOME/lstmsweep, else\n"
        "                            ~/.local/state/lstmsweep]\n\n"
        "The server is found through --server, else --state DIR/server.url, else\n"
        "$LSTMSWEEP_SERVER, else the default state directory's server.url, else\n"
        "http://127.0.0.1:8470.  The token: $LSTMSWEEP_TOKEN with --server or\n"
        "$LSTMSWEEP_SERVER, else STATE/token (and the other way round).\n\n"
        "Exit status: 0 done; 1 the server refused (its error is printed) or a\n"
        "local file failed; 2 bad usage; 3 no server answers; 4 the server\n"
        "refused the token.\n");
}

static int add_set(client_cli *c, const char *arg)
{
    if (c->nsets == MAX_SETS) {
        cli_error("%s: at most %d --set options", c->cmd, MAX_SETS);
        return EXIT_USAGE;
    }
    c->sets[c->nsets++] = arg;
    return 0;
}

/* "-3" is a priority, not an option: negative numbers that are not an
 * option's value go after a "--" (unless there is one already), keeping
 * their order after NAME.  args has room for argc + 2. */
static int numbers_last(int argc, char **argv, char **args)
{
    int n = 0, k = 0;
    char *nums[64];

    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--"))
            return memcpy(args, argv, (size_t)argc * sizeof *args), argc;
    for (int i = 0; i < argc; i++) {
        /* ... unless it is an option's value: --priority -3 */
        int value = i > 0 && argv[i - 1][0] == '-' && !strchr(argv[i - 1], '=');
        int num = i > 0 && !value && argv[i][0] == '-' && argv[i][1] &&
                  strspn(argv[i] + 1, "0123456789") == strlen(argv[i] + 1);
        if (num && k < 64)
            nums[k++] = argv[i];
        else
            args[n++] = argv[i];
    }
    if (k)
        args[n++] = "--";
    memcpy(args + n, nums, (size_t)k * sizeof *args);
    args[n + k] = NULL;
    return n + k;
}

/* 0: go on; -1: --help shown; else the exit code. */
static int parse_args(int argc, char **argv, client_cli *c, int min_args, int max_args)
{
    static const struct option opts[] = {
        {"server", required_argument, NULL, 'S'}, {"state", required_argument, NULL, 'd'},
        {"set", required_argument, NULL, 's'}, {"priority", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'}, {"curves", required_argument, NULL, 'c'},
        {"search", required_argument, NULL, 'L'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    optind = 1;
    while (!rc && (ch = getopt_long(argc, argv, (c->allowed & OPT_OUT) ? "o:" : "", opts,
                                    NULL)) != -1) {
        unsigned need = ch == 's' ? OPT_SET : ch == 'p' ? OPT_PRIORITY
                      : ch == 'o' || ch == 'c' || ch == 'L' ? OPT_OUT : 0;
        if (need && !(c->allowed & need))
            ch = '?';
        switch (ch) {
        case 'S': c->server = optarg; break;
        case 'd': c->state = optarg; break;
        case 's': rc = add_set(c, optarg); break;
        case 'p': c->priority = optarg; break;
        case 'o': c->out = optarg; break;
        case 'c': c->curves = optarg; break;
        case 'L': c->search = optarg; break;
        case 'h': client_usage(stdout, c); return -1;
        default: client_usage(stderr, c); return EXIT_USAGE;
        }
    }
    for (; !rc && optind < argc; optind++) {
        if (c->nargs == max_args) {
            cli_error("%s: unexpected argument '%s'", c->cmd, argv[optind]);
            return EXIT_USAGE;
        }
        c->args[c->nargs++] = argv[optind];
    }
    if (!rc && c->nargs < min_args) {
        cli_error("%s: expected %s (see lstmsweep %s --help)", c->cmd, c->synopsis, c->cmd);
        return EXIT_USAGE;
    }
    return rc;
}

static int parse_client(int argc, char **argv, client_cli *c, int min_args, int max_args)
{
    char **args = ls_calloc((size_t)argc + 2, sizeof *args);
    int rc;

    if (!args) {
        cli_error("out of memory");
        return EXIT_REFUSED;
    }
    /* getopt permutes args (not argv): c's strings still point into argv */
    rc = parse_args(numbers_last(argc, argv, args), args, c, min_args, max_args);
    ls_free(args);
    return rc;
}

/* ---- requests and their failures ----------------------------------------------- */

static int open_client(const client_cli *cc, long timeout_ms, ls_client **out)
{
    ls_client_opts o = {.server = cc->server, .state_dir = cc->state, .timeout_ms = timeout_ms};
    ls_err err = {0};

    if (ls_client_create(out, &o, &err)) {
        cli_error("%s: %s", cc->cmd, err.msg);
        return err.code == LS_EINVAL ? EXIT_USAGE : EXIT_REFUSED;
    }
    return 0;
}

static int no_server(const ls_client *c, const char *why)
{
    const char *state = ls_client_state_dir(c);
    cli_error("no lstmsweep server answers at %s (is `lstmsweep serve` running? address from "
              "%s; state dir %s): %s", ls_client_url(c), ls_client_found_by(c),
              *state ? state : "unknown", why);
    return EXIT_NO_SERVER;
}

/* A non-2xx answer: its error printed; the exit code. */
static int refused(const ls_client *c, const ls_client_reply *r)
{
    char msg[1024];

    cli_error_text(r->body, r->len, msg, sizeof msg);
    if (r->status == 401) {
        cli_error("the server at %s refused the token (%s): %s", ls_client_url(c),
                  ls_client_token_note(c), msg);
        return EXIT_TOKEN;
    }
    cli_error("%s", msg);
    return EXIT_REFUSED;
}

/* A request whose answer must be 2xx: 0, or the exit code (printed). */
static int call(ls_client *c, const char *method, const char *path, ls_client_reply *r)
{
    ls_err err = {0};
    if (ls_client_request(c, method, path, NULL, NULL, 0, r, &err))
        return err.code == LS_EIO ? no_server(c, err.msg) : (cli_error("%s", err.msg), 1);
    if (r->status / 100 != 2) {
        int rc = refused(c, r);
        ls_client_reply_free(r);
        return rc;
    }
    return 0;
}

static json_t *reply_json(const ls_client_reply *r)
{
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    if (!j)
        cli_error("the server's answer is not JSON: %.200s", r->body);
    return j;
}

/* "/api/v1/sweeps/NAME" + tail, NAME escaped; NULL when out of memory. */
static char *sweep_path(const char *name, const char *tail)
{
    char *e = ls_client_escape(name), *p = e ? ls_strprintf("/api/v1/sweeps/%s%s", e, tail)
                                             : NULL;
    ls_free(e);
    if (!p)
        cli_error("out of memory");
    return p;
}

/* GET one sweep into *s: 0 or the exit code. */
static int get_sweep(ls_client *c, const char *name, cli_sweep *s)
{
    ls_client_reply r;
    char *path = sweep_path(name, "");
    int rc = path ? call(c, "GET", path, &r) : EXIT_REFUSED;
    json_t *j;

    ls_free(path);
    if (rc)
        return rc;
    if (!(j = reply_json(&r)) || cli_sweep_parse(j, s)) {
        if (j)
            cli_error("the server's answer is not a sweep: %.200s", r.body);
        rc = EXIT_REFUSED;
    }
    json_decref(j);
    ls_client_reply_free(&r);
    return rc;
}

/* ---- submit ----------------------------------------------------------------------- */

static int print_submitted(const ls_client_reply *r)
{
    json_t *j = reply_json(r);
    const char *name, *state;

    if (!j)
        return EXIT_REFUSED;
    name = json_string_value(json_object_get(j, "name"));
    state = json_string_value(json_object_get(j, "state"));
    printf("%s: %lld jobs, %lld new (%s)\n", name ? name : "?",
           (long long)json_integer_value(json_object_get(j, "jobs")),
           (long long)json_integer_value(json_object_get(j, "new_jobs")), state ? state : "?");
    json_decref(j);
    return EXIT_OK;
}

/* A 400 on the sweep: the server's "<submitted>:LINE: ..." in the terms of
 * the user's file and --set options. */
static int bad_sweep(const ls_sweep_edit *ed, const char *file, const ls_client_reply *r)
{
    char msg[1024], *told;

    cli_error_text(r->body, r->len, msg, sizeof msg);
    told = ls_sweep_edit_message(ed, msg, "<submitted>", file);
    fprintf(stderr, "%s\n", told ? told : msg);
    ls_free(told);
    return EXIT_REFUSED;
}

static int send_sweep(ls_client *c, const client_cli *cc, const ls_sweep_edit *ed)
{
    char path[64];
    ls_client_reply r;
    ls_err err = {0};
    int rc;

    snprintf(path, sizeof path, "/api/v1/sweeps%s%s", cc->priority ? "?priority=" : "",
             cc->priority ? cc->priority : "");
    if (ls_client_request(c, "POST", path, "text/plain", ed->text, strlen(ed->text), &r, &err))
        return err.code == LS_EIO ? no_server(c, err.msg) : (cli_error("%s", err.msg), 1);
    if (r.status / 100 == 2)
        rc = print_submitted(&r);
    else if (r.status == 400 && strstr(r.body, "<submitted>"))
        rc = bad_sweep(ed, cc->args[0], &r);
    else
        rc = refused(c, &r);
    ls_client_reply_free(&r);
    return rc;
}

static int check_priority(const char *s)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (s && (!*s || *end || v < -1000 || v > 1000)) {
        cli_error("--priority '%s': expected an integer", s);
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_submit(int argc, char **argv)
{
    client_cli cc = {.cmd = "submit", .allowed = OPT_SET | OPT_PRIORITY,
                     .synopsis = "submit SWEEP.ini [--priority N] [--set S.K=V ...]",
                     .what = "Send a sweep file to the server's queue; print its name, its jobs\n"
                             "and how many are new (0 when the same sweep is there already)."};
    ls_sweep_edit ed = {0};
    unsigned char *text = NULL;
    size_t len;
    ls_client *c = NULL;
    ls_err err = {0};
    int rc = parse_client(argc, argv, &cc, 1, 1);

    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = check_priority(cc.priority)))
        return rc;
    if (ls_file_read(cc.args[0], &text, &len, &err)) {
        cli_error("%s", err.msg);
        return EXIT_REFUSED;
    }
    if (strlen((char *)text) != len) {
        /* the text would be cut there: the server would run another sweep */
        cli_error("%s: a NUL byte at offset %zu: not a sweep file", cc.args[0],
                  strlen((char *)text));
        rc = EXIT_REFUSED;
    } else if (ls_sweep_edit_apply(&ed, (char *)text, cc.sets, cc.nsets, &err)) {
        cli_error("%s", err.msg);
        rc = err.code == LS_EINVAL ? EXIT_USAGE : EXIT_REFUSED;
    } else if (!(rc = open_client(&cc, 0, &c))) {
        rc = send_sweep(c, &cc, &ed);
    }
    ls_client_destroy(c);
    ls_sweep_edit_free(&ed);
    ls_free(text);
    return rc;
}

/* ---- status, and the state changes ------------------------------------------------ */

static int status_all(ls_client *c)
{
    ls_client_reply r;
    int rc = call(c, "GET", "/api/v1/sweeps", &r);
    json_t *j, *list;

    if (rc)
        return rc;
    j = reply_json(&r);
    list = json_object_get(j, "sweeps");
    size_t n = json_array_size(list);
    cli_sweep *s = ls_calloc(n ? n : 1, sizeof *s);
    for (size_t i = 0; s && i < n; i++)
        if (cli_sweep_parse(json_array_get(list, i), &s[i]))
            rc = EXIT_REFUSED;
    if (!j || !json_is_array(list) || !s || rc) {
        cli_error("the server's answer is not a list of sweeps: %.200s", r.body);
        rc = EXIT_REFUSED;
    } else if (!n) {
        printf("no sweeps (submit one with `lstmsweep submit SWEEP.ini`)\n");
    } else {
        cli_sweep_table(stdout, s, n);
    }
    ls_free(s);
    json_decref(j);
    ls_client_reply_free(&r);
    return rc;
}

int cmd_status(int argc, char **argv)
{
    client_cli cc = {.cmd = "status", .synopsis = "status [NAME]",
                     .what = "The server's sweeps as a table (state, priority, jobs done, running,\n"
                             "queued, failed, busy cores, ETA), or sweep NAME in detail."};
    ls_client *c = NULL;
    cli_sweep s;
    int rc = parse_client(argc, argv, &cc, 0, 1);

    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = open_client(&cc, 30000, &c)))
        return rc;
    if (!cc.nargs)
        rc = status_all(c);
    else if (!(rc = get_sweep(c, cc.args[0], &s)))
        cli_sweep_detail(stdout, &s);
    ls_client_destroy(c);
    return rc;
}

/* POST /api/v1/sweeps/NAME/TAIL and print the sweep's new state. */
static int change(int argc, char **argv, const char *cmd, const char *synopsis, int nargs)
{
    client_cli cc = {.cmd = cmd, .synopsis = synopsis,
                     .what = "Pause, resume or cancel a sweep on the server, or set its priority\n"
                             "(running jobs of a paused or cancelled sweep drain to their\n"
                             "checkpoints); print its new state."};
    ls_client *c = NULL;
    ls_client_reply r;
    cli_sweep s;
    char tail[64];
    int rc = parse_client(argc, argv, &cc, nargs, nargs);
    json_t *j;

    if (rc)
        return rc < 0 ? 0 : rc;
    if (nargs == 2 && (rc = check_priority(cc.args[1])))
        return rc;
    snprintf(tail, sizeof tail, nargs == 2 ? "/priority?value=%s" : "/%s",
             nargs == 2 ? cc.args[1] : cmd);
    char *path = sweep_path(cc.args[0], tail);
    if (!path || (rc = open_client(&cc, 30000, &c)) || (rc = call(c, "POST", path, &r))) {
        ls_free(path);
        ls_client_destroy(c);
        return rc ? rc : EXIT_REFUSED;
    }
    if ((j = reply_json(&r)) && !cli_sweep_parse(j, &s))
        printf("%s: %s, priority %d\n", s.name, s.state, s.priority);
    json_decref(j);
    ls_client_reply_free(&r);
    ls_free(path);
    ls_client_destroy(c);
    return EXIT_OK;
}

int cmd_cancel(int argc, char **argv) { return change(argc, argv, "cancel", "cancel NAME", 1); }
int cmd_pause(int argc, char **argv) { return change(argc, argv, "pause", "pause NAME", 1); }
int cmd_resume(int argc, char **argv) { return change(argc, argv, "resume", "resume NAME", 1); }
int cmd_priority(int argc, char **argv)
{
    return change(argc, argv, "priority", "priority NAME N", 2);
}

/* ---- fetch ------------------------------------------------------------------------ */

static int write_reply(int fd, void *ctx, ls_err *err)
{
    const ls_client_reply *r = ctx;
    return ls_write_all(fd, r->body, r->len, err);
}

/* GET the sweep's CSV (tail) into file ("-": stdout), replaced whole. */
static int fetch_one(ls_client *c, const char *name, const char *tail, const char *file)
{
    ls_client_reply r;
    ls_err err = {0};
    char *path = sweep_path(name, tail);
    int rc = path ? call(c, "GET", path, &r) : EXIT_REFUSED;

    ls_free(path);
    if (rc)
        return rc;
    if (!strcmp(file, "-")) {
        if (fwrite(r.body, 1, r.len, stdout) != r.len || fflush(stdout)) {
            cli_error("standard output: write error");
            rc = EXIT_REFUSED;
        }
    } else if (ls_file_replace(file, write_reply, &r, &err)) {
        cli_error("%s", err.msg);
        rc = EXIT_REFUSED;
    } else {
        size_t lines = 0;
        for (size_t i = 0; i < r.len; i++)
            lines += r.body[i] == '\n';
        fprintf(stderr, "%s: %zu rows\n", file, lines ? lines - 1 : 0);
    }
    ls_client_reply_free(&r);
    return rc;
}

int cmd_fetch(int argc, char **argv)
{
    client_cli cc = {.cmd = "fetch", .allowed = OPT_OUT,
                     .synopsis = "fetch NAME [-o results.csv] [--curves curves.csv] "
                                 "[--search search.csv]",
                     .what = "Write a sweep's results CSV (the file `run` writes) and, with\n"
                             "--curves, its per-epoch curves CSV, with --search an asha\n"
                             "search's audit log; each file is replaced whole."};
    ls_client *c = NULL;
    int rc = parse_client(argc, argv, &cc, 1, 1);

    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = open_client(&cc, 0, &c)))
        return rc;
    rc = fetch_one(c, cc.args[0], "/results.csv", cc.out ? cc.out : "-");
    if (!rc && cc.curves)
        rc = fetch_one(c, cc.args[0], "/curves.csv", cc.curves);
    if (!rc && cc.search)
        rc = fetch_one(c, cc.args[0], "/search.csv", cc.search);
    ls_client_destroy(c);
    return rc;
}

/* ---- watch ------------------------------------------------------------------------ */

typedef struct watch {
    ls_client *c;
    const client_cli *cli;    /* to find the server again */
    const char *name;
    int tty;
    char shown[512];          /* the last line printed (without the ETA) */
    int finished, rc;         /* rc: an exit code to stop with */
    double last_refresh;      /* monotonic s */
    int dirty;                /* an event since the last refresh */
    time_t down_since;        /* 0: the server answered last time */
} watch;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void show(watch *w, const cli_sweep *s)
{
    char line[512], eta[600];

    cli_sweep_progress(line, sizeof line, s, 0);
    if (w->tty) {
        cli_sweep_progress(eta, sizeof eta, s, 1);
        printf("\r\033[K%s%s", eta, cli_sweep_finished(s) ? "\n" : "");
    } else if (strcmp(line, w->shown)) {
        printf("%s\n", line);
    }
    fflush(stdout);
    snprintf(w->shown, sizeof w->shown, "%s", line);
}

/* GET the sweep and show it; 1 to stop (finished, or an answer that ends
 * the watch), 0 to go on (also when no server answers: the stream says). */
static int refresh(watch *w)
{
    ls_client_reply r;
    ls_err err = {0};
    cli_sweep s;
    char *path = sweep_path(w->name, "");
    int rc = path ? ls_client_request(w->c, "GET", path, NULL, NULL, 0, &r, &err) : LS_ENOMEM;

    ls_free(path);
    w->last_refresh = now_s();
    w->dirty = 0;
    if (rc)
        return rc == LS_EIO ? 0 : (w->rc = EXIT_REFUSED);
    w->down_since = 0;
    json_t *j = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    if (r.status != 200)
        w->rc = refused(w->c, &r);
    else if (!j || cli_sweep_parse(j, &s))
        w->rc = EXIT_REFUSED, cli_error("the server's answer is not a sweep: %.200s", r.body);
    else {
        w->finished = cli_sweep_finished(&s);
        show(w, &s);
    }
    json_decref(j);
    ls_client_reply_free(&r);
    return w->rc || w->finished;
}

/* Whether an event is about our sweep: its data's "sweep". */
static int about(const watch *w, const char *type, const char *data)
{
    if (!strcmp(type, "lost"))
        return 1;                      /* missed events: look again */
    if (strcmp(type, "job_started") && strcmp(type, "job_ended") && strcmp(type, "epoch") &&
        strcmp(type, "sweep_state"))
        return 0;
    json_t *j = json_loads(data, 0, NULL);
    const char *s = json_string_value(json_object_get(j, "sweep"));
    int yes = s && !strcmp(s, w->name);
    json_decref(j);
    return yes;
}

static int watch_event(void *ctx, const char *id, const char *type, const char *data)
{
    watch *w = ctx;
    if (!about(w, type, data))
        return 0;
    /* epochs of tiny jobs come by the hundred: one refresh for a burst,
     * the tick catches up with the last of it */
    if ((now_s() - w->last_refresh) * 1000 < WATCH_MIN_GAP_MS)
        return w->dirty = 1, 0;
    return refresh(w);
}

static int watch_tick(void *ctx)
{
    watch *w = ctx;
    return w->dirty || now_s() - w->last_refresh >= WATCH_POLL_S ? refresh(w) : 0;
}

/* A stream ended without our say: reconnect, or give up after a while. */
static int stream_lost(watch *w, const char *why)
{
    time_t now = time(NULL);

    if (!w->down_since) {
        w->down_since = now;
        if (w->tty)
            printf("\n");
        fprintf(stderr, "lstmsweep: watch: the event stream was lost (%s); reconnecting\n", why);
    } else if (now - w->down_since > WATCH_GIVE_UP_S) {
        return no_server(w->c, why);
    }
    sleep(1);
    /* a restarted server may listen elsewhere (port 0) with a new token:
     * look it up again, as at the start */
    ls_client *again = NULL;
    if (!open_client(w->cli, 30000, &again)) {
        ls_client_destroy(w->c);
        w->c = again;
    }
    return 0;
}

static int watch_loop(watch *w)
{
    char last_id[LS_SSE_ID_MAX] = "";
    ls_client_reply fail;
    ls_err err = {0};
    int stop, rc;

    for (;;) {
        rc = ls_client_events(w->c, last_id, watch_event, watch_tick, w, &stop, &fail, &err);
        if (stop)
            return w->rc;
        if (!rc) {                     /* the server refused the stream */
            rc = refused(w->c, &fail);
            ls_client_reply_free(&fail);
            return rc;
        }
        if (rc != LS_EIO) {
            cli_error("watch: %s", err.msg);
            return EXIT_REFUSED;
        }
        if ((rc = stream_lost(w, err.msg)))
            return rc;
        /* the next stream starts with a refresh: what happened meanwhile */
        w->dirty = 1;
    }
}

int cmd_watch(int argc, char **argv)
{
    client_cli cc = {.cmd = "watch", .synopsis = "watch NAME",
                     .what = "Follow a sweep on the server's event stream until it is done or\n"
                             "cancelled (exit 0): one redrawn line on a terminal, else a line per\n"
                             "change.  A lost stream is reconnected (for up to 2 minutes)."};
    watch w = {.tty = isatty(STDOUT_FILENO), .cli = &cc};
    cli_sweep s;
    int rc = parse_client(argc, argv, &cc, 1, 1);

    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = open_client(&cc, 30000, &w.c)))
        return rc;
    w.name = cc.args[0];
    if (!(rc = get_sweep(w.c, w.name, &s))) {
        w.last_refresh = now_s();
        w.dirty = 1;          /* look again once the stream is open: no gap */
        show(&w, &s);
        if (!cli_sweep_finished(&s))
            rc = watch_loop(&w);
    }
    ls_client_destroy(w.c);
    return rc;
}
