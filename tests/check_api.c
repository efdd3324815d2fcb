/* check_api.c - the server's HTTP API as a pure function (api.h), without
 * a network: authentication, routing, submission and its refusals (paths,
 * data roots, names, sizes), pagination, jobs, state changes and the
 * attempt fence seen through the API, CSVs, metrics, the event ring and
 * the token file. */
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/api.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/events.h"
#include "lstmsweep/results.h"
#include "lstmsweep/searchrun.h"
#include "lstmsweep/store.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/token.h"

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char dir[64], root[128];
static ls_store *store;
static ls_events *events;
static ls_api *api;
static int state_changes;
static const char *auth = "Bearer " TOKEN;   /* the next call's Authorization */
static ls_api_kv extra[6];                     /* and its other headers */
static size_t nextra;

/* dir/rel with text. */
static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* ---- fake hooks ---- */

static void fake_node(void *ctx, ls_node_status *o)
{
    *o = (ls_node_status){.busy_cores = 3, .total_cores = 8, .mem_total_bytes = 1e9,
                          .mem_used_bytes = 2e8, .samples_per_s = 1234.5};
}

static int fake_busy(void *ctx, const char *sweep)
{
    return 2;
}

static int fake_curve(void *ctx, const char *id, ls_curve_point **pts, size_t *n, ls_err *err)
{
    *pts = ls_calloc(2, sizeof **pts);
    (*pts)[0] = (ls_curve_point){1, 0.5, 0.25, -1, -1, 1.0};
    (*pts)[1] = (ls_curve_point){2, 0.4, 0.2, 0.1, 0.125, 2.0};
    *n = 2;
    return 0;
}

static int fake_curves_csv(void *ctx, const char *sweep, FILE *f, ls_err *err)
{
    fprintf(f, "%s\nfake-%s,1,0.5,0.25,,,1\n", LS_CURVE_COLUMNS, sweep);
    return 0;
}

static void fake_change(void *ctx, const char *sweep)
{
    state_changes++;
}

static void make_api(int with_hooks)
{
    char state[128], web[128];
    const char *roots[] = {root};
    ls_err err = {0};
    ls_api_config cfg = {.store = store, .events = events, .state_dir = state,
                         .data_roots = roots, .ndata_roots = 1, .token = TOKEN,
                         .web_root = web};

    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(web, sizeof web, "%s/web", dir);
    if (with_hooks)
        cfg.hooks = (ls_api_hooks){.node_status = fake_node, .busy_cores_of = fake_busy,
                                   .curve_of = fake_curve, .curves_csv = fake_curves_csv,
                                   .on_state_change = fake_change};
    ls_api_destroy(api);
    ck_assert_msg(ls_api_create(&api, &cfg, &err) == 0, "%s", err.msg);
}

static void setup(void)
{
    char path[192];
    ls_err err = {0};

    ls_test_mkdtemp(dir, sizeof dir, "api");
    snprintf(root, sizeof root, "%s/root", dir);
    snprintf(path, sizeof path, "%s/root/mnist", dir);
    ck_assert(mkdir(root, 0700) == 0 && mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/outside", dir);
    ck_assert(mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/web", dir);     /* the dashboard's files */
    ck_assert(mkdir(path, 0700) == 0);
    write_file("web/index.html", "<p>the app</p>\n");
    write_file("web/app.js", "export {};\n");
    write_file("web/.hidden.js", "secret\n");
    write_file("web/notes.md", "not a served type\n");
    snprintf(path, sizeof path, "%s/state.db", dir);
    ck_assert_msg(ls_store_open(&store, path, NULL, &err) == 0, "%s", err.msg);
    ck_assert(ls_events_create(&events, 8, &err) == 0);
    state_changes = 0;
    auth = "Bearer " TOKEN;
    nextra = 0;
    make_api(1);
}

static void teardown(void)
{
    ls_api_destroy(api);
    api = NULL;
    ls_events_destroy(events);
    ls_store_close(store);
    ls_test_rmtree(dir);
}

/* ---- requests ---- */

/* target: path with an optional "?k=v&k=v" (no decoding needed here). */
static ls_api_response call(const char *method, const char *target, const char *body)
{
    static char buf[1024];
    ls_api_kv query[16], headers[12];
    size_t nq = 0, nh = 0;
    ls_api_response r;
    char *q;

    snprintf(buf, sizeof buf, "%s", target);
    if ((q = strchr(buf, '?'))) {
        *q++ = '\0';
        for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && nq < 16;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (eq)
                *eq++ = '\0';
            query[nq++] = (ls_api_kv){kv, eq};
        }
    }
    if (auth)
        headers[nh++] = (ls_api_kv){"authorization", auth};
    if (body)
        headers[nh++] = (ls_api_kv){"Content-Type", "text/plain; charset=utf-8"};
    for (size_t i = 0; i < nextra; i++)
        headers[nh++] = extra[i];
    ls_api_request req = {.method = method, .path = buf, .query = query, .nquery = nq,
                          .headers = headers, .nheaders = nh, .body = body,
                          .body_len = body ? strlen(body) : 0};
    ls_api_handle(api, &req, &r);
    return r;
}

/* The call's JSON body, asserting its status (the caller decrefs). */
static json_t *call_json(const char *method, const char *target, const char *body, int want)
{
    ls_api_response r = call(method, target, body);
    json_error_t e;
    json_t *j = json_loadb(r.body, r.body_len, 0, &e);

    ck_assert_msg(r.status == want, "%s %s: status %d, want %d: %.*s", method, target,
                  r.status, want, (int)r.body_len, r.body);
    ck_assert_msg(j != NULL, "%s %s: not JSON: %.*s", method, target, (int)r.body_len, r.body);
    ck_assert_str_eq(r.content_type, "application/json");
    ls_api_response_free(&r);
    return j;
}

/* Assert an error status whose message contains want_msg. */
static void expect_error(const char *method, const char *target, const char *body, int status,
                         const char *want_msg)
{
    json_t *j = call_json(method, target, body, status);
    const char *msg = json_string_value(json_object_get(j, "error"));
    ck_assert_msg(msg && strstr(msg, want_msg), "%s %s: error '%s' lacks '%s'", method,
                  target, msg ? msg : "(none)", want_msg);
    json_decref(j);
}

static long long jint(json_t *j, const char *path)
{
    char buf[128], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
        j = json_object_get(j, k);
    ck_assert_msg(json_is_integer(j), "%s is not an integer", path);
    return json_integer_value(j);
}

static const char *jstr(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    ck_assert_msg(s != NULL, "%s is not a string", key);
    return s;
}

/* GET target: the integer at path must be want. */
static void expect_int(const char *target, const char *path, long long want)
{
    json_t *j = call_json("GET", target, NULL, 200);
    ck_assert_msg(jint(j, path) == want, "GET %s: %s is %lld, want %lld", target, path,
                  jint(j, path), want);
    json_decref(j);
}

/* 4 jobs: hidden 4, 8 times seeds 1, 2 */
static const char sweep4[] =
    "[sweep]\nname = s4\nseeds = 1, 2\n[bitcount]\nhidden = 4, 8\nbits = 4\n"
    "train_size = 10\nepochs = 1\n";

static void submit4(void)
{
    json_t *j = call_json("POST", "/api/v1/sweeps", sweep4, 201);
    ck_assert_int_eq(jint(j, "jobs"), 4);
    json_decref(j);
}

/* ---- Core ---- */

START_TEST(test_api_auth)
{
    ls_api_response r;

    auth = NULL;
    expect_error("GET", "/api/v1/sweeps", NULL, 401, "token");
    expect_error("GET", "/no/such/route", NULL, 401, "token");   /* before the 404 */
    auth = "Bearer " TOKEN "0";
    expect_error("GET", "/api/v1/sweeps", NULL, 401, "token");
    auth = "Bearer 0123456789abcdef";                             /* a prefix */
    expect_error("GET", "/metrics", NULL, 401, "token");
    auth = TOKEN;                                                 /* no scheme */
    expect_error("GET", "/api/v1/sweeps", NULL, 401, "token");
    auth = "Basic " TOKEN;
    expect_error("GET", "/api/v1/sweeps", NULL, 401, "token");
    auth = NULL;
    json_decref(call_json("GET", "/healthz", NULL, 200));          /* the exception */
    auth = "bearer " TOKEN;                                       /* scheme: any case */
    json_decref(call_json("GET", "/api/v1/sweeps", NULL, 200));
    r = call("GET", "/metrics", NULL);
    ck_assert_int_eq(r.status, 200);
    ls_api_response_free(&r);
    ck_assert(ls_token_equal(TOKEN, TOKEN));
    ck_assert(!ls_token_equal(TOKEN, TOKEN "x"));
    ck_assert(!ls_token_equal("", TOKEN));
    ck_assert(!ls_token_equal("a", "b"));
}
END_TEST

START_TEST(test_api_routes)
{
    ls_api_response r;

    expect_error("GET", "/api/v1/nothing", NULL, 404, "no such route");
    expect_error("GET", "/api/v1/sweeps/", NULL, 404, "no such route");
    expect_error("GET", "/api/v1/sweeps/a/b/c", NULL, 404, "no such route");
    r = call("DELETE", "/api/v1/sweeps", NULL);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(r.allow, "GET, POST");
    ls_api_response_free(&r);
    expect_error("GET", "/api/v1/sweeps/x/cancel", NULL, 405, "allowed: POST");
    expect_error("POST", "/api/v1/jobs/0123456789abcdef", NULL, 405, "allowed: GET");
    expect_error("GET", "/api/v1/sweeps/nope", NULL, 404, "no sweep named 'nope'");
    expect_error("GET", "/api/v1/sweeps/..", NULL, 400, "sweep name");
    expect_error("GET", "/api/v1/sweeps/a%2fb", NULL, 400, "sweep name");
    r = call("HEAD", "/healthz", NULL);
    ck_assert_int_eq(r.status, 200);
    ls_api_response_free(&r);
}
END_TEST

START_TEST(test_api_submit_and_resubmit)
{
    json_t *j, *w;

    j = call_json("POST", "/api/v1/sweeps?priority=7", sweep4, 201);
    ck_assert_str_eq(jstr(j, "name"), "s4");
    ck_assert_int_eq(jint(j, "jobs"), 4);
    ck_assert_int_eq(jint(j, "new_jobs"), 4);
    json_decref(j);
    ck_assert_int_eq(state_changes, 1);
    /* the same text again: a no-op, 200 */
    j = call_json("POST", "/api/v1/sweeps", sweep4, 200);
    ck_assert_int_eq(jint(j, "new_jobs"), 0);
    ck_assert_int_eq(jint(j, "jobs"), 4);
    json_decref(j);
    /* another text under the name: 409 */
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = s4\n[bitcount]\nbits = 4\n"
                 "train_size = 10\n", 409, "exists with another definition");
    w = call_json("GET", "/api/v1/sweeps/s4", NULL, 200);
    ck_assert_str_eq(jstr(w, "state"), "active");
    ck_assert_int_eq(jint(w, "priority"), 7);
    ck_assert_int_eq(jint(w, "jobs.total"), 4);
    ck_assert_int_eq(jint(w, "jobs.queued"), 4);
    ck_assert_int_eq(jint(w, "busy_cores"), 2);
    ck_assert(json_real_value(json_object_get(w, "left_core_seconds")) > 0);
    ck_assert(json_is_real(json_object_get(w, "eta_seconds")));
    json_decref(w);
    j = call_json("GET", "/api/v1/sweeps", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "sweeps")), 1);
    json_decref(j);
}
END_TEST

START_TEST(test_api_submit_refusals)
{
    char big[LS_API_BODY_MAX + 16];
    ls_api_response r;

    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = x\n[bitcount]\nhiddn = 3\n", 400,
                 "<submitted>:4: [bitcount] hiddn: unknown key");
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = x\nresults = /etc/passwd\n"
                 "[bitcount]\n", 400, "<submitted>:3: [sweep] results: not allowed here");
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = x\ncurves = c.csv\n[bitcount]\n",
                 400, "<submitted>:3: [sweep] curves: not allowed here");
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = x\n\ncheckpoints = /tmp\n"
                 "[bitcount]\n", 400, "<submitted>:4: [sweep] checkpoints: not allowed here");
    expect_error("POST", "/api/v1/sweeps", "[bitcount]\nbits = 4\ntrain_size = 10\n", 400,
                 "must be named");
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = a/b\n[bitcount]\n", 400,
                 "contains '/'");
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = ..\n[bitcount]\n", 400,
                 "sweep name");
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = a b\n[bitcount]\n", 400,
                 "sweep name");
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = a..b\n[bitcount]\n", 400,
                 "sweep name");
    expect_error("GET", "/api/v1/sweeps/a..b", NULL, 400, "sweep name");
    expect_error("POST", "/api/v1/sweeps?priority=x", sweep4, 400, "priority");
    expect_error("POST", "/api/v1/sweeps", "", 400, "no [bitcount] or [mnist] section");
    /* an asha search the loader refuses (it stops jobs itself): 400, as in run */
    expect_error("POST", "/api/v1/sweeps", "[sweep]\nname = s\n[search]\nmethod = asha\n"
                 "[bitcount]\ntarget_error = 0.01\n", 400, "target_error");
    /* over the body limit: 413, whatever the text */
    for (size_t i = 0; i < sizeof big - 1; i++)     /* comment lines */
        big[i] = i % 64 == 63 ? '\n' : ';';
    big[sizeof big - 1] = '\0';
    expect_error("POST", "/api/v1/sweeps", big, 413, "larger than");
    big[LS_API_BODY_MAX] = '\0';                    /* exactly the limit: parsed */
    expect_error("POST", "/api/v1/sweeps", big, 400, "no [bitcount]");
    /* not text/plain */
    extra[0] = (ls_api_kv){"Content-Type", "application/json"};
    ls_api_request req = {.method = "POST", .path = "/api/v1/sweeps", .headers = extra,
                          .nheaders = 2, .body = sweep4, .body_len = strlen(sweep4)};
    extra[1] = (ls_api_kv){"Authorization", "Bearer " TOKEN};
    ls_api_handle(api, &req, &r);
    ck_assert_int_eq(r.status, 415);
    ls_api_response_free(&r);
    req.nheaders = 1;                               /* no Content-Type: 415 too */
    req.headers = extra + 1;
    ls_api_handle(api, &req, &r);
    ck_assert_int_eq(r.status, 415);
    ls_api_response_free(&r);
    ck_assert_int_eq(state_changes, 0);
    expect_error("GET", "/api/v1/sweeps/x", NULL, 404, "no sweep");
}
END_TEST

/* mnist sweeps with data dir; 201 or the refusal */
static void submit_data(const char *data, int status, const char *msg)
{
    char text[512];
    static int k;
    snprintf(text, sizeof text, "[sweep]\nname = m%d\n[mnist]\ndata = %s\nepochs = 1\n", k++,
             data);
    if (status == 201)
        json_decref(call_json("POST", "/api/v1/sweeps", text, 201));
    else
        expect_error("POST", "/api/v1/sweeps", text, status, msg);
}

START_TEST(test_api_data_roots)
{
    char p[256], link[256];

    snprintf(p, sizeof p, "%s/mnist", root);
    submit_data(p, 201, NULL);
    submit_data(root, 201, NULL);                       /* the root itself */
    snprintf(p, sizeof p, "%s/outside", dir);
    submit_data(p, 400, "not under a data root");
    snprintf(p, sizeof p, "%s/../outside", root);       /* .. out of it */
    submit_data(p, 400, "not under a data root");
    snprintf(p, sizeof p, "%s/outside", dir);
    snprintf(link, sizeof link, "%s/escape", root);     /* a symlink out of it */
    ck_assert(symlink(p, link) == 0);
    submit_data(link, 400, "not under a data root");
    snprintf(p, sizeof p, "%s", dir);                   /* root's parent */
    submit_data(p, 400, "not under a data root");
    snprintf(p, sizeof p, "%sx", root);                 /* a sibling sharing a prefix */
    ck_assert(mkdir(p, 0700) == 0);
    submit_data(p, 400, "not under a data root");
    submit_data("/", 400, "not under a data root");
    /* outside, the answer is the same whether the path exists or not: a
     * client learns nothing of what exists there */
    submit_data("/nonexistent/secret", 400, "not under a data root");
    snprintf(p, sizeof p, "%s/../nonexistent", root);
    submit_data(p, 400, "not under a data root");
    /* inside, it may say more */
    snprintf(p, sizeof p, "%s/missing", root);
    submit_data(p, 400, "/missing' not found");
    snprintf(p, sizeof p, "%s/a-file", root);
    FILE *f = fopen(p, "w");
    ck_assert(f && fclose(f) == 0);
    submit_data(p, 400, "is not a directory");
    /* one refused value in a list refuses the sweep */
    snprintf(p, sizeof p, "%s/mnist, %s/outside", root, dir);
    submit_data(p, 400, "not under a data root");
}
END_TEST

START_TEST(test_api_paths_under_state)
{
    ls_sweep *sw = NULL;
    char want[256];
    ls_err err = {0};

    ck_assert_msg(ls_api_load_sweep(api, sweep4, &sw, &err) == 0, "%s", err.msg);
    snprintf(want, sizeof want, "%s/state/sweeps/s4/results.csv", dir);
    ck_assert_str_eq(sw->results, want);
    snprintf(want, sizeof want, "%s/state/sweeps/s4/curves.csv", dir);
    ck_assert_str_eq(sw->curves, want);
    snprintf(want, sizeof want, "%s/state/sweeps/s4/ckpt", dir);
    ck_assert_str_eq(sw->checkpoints, want);
    ls_sweep_destroy(sw);
}
END_TEST

/* 2000 jobs: 50 hidden sizes x 40 seeds */
static void submit_big(void)
{
    char text[1024] = "[sweep]\nname = big\nseeds = 1";
    for (int s = 2; s <= 40; s++)
        snprintf(text + strlen(text), sizeof text - strlen(text), ",%d", s);
    strcat(text, "\n[bitcount]\nbits = 4\ntrain_size = 10\nepochs = 1\nhidden = 1");
    for (int h = 2; h <= 50; h++)
        snprintf(text + strlen(text), sizeof text - strlen(text), ",%d", h);
    strcat(text, "\n");
    json_t *j = call_json("POST", "/api/v1/sweeps", text, 201);
    ck_assert_int_eq(jint(j, "jobs"), 2000);
    json_decref(j);
}

START_TEST(test_api_jobs_pages)
{
    json_t *j, *jobs;

    submit_big();
    j = call_json("GET", "/api/v1/sweeps/big/jobs?offset=1950&limit=100", NULL, 200);
    ck_assert_int_eq(jint(j, "total"), 2000);
    jobs = json_object_get(j, "jobs");
    ck_assert_uint_eq(json_array_size(jobs), 50);
    ck_assert_int_eq(jint(json_array_get(jobs, 0), "pos"), 1950);
    ck_assert_str_eq(jstr(json_array_get(jobs, 0), "state"), "queued");
    json_decref(j);
    j = call_json("GET", "/api/v1/sweeps/big/jobs", NULL, 200);       /* default page */
    ck_assert_uint_eq(json_array_size(json_object_get(j, "jobs")), 100);
    ck_assert_int_eq(jint(j, "limit"), 100);
    json_decref(j);
    expect_int("/api/v1/sweeps/big/jobs?status=done", "total", 0);
    j = call_json("GET", "/api/v1/sweeps/big/jobs?status=queued&limit=1000", NULL, 200);
    ck_assert_int_eq(jint(j, "total"), 2000);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "jobs")), 1000);
    json_decref(j);
    expect_error("GET", "/api/v1/sweeps/big/jobs?status=bogus", NULL, 400, "unknown job status");
    expect_error("GET", "/api/v1/sweeps/big/jobs?limit=0", NULL, 400, "limit");
    expect_error("GET", "/api/v1/sweeps/big/jobs?limit=1001", NULL, 400, "limit");
    expect_error("GET", "/api/v1/sweeps/big/jobs?offset=-1", NULL, 400, "offset");
    expect_error("GET", "/api/v1/sweeps/big/jobs?offset=1x", NULL, 400, "offset");
    expect_error("GET", "/api/v1/sweeps/none/jobs", NULL, 404, "no sweep");
}
END_TEST

/* The id of the sweep's job at pos. */
static void job_at(const char *sweep, int pos, char id[LS_JOB_ID_LEN])
{
    char target[128];
    snprintf(target, sizeof target, "/api/v1/sweeps/%s/jobs?offset=%d&limit=1", sweep, pos);
    json_t *j = call_json("GET", target, NULL, 200);
    snprintf(id, LS_JOB_ID_LEN, "%s", jstr(json_array_get(json_object_get(j, "jobs"), 0), "id"));
    json_decref(j);
}

/* A results row for id in today's layout: status and hidden set. */
static void make_row(char *row, size_t cap, const char *id, const char *status)
{
    snprintf(row, cap, "%s,s4,bitcount,8,1000,1,lstm,f32,1,0.001,0,1,4,10,3,,-1,1,,%s,1,,0.5,0.25,0.1,"
             "0.125,"
             "1.5,1.2,0.1,100,0.5,1,0,-1,host,2026-01-01T00:00:00Z,2026-01-01T00:00:01Z,"
             "2.6.3,avx2,0.1.0,\"a, quoted \"\"note\"\"\"", id, status);
}

/* Claim the sweep's job at pos; its id into id, the attempt returned. */
static int claim_at(const char *sweep, int pos, char id[LS_JOB_ID_LEN])
{
    int attempt = -1;
    ls_err err = {0};
    job_at(sweep, pos, id);
    ck_assert_msg(ls_store_claim(store, sweep, id, &attempt, &err) == 0, "%s", err.msg);
    return attempt;
}

/* End the claimed job with a row of that status. */
static void finish_as(const char *sweep, const char *id, int attempt, const char *status,
                      double core_s)
{
    char row[512];
    ls_err err = {0};
    make_row(row, sizeof row, id, status);
    ck_assert_msg(ls_store_finish(store, sweep, id, attempt, status, row, core_s, &err) == 0,
                  "%s", err.msg);
    /* as the scheduler does: the event that also tells the API's cache */
    ck_assert(ls_events_job_ended(events, sweep, id, attempt, status, &err) == 0);
}

/* The polled answers are remembered for a second, but never past an event
 * or a request that may change something (api_cache.c). */
START_TEST(test_api_cache)
{
    char id[LS_JOB_ID_LEN];
    ls_api_response r;
    ls_err err = {0};

    submit4();
    int attempt = claim_at("s4", 0, id);
    r = call("GET", "/api/v1/sweeps/s4", NULL);
    ck_assert_msg(strstr(r.body, "\"running\":1"), "%s", r.body);
    ls_api_response_free(&r);
    /* the store changes behind the API's back: the answer is the cached one */
    char row[512];
    make_row(row, sizeof row, id, "ok");
    ck_assert(ls_store_finish(store, "s4", id, attempt, "ok", row, 1, &err) == 0);
    r = call("GET", "/api/v1/sweeps/s4", NULL);
    ck_assert_msg(strstr(r.body, "\"running\":1"), "%s", r.body);
    ls_api_response_free(&r);
    /* an event: fresh again */
    ck_assert(ls_events_job_ended(events, "s4", id, attempt, "ok", &err) == 0);
    r = call("GET", "/api/v1/sweeps/s4", NULL);
    ck_assert_msg(strstr(r.body, "\"running\":0"), "%s", r.body);
    ls_api_response_free(&r);
    /* a POST (here one that fails): fresh again too */
    ck_assert(ls_store_set_priority(store, "s4", 7, &err) == 0);
    r = call("POST", "/api/v1/sweeps/nope/pause", NULL);
    ls_api_response_free(&r);
    r = call("GET", "/api/v1/sweeps/s4", NULL);
    ck_assert_msg(strstr(r.body, "\"priority\":7"), "%s", r.body);
    ls_api_response_free(&r);
    /* and a second later */
    ck_assert(ls_store_set_priority(store, "s4", 3, &err) == 0);
    usleep(1100 * 1000);
    r = call("GET", "/api/v1/sweeps/s4", NULL);
    ck_assert_msg(strstr(r.body, "\"priority\":3"), "%s", r.body);
    ls_api_response_free(&r);
}
END_TEST

START_TEST(test_api_job)
{
    char id[LS_JOB_ID_LEN], target[64];
    json_t *j, *r;

    submit4();
    job_at("s4", 0, id);
    snprintf(target, sizeof target, "/api/v1/jobs/%s", id);
    j = call_json("GET", target, NULL, 200);
    ck_assert(json_is_null(json_object_get(j, "row")));
    ck_assert_str_eq(jstr(json_array_get(json_object_get(j, "sweeps"), 0), "sweep"), "s4");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "curve")), 2);
    json_decref(j);
    finish_as("s4", id, claim_at("s4", 0, id), "ok", 1.0);
    j = call_json("GET", target, NULL, 200);
    r = json_object_get(j, "row");
    ck_assert_str_eq(jstr(r, "status"), "ok");
    ck_assert_str_eq(jstr(r, "job_id"), id);
    ck_assert_str_eq(jstr(r, "message"), "a, quoted \"note\"");
    ck_assert(json_number_value(json_object_get(r, "hidden")) == 8);
    ck_assert(json_is_null(json_object_get(r, "data")) || !strcmp(jstr(r, "data"), ""));
    ck_assert_str_eq(jstr(json_array_get(json_object_get(j, "sweeps"), 0), "status"), "ok");
    json_t *c = json_array_get(json_object_get(j, "curve"), 0);
    ck_assert(json_is_null(json_object_get(c, "test_error")));
    json_decref(j);
    expect_error("GET", "/api/v1/jobs/0123456789abcdeg", NULL, 400, "not a job id");
    expect_error("GET", "/api/v1/jobs/0123", NULL, 400, "not a job id");
    expect_error("GET", "/api/v1/jobs/0000000000000000", NULL, 404, "no sweep has job");
    /* a job paused at a rung is queued, listed paused, counted in results */
    job_at("s4", 1, id);
    finish_as("s4", id, claim_at("s4", 1, id), "paused", 1.0);
    j = call_json("GET", "/api/v1/sweeps/s4", NULL, 200);
    json_t *res = json_object_get(j, "results");
    ck_assert_int_eq(json_integer_value(json_object_get(res, "paused")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(res, "stopped")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(res, "ok")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "jobs"), "queued")), 3);
    json_decref(j);
    expect_int("/api/v1/sweeps/s4/jobs?status=paused", "total", 1);
}
END_TEST

static const char *state_of(const char *name)
{
    static char st[16];
    char target[128];
    snprintf(target, sizeof target, "/api/v1/sweeps/%s", name);
    json_t *j = call_json("GET", target, NULL, 200);
    snprintf(st, sizeof st, "%s", jstr(j, "state"));
    json_decref(j);
    return st;
}

START_TEST(test_api_state_changes)
{
    json_t *j;
    ls_event e;

    submit4();
    j = call_json("POST", "/api/v1/sweeps/s4/pause", NULL, 200);
    ck_assert_str_eq(jstr(j, "state"), "paused");
    json_decref(j);
    json_decref(call_json("POST", "/api/v1/sweeps/s4/pause", NULL, 200));   /* again: fine */
    ck_assert_str_eq(state_of("s4"), "paused");
    json_decref(call_json("POST", "/api/v1/sweeps/s4/resume", NULL, 200));
    ck_assert_str_eq(state_of("s4"), "active");
    j = call_json("POST", "/api/v1/sweeps/s4/priority?value=-5", NULL, 200);
    ck_assert_int_eq(jint(j, "priority"), -5);
    json_decref(j);
    expect_error("POST", "/api/v1/sweeps/s4/priority", NULL, 400, "value: missing");
    expect_error("POST", "/api/v1/sweeps/s4/priority?value=9999999", NULL, 400, "value");
    j = call_json("POST", "/api/v1/sweeps/s4/cancel", NULL, 200);
    ck_assert_str_eq(jstr(j, "state"), "cancelled");
    ck_assert_int_eq(jint(j, "jobs.cancelled"), 4);
    ck_assert(json_is_null(json_object_get(j, "eta_seconds")));
    json_decref(j);
    expect_error("POST", "/api/v1/sweeps/s4/resume", NULL, 409, "is cancelled");
    expect_error("POST", "/api/v1/sweeps/s4/pause", NULL, 409, "is cancelled");
    expect_error("POST", "/api/v1/sweeps/none/cancel", NULL, 404, "no sweep");
    expect_error("POST", "/api/v1/sweeps/none/priority?value=1", NULL, 404, "no sweep");
    /* submit, pause, pause, resume, priority, cancel: 6 changes and events */
    ck_assert_int_eq(state_changes, 6);
    ck_assert_uint_eq(ls_events_last(events), 6);
    ck_assert_int_eq(ls_events_next(events, 5, 0, &e), 1);
    ck_assert_str_eq(e.type, "sweep_state");
    ck_assert_str_eq(e.data, "{\"sweep\":\"s4\",\"state\":\"cancelled\",\"priority\":-5}");
}
END_TEST

/* Cancelling through the API while a job runs: the running job keeps its
 * attempt, a stale end is refused, its own end is taken, and a cancelled
 * sweep cannot be resumed into running more. */
START_TEST(test_api_fence)
{
    char id[LS_JOB_ID_LEN], other[LS_JOB_ID_LEN], row[512];
    int attempt, a2;
    ls_err err = {0};
    json_t *j;

    submit4();
    job_at("s4", 1, other);
    attempt = claim_at("s4", 0, id);
    j = call_json("POST", "/api/v1/sweeps/s4/cancel", NULL, 200);
    ck_assert_int_eq(jint(j, "jobs.running"), 1);
    ck_assert_int_eq(jint(j, "jobs.cancelled"), 3);
    json_decref(j);
    make_row(row, sizeof row, id, "ok");
    ck_assert_int_eq(ls_store_finish(store, "s4", id, attempt - 1, "ok", row, 1, &err),
                     LS_ECONFLICT);
    expect_error("POST", "/api/v1/sweeps/s4/resume", NULL, 409, "cancelled");
    ck_assert_int_eq(ls_store_claim(store, "s4", other, &a2, &err), LS_ECONFLICT);
    finish_as("s4", id, attempt, "ok", 1);
    j = call_json("GET", "/api/v1/sweeps/s4", NULL, 200);
    ck_assert_int_eq(jint(j, "jobs.running"), 0);
    ck_assert_int_eq(jint(j, "jobs.done"), 1);
    ck_assert_int_eq(jint(j, "results.ok"), 1);
    json_decref(j);
    expect_int("/api/v1/sweeps/s4/jobs?status=ok", "total", 1);
    expect_int("/api/v1/sweeps/s4/jobs?status=cancelled", "total", 3);
}
END_TEST

START_TEST(test_api_csv)
{
    char id[LS_JOB_ID_LEN], row[512];
    ls_api_response r;

    submit4();
    finish_as("s4", id, claim_at("s4", 2, id), "diverged", 1);
    make_row(row, sizeof row, id, "diverged");
    r = call("GET", "/api/v1/sweeps/s4/results.csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/csv");
    ck_assert_uint_eq(r.body_len, strlen(LS_RESULTS_COLUMNS) + strlen(row) + 2);
    ck_assert(!strncmp(r.body, LS_RESULTS_COLUMNS "\n", strlen(LS_RESULTS_COLUMNS) + 1));
    ls_api_response_free(&r);
    r = call("GET", "/api/v1/sweeps/s4/curves.csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strstr(r.body, "fake-s4,1,"));
    ls_api_response_free(&r);
    expect_error("GET", "/api/v1/sweeps/none/results.csv", NULL, 404, "no sweep");
    expect_error("GET", "/api/v1/sweeps/none/curves.csv", NULL, 404, "no sweep");
    /* a grid has no search log: its header only; then the file, whole lines */
    r = call("GET", "/api/v1/sweeps/s4/search.csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, LS_SEARCH_LOG_COLUMNS "\n");
    ls_api_response_free(&r);
    char path[256];
    snprintf(path, sizeof path, "%s/state/sweeps/s4", dir);
    ck_assert_int_eq(ls_sys_mkdirs(path), 0);
    strcat(path, "/search.csv");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n1,bitcount,x,j,0,1,result,0.5,0.6,1,1,\n2,bitc", LS_SEARCH_LOG_COLUMNS);
    fclose(f);
    r = call("GET", "/api/v1/sweeps/s4/search.csv", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, LS_SEARCH_LOG_COLUMNS "\n1,bitcount,x,j,0,1,result,0.5,0.6,1,1,\n");
    ls_api_response_free(&r);
    expect_error("GET", "/api/v1/sweeps/none/search.csv", NULL, 404, "no sweep");
}
END_TEST

/* Without curve hooks: the sweep's own curve file, whole lines only. */
START_TEST(test_api_curve_files)
{
    char id[LS_JOB_ID_LEN], path[256], target[64];
    ls_err err = {0};
    ls_api_response r;
    FILE *f;

    make_api(0);
    submit4();
    r = call("GET", "/api/v1/sweeps/s4/curves.csv", NULL);   /* none yet: the header */
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, strlen(LS_CURVE_COLUMNS "\n"));
    ls_api_response_free(&r);
    job_at("s4", 1, id);
    snprintf(path, sizeof path, "%s/state/sweeps/s4/curves.csv", dir);
    ck_assert(ls_curve_append(path, id, 1, 0.5, 0.25, -1, -1, 1.0, &err) == 0);
    ck_assert(ls_curve_append(path, "00000000000000aa", 1, 0.9, 0.5, 0.4, 0.5, 1.0, &err) == 0);
    ck_assert(ls_curve_append(path, id, 2, 0.25, 0.125, 0.05, 0.0625, 2.0, &err) == 0);
    ck_assert((f = fopen(path, "a")) && fputs(id, f) >= 0 && fclose(f) == 0);   /* torn */
    r = call("GET", "/api/v1/sweeps/s4/curves.csv", NULL);
    ck_assert_int_eq(r.status, 200);
    char want[512];
    snprintf(want, sizeof want, "%s\n%s,1,0.5,0.25,,,1.000\n00000000000000aa,1,0.9,0.5,0.4,0.5,"
             "1.000\n%s,2,0.25,0.125,0.05,0.0625,2.000\n", LS_CURVE_COLUMNS, id, id);
    ck_assert_uint_eq(r.body_len, strlen(want));                /* the torn line left out */
    ck_assert(!memcmp(r.body, want, r.body_len));
    ls_api_response_free(&r);
    snprintf(target, sizeof target, "/api/v1/jobs/%s", id);
    json_t *j = call_json("GET", target, NULL, 200), *c = json_object_get(j, "curve");
    ck_assert_uint_eq(json_array_size(c), 2);
    ck_assert(json_is_null(json_object_get(json_array_get(c, 0), "test_error")));
    ck_assert(json_real_value(json_object_get(json_array_get(c, 1), "test_error")) == 0.0625);
    ck_assert(json_real_value(json_object_get(json_array_get(c, 1), "val_error")) == 0.05);
    ck_assert_int_eq(jint(json_array_get(c, 1), "epoch"), 2);
    json_decref(j);
}
END_TEST

START_TEST(test_api_metrics)
{
    char id[LS_JOB_ID_LEN];
    ls_api_response r;

    submit4();
    int attempt = claim_at("s4", 0, id);
    r = call("GET", "/metrics", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(!strncmp(r.content_type, "text/plain; version=0.0.4", 25));
    ck_assert_msg(strstr(r.body, "\nlstmsweep_queued_jobs 3\n"), "%s", r.body);
    ck_assert(strstr(r.body, "\nlstmsweep_running_jobs 1\n"));
    ck_assert(strstr(r.body, "\nlstmsweep_cores 8\n"));
    ck_assert(strstr(r.body, "\nlstmsweep_cores_busy 3\n"));
    ck_assert(strstr(r.body, "\nlstmsweep_train_samples_per_second 1234.5\n"));
    ck_assert(strstr(r.body, "# TYPE lstmsweep_jobs_finished_total counter\n"));
    ck_assert(strstr(r.body, "lstmsweep_sweep_jobs{sweep=\"s4\",state=\"queued\"} 3\n"));
    ck_assert(!strstr(r.body, id));                     /* no per-job labels */
    ls_api_response_free(&r);
    finish_as("s4", id, attempt, "ok", 2.5);
    r = call("GET", "/metrics", NULL);
    ck_assert(strstr(r.body, "\nlstmsweep_jobs_finished_total{status=\"ok\"} 1\n"));
    ck_assert(strstr(r.body, "\nlstmsweep_jobs_finished_total{status=\"failed\"} 0\n"));
    ck_assert(strstr(r.body, "lstmsweep_sweep_core_seconds_total{sweep=\"s4\"} 2.5\n"));
    ls_api_response_free(&r);
}
END_TEST

START_TEST(test_api_events_route)
{
    ls_api_response r;
    ls_err err = {0};

    for (int i = 0; i < 3; i++)
        ck_assert(ls_events_push(events, "epoch", "{}", NULL, &err) == 0);
    r = call("GET", "/api/v1/events", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(r.stream && !r.stream_reset);
    ck_assert_str_eq(r.content_type, "text/event-stream");
    ck_assert_uint_eq(r.stream_after, 3);                   /* from now */
    extra[0] = (ls_api_kv){"Last-Event-ID", "1"};
    nextra = 1;
    r = call("GET", "/api/v1/events", NULL);
    ck_assert_uint_eq(r.stream_after, 1);
    extra[0].value = "99";                                   /* before a restart */
    r = call("GET", "/api/v1/events", NULL);
    ck_assert(r.stream && r.stream_reset && r.stream_after == 0);
    extra[0].value = "x1";
    expect_error("GET", "/api/v1/events", NULL, 400, "Last-Event-ID");
    extra[0].value = "-1";
    expect_error("GET", "/api/v1/events", NULL, 400, "Last-Event-ID");
    nextra = 0;
    auth = NULL;
    expect_error("GET", "/api/v1/events", NULL, 401, "token");
}
END_TEST

/* ---- the ring, the token ---- */

START_TEST(test_events_ring)
{
    ls_event e;
    char buf[1024];
    uint64_t id;
    ls_err err = {0};

    ck_assert_int_eq(ls_events_next(events, 0, 10, &e), 0);   /* nothing: times out */
    for (int i = 1; i <= 10; i++) {
        char data[32];
        snprintf(data, sizeof data, "{\"n\":%d}", i);
        ck_assert(ls_events_push(events, "epoch", data, &id, &err) == 0);
        ck_assert_uint_eq(id, (unsigned)i);
    }
    ck_assert_int_eq(ls_events_next(events, 5, 0, &e), 1);    /* caught up from 5 */
    ck_assert_uint_eq(e.id, 6);
    ck_assert_str_eq(e.data, "{\"n\":6}");
    ck_assert_uint_gt(ls_event_format(&e, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "id: 6\nevent: epoch\ndata: {\"n\":6}\n\n");
    /* capacity 8: events 1 and 2 are gone; a reader at 0 is told */
    ck_assert_int_eq(ls_events_next(events, 0, 0, &e), 1);
    ck_assert_str_eq(e.type, "lost");
    ck_assert_uint_eq(e.id, 2);
    ck_assert_str_eq(e.data, "{\"missed\":2,\"next\":3}");
    ls_event_format(&e, buf, sizeof buf);
    ck_assert_str_eq(buf, "event: lost\ndata: {\"missed\":2,\"next\":3}\n\n");
    ck_assert_int_eq(ls_events_next(events, e.id, 0, &e), 1);
    ck_assert_uint_eq(e.id, 3);
    ck_assert_int_eq(ls_events_next(events, 10, 0, &e), 0);
    ck_assert_int_eq(ls_events_push(events, "epoch", "{\"a\":1}\ndata: forged", NULL, &err),
                     LS_EINVAL);
    ls_events_close(events);
    ck_assert_int_eq(ls_events_next(events, 10, 1000, &e), -1);
}
END_TEST

/* The scheduler's events are JSON a client can parse, NaN included. */
START_TEST(test_events_shapes)
{
    ls_event e;
    ls_err err = {0};
    json_error_t je;
    json_t *j;

    ck_assert(ls_events_job_started(events, "s4", "0123456789abcdef", 2, 1, &err) == 0);
    ls_epoch_info ep = {.epoch = 3, .epochs = 9, .train_loss = 0.0 / 0.0, .train_error = 0.25,
                        .val_error = 0.125, .test_error = -1, .elapsed_s = 1.5,
                        .samples_per_s = 1000, .eta_s = -1};
    ck_assert(ls_events_epoch(events, "s4", "0123456789abcdef", &ep, &err) == 0);
    ck_assert(ls_events_job_ended(events, "s4", "0123456789abcdef", 2, "diverged", &err) == 0);
    const char *want[] = {"job_started", "epoch", "job_ended"};
    for (uint64_t id = 0; id < 3; id++) {
        ck_assert_int_eq(ls_events_next(events, id, 0, &e), 1);
        ck_assert_str_eq(e.type, want[id]);
        ck_assert_msg((j = json_loads(e.data, 0, &je)) != NULL, "%s: %s", e.data, je.text);
        ck_assert_str_eq(jstr(j, "job"), "0123456789abcdef");
        if (id == 1) {
            ck_assert(json_is_null(json_object_get(j, "train_loss")));
            ck_assert(json_is_null(json_object_get(j, "test_error")));
            ck_assert(json_real_value(json_object_get(j, "val_error")) == 0.125);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "epochs")), 9);
            ck_assert(json_real_value(json_object_get(j, "elapsed_s")) == 1.5);
        }
        if (id == 2)
            ck_assert_str_eq(jstr(j, "status"), "diverged");
        json_decref(j);
    }
}
END_TEST

START_TEST(test_token_file)
{
    char t1[LS_TOKEN_LEN], t2[LS_TOKEN_LEN], path[128];
    struct stat st;
    int created;
    ls_err err = {0};

    ck_assert_msg(ls_token_load(dir, t1, &created, &err) == 0, "%s", err.msg);
    ck_assert(created);
    ck_assert_uint_eq(strlen(t1), 64);
    snprintf(path, sizeof path, "%s/token", dir);
    ck_assert(stat(path, &st) == 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert(ls_token_load(dir, t2, &created, &err) == 0);
    ck_assert(!created);
    ck_assert_str_eq(t1, t2);
    ck_assert(chmod(path, 0644) == 0);
    ck_assert_int_eq(ls_token_load(dir, t2, NULL, &err), LS_EINVAL);
    ck_assert_msg(strstr(err.msg, "readable by others"), "%s", err.msg);
    unlink(path);
    ck_assert(ls_token_load(dir, t2, &created, &err) == 0 && created);
    ck_assert_str_ne(t1, t2);                                  /* random */
}
END_TEST

/* ---- the dashboard (api_web.c) ---- */

/* The call's status, body into a static buffer (NUL-terminated). */
static int call_body(const char *method, const char *target, const char *body,
                     const char **out, ls_api_response *keep)
{
    static char buf[4096];
    ls_api_response r = call(method, target, body);
    snprintf(buf, sizeof buf, "%.*s", (int)r.body_len, r.body ? r.body : "");
    *out = buf;
    if (keep)
        *keep = r;
    else
        ls_api_response_free(&r);
    return r.status;
}

START_TEST(test_api_web_login)
{
    const char *b;
    ls_api_response r;

    auth = NULL;
    /* without the token: the login page, nothing of the app */
    ck_assert_int_eq(call_body("GET", "/", NULL, &b, NULL), 200);
    ck_assert_msg(strstr(b, "action=\"/login\"") && !strstr(b, "the app") &&
                  !strstr(b, "<script"), "%s", b);
    expect_error("GET", "/app.js", NULL, 401, "token");
    expect_error("GET", "/api/v1/session", NULL, 401, "token");
    expect_error("POST", "/logout", NULL, 401, "token");
    /* the ?token= link: a 303 to / that sets the cookie */
    nextra = 1;
    extra[0] = (ls_api_kv){"Host", "127.0.0.1:8470"};
    ck_assert_int_eq(call_body("GET", "/?token=" TOKEN, NULL, &b, &r), 303);
    ck_assert_str_eq(r.location, "/");
    ck_assert_msg(!strcmp(r.set_cookie, "lstmsweep_8470=" TOKEN "; Path=/; HttpOnly; "
                          "SameSite=Strict; Max-Age=604800"), "%s", r.set_cookie);
    ck_assert(r.page);
    ls_api_response_free(&r);
    ck_assert_int_eq(call_body("GET", "/?token=nope", NULL, &b, NULL), 401);
    ck_assert(strstr(b, "not this server") && strstr(b, "action=\"/login\""));
    /* the login form */
    ck_assert_int_eq(call_body("POST", "/login", "token=" TOKEN, &b, &r), 303);
    ck_assert(strstr(r.set_cookie, TOKEN) && strstr(r.set_cookie, "HttpOnly"));
    ls_api_response_free(&r);
    ck_assert_int_eq(call_body("POST", "/login", "token=x&other=" TOKEN, &b, NULL), 401);
    ck_assert_int_eq(call_body("POST", "/login", "", &b, NULL), 401);
    /* with the cookie: the app, its files, the API, the stream */
    extra[1] = (ls_api_kv){"Cookie", "other=1; lstmsweep_8470=" TOKEN};
    nextra = 2;
    ck_assert_int_eq(call_body("GET", "/", NULL, &b, &r), 200);
    ck_assert_str_eq(b, "<p>the app</p>\n");
    ck_assert(r.page && !strcmp(r.content_type, "text/html; charset=utf-8"));
    ls_api_response_free(&r);
    ck_assert_int_eq(call_body("GET", "/app.js", NULL, &b, &r), 200);
    ck_assert_str_eq(r.content_type, "text/javascript; charset=utf-8");
    ls_api_response_free(&r);
    json_decref(call_json("GET", "/api/v1/sweeps", NULL, 200));
    r = call("GET", "/api/v1/events", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(r.stream);
    ls_api_response_free(&r);
    /* files: only the served types, no dot files, no way out */
    expect_error("GET", "/.hidden.js", NULL, 404, "no such file");
    expect_error("GET", "/notes.md", NULL, 404, "no such file");
    expect_error("GET", "/nothing.js", NULL, 404, "no such file");
    expect_error("GET", "/vendor/..", NULL, 404, "no such file");
    expect_error("GET", "/../state.db", NULL, 404, "no such route");
    /* a wrong cookie is no cookie */
    extra[1] = (ls_api_kv){"Cookie", "lstmsweep_8470=" TOKEN "0; lstmsweep=x"};
    expect_error("GET", "/api/v1/sweeps", NULL, 401, "token");
    ck_assert_int_eq(call_body("GET", "/", NULL, &b, NULL), 200);
    ck_assert(strstr(b, "action=\"/login\""));
    extra[1] = (ls_api_kv){"Cookie", "notlstmsweep=" TOKEN};
    expect_error("GET", "/api/v1/sweeps", NULL, 401, "token");
    /* sign out: the cookie cleared */
    extra[1] = (ls_api_kv){"Cookie", "lstmsweep_8470=" TOKEN};
    json_t *j = call_json("GET", "/api/v1/session", NULL, 200);
    static char csrf[80];
    snprintf(csrf, sizeof csrf, "%s", jstr(j, "csrf"));
    json_decref(j);
    extra[2] = (ls_api_kv){"X-Lstmsweep-CSRF", csrf};
    nextra = 3;
    ck_assert_int_eq(call_body("POST", "/logout", NULL, &b, &r), 303);
    ck_assert(strstr(r.set_cookie, "lstmsweep_8470=;") && strstr(r.set_cookie, "Max-Age=0"));
    ls_api_response_free(&r);
}
END_TEST

START_TEST(test_api_web_csrf)
{
    static char csrf[80];
    json_t *j;

    submit4();
    auth = NULL;
    extra[0] = (ls_api_kv){"Host", "127.0.0.1:8470"};
    extra[1] = (ls_api_kv){"Cookie", "lstmsweep_8470=" TOKEN};
    nextra = 2;
    j = call_json("GET", "/api/v1/session", NULL, 200);
    snprintf(csrf, sizeof csrf, "%s", jstr(j, "csrf"));
    ck_assert_uint_eq(strlen(csrf), 64);
    json_decref(j);
    /* the cookie alone does not change state */
    expect_error("POST", "/api/v1/sweeps/s4/pause", NULL, 403, "X-Lstmsweep-CSRF");
    expect_error("POST", "/api/v1/sweeps", sweep4, 403, "X-Lstmsweep-CSRF");
    extra[2] = (ls_api_kv){"X-Lstmsweep-CSRF", TOKEN};          /* not the CSRF value */
    nextra = 3;
    expect_error("POST", "/api/v1/sweeps/s4/pause", NULL, 403, "X-Lstmsweep-CSRF");
    /* the header, from another origin */
    extra[2] = (ls_api_kv){"X-Lstmsweep-CSRF", csrf};
    extra[3] = (ls_api_kv){"Origin", "http://evil.example"};
    nextra = 4;
    expect_error("POST", "/api/v1/sweeps/s4/pause", NULL, 403, "not this server");
    extra[3] = (ls_api_kv){"Origin", "http://127.0.0.1:8471"};
    expect_error("POST", "/api/v1/sweeps/s4/pause", NULL, 403, "not this server");
    ck_assert_str_eq(state_of("s4"), "active");
    /* the header from this page's origin, or without Origin */
    extra[3] = (ls_api_kv){"Origin", "http://127.0.0.1:8470"};
    json_decref(call_json("POST", "/api/v1/sweeps/s4/pause", NULL, 200));
    ck_assert_str_eq(state_of("s4"), "paused");
    nextra = 3;
    json_decref(call_json("POST", "/api/v1/sweeps/s4/resume", NULL, 200));
    /* the Bearer token needs no CSRF header, as before */
    nextra = 0;
    auth = "Bearer " TOKEN;
    json_decref(call_json("POST", "/api/v1/sweeps/s4/cancel", NULL, 200));
    ck_assert_str_eq(state_of("s4"), "cancelled");
}
END_TEST

/* A row for id of sweep s with this hidden size and validation error. */
static void finish_with(const char *sweep, int pos, int hidden, double val_error)
{
    char id[LS_JOB_ID_LEN], row[512];
    ls_err err = {0};
    int attempt = claim_at(sweep, pos, id);
    snprintf(row, sizeof row, "%s,%s,bitcount,%d,1000,1,lstm,f32,1,0.001,0,1,4,10,3,,-1,1,,ok,1,,"
             "0.5,"
             "0.25,%g,0.125,1.5,1.2,0.1,100,0.5,1,0,-1,host,2026-01-01T00:00:00Z,"
             "2026-01-01T00:00:01Z,2.6.3,avx2,0.1.0,", id, sweep, hidden, val_error);
    ck_assert_msg(ls_store_finish(store, sweep, id, attempt, "ok", row, 1, &err) == 0, "%s",
                  err.msg);
}

/* The listed jobs' values of column (numbers; -1 for null). */
static void listed(const char *target, const char *column, double *out, size_t n)
{
    json_t *j = call_json("GET", target, NULL, 200);
    json_t *jobs = json_object_get(j, "jobs");
    ck_assert_msg(json_array_size(jobs) == n, "%s: %zu jobs, want %zu", target,
                  json_array_size(jobs), n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(json_object_get(json_array_get(jobs, i), "row"), column);
        out[i] = json_is_null(v) ? -1 : json_number_value(v);
    }
    json_decref(j);
}

START_TEST(test_api_jobs_sort_filter)
{
    static const char sweep12[] =
        "[sweep]\nname = s12\nseeds = 1, 2, 3\n[bitcount]\nhidden = 4, 8, 16, 32\nbits = 4\n"
        "train_size = 10\nepochs = 1\n";
    double v[12];
    json_t *j, *row;

    json_decref(call_json("POST", "/api/v1/sweeps", sweep12, 201));
    /* queued jobs show their hyperparameters, their results are null */
    j = call_json("GET", "/api/v1/sweeps/s12/jobs?columns=all&limit=1", NULL, 200);
    row = json_object_get(json_array_get(json_object_get(j, "jobs"), 0), "row");
    ck_assert(json_is_integer(json_object_get(row, "hidden")));
    ck_assert(json_is_integer(json_object_get(row, "seed")));
    ck_assert_str_eq(jstr(row, "task"), "bitcount");
    ck_assert(json_is_null(json_object_get(row, "val_error")));
    ck_assert(json_is_null(json_object_get(row, "host")));       /* not the submitter's */
    ck_assert_uint_eq(json_object_size(row), LS_NCOLUMNS);
    json_decref(j);
    /* no columns=: no row, as before */
    j = call_json("GET", "/api/v1/sweeps/s12/jobs?limit=1", NULL, 200);
    ck_assert(!json_object_get(json_array_get(json_object_get(j, "jobs"), 0), "row"));
    json_decref(j);
    /* sorted on a hyperparameter, both ways */
    listed("/api/v1/sweeps/s12/jobs?sort=hidden&columns=hidden", "hidden", v, 12);
    for (int i = 1; i < 12; i++)
        ck_assert(v[i - 1] <= v[i]);
    ck_assert(v[0] == 4 && v[11] == 32);
    listed("/api/v1/sweeps/s12/jobs?sort=-hidden&columns=hidden,seed&limit=5", "hidden", v, 5);
    ck_assert(v[0] == 32 && v[4] == 16);
    /* filtered on hyperparameters, numbers compared as numbers */
    expect_int("/api/v1/sweeps/s12/jobs?hidden=8", "total", 3);
    expect_int("/api/v1/sweeps/s12/jobs?hidden=8.0&seed=2", "total", 1);
    expect_int("/api/v1/sweeps/s12/jobs?task=bitcount", "total", 12);
    expect_int("/api/v1/sweeps/s12/jobs?task=mnist", "total", 0);
    /* results: done jobs by validation error, the others (null) last */
    finish_with("s12", 0, 32, 0.3);
    finish_with("s12", 1, 32, 0.1);
    finish_with("s12", 2, 32, 0.2);
    listed("/api/v1/sweeps/s12/jobs?sort=val_error&columns=val_error", "val_error", v, 12);
    ck_assert(v[0] == 0.1 && v[1] == 0.2 && v[2] == 0.3 && v[3] == -1 && v[11] == -1);
    listed("/api/v1/sweeps/s12/jobs?sort=-val_error&columns=val_error", "val_error", v, 12);
    ck_assert(v[0] == 0.3 && v[2] == 0.1 && v[3] == -1);
    listed("/api/v1/sweeps/s12/jobs?sort=val_error&status=ok&limit=2&columns=val_error",
           "val_error", v, 2);
    ck_assert(v[0] == 0.1 && v[1] == 0.2);
    expect_int("/api/v1/sweeps/s12/jobs?status=ok&val_error=0.2", "total", 1);
    expect_int("/api/v1/sweeps/s12/jobs?sort=status&status=queued", "total", 9);
    /* the distinct values of the varying hyperparameters */
    j = call_json("GET", "/api/v1/sweeps/s12/params", NULL, 200);
    json_t *p = json_object_get(j, "params");
    ck_assert_uint_eq(json_array_size(json_object_get(p, "hidden")), 4);
    ck_assert_uint_eq(json_array_size(json_object_get(p, "seed")), 3);
    ck_assert(json_integer_value(json_array_get(json_object_get(p, "hidden"), 3)) == 32);
    ck_assert(!json_object_get(p, "bits"));                        /* one value */
    json_decref(j);
    /* refusals */
    expect_error("GET", "/api/v1/sweeps/s12/jobs?sort=nope", NULL, 400, "sort");
    expect_error("GET", "/api/v1/sweeps/s12/jobs?columns=hidden,nope", NULL, 400, "columns");
    expect_error("GET", "/api/v1/sweeps/s12/jobs?hidden=x", NULL, 400, "not a number");
    expect_error("GET", "/api/v1/sweeps/nope/params", NULL, 404, "no sweep");
}
END_TEST

START_TEST(test_api_node)
{
    json_t *j, *c;
    char id[LS_JOB_ID_LEN];

    /* the fake node: 8 cores, no topology, no running jobs from the hook */
    j = call_json("GET", "/api/v1/node", NULL, 200);
    ck_assert_int_eq(jint(j, "total_cores"), 8);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "running")), 0);
    ck_assert(json_number_value(json_object_get(j, "mem_total_bytes")) == 1e9);
    json_decref(j);
    /* a running job: listed from the store */
    submit4();
    claim_at("s4", 0, id);
    j = call_json("GET", "/api/v1/node", NULL, 200);
    c = json_array_get(json_object_get(j, "running"), 0);
    ck_assert_str_eq(jstr(c, "id"), id);
    ck_assert_str_eq(jstr(c, "sweep"), "s4");
    ck_assert(json_is_null(json_object_get(c, "cpus")));
    json_decref(j);
}
END_TEST

static void topo_node(void *ctx, ls_node_status *o)
{
    memset(o, 0, sizeof *o);
    o->total_cores = 4;
    o->numa_nodes = 2;
    o->ncores_listed = 4;
    for (int c = 0; c < 4; c++) {
        o->core_numa[c] = c / 2;
        o->core_pu[c] = 10 + c;
    }
    o->njobs = 1;
    o->jobs[0] = (ls_node_job){.sweep = "s", .id = "0123456789abcdef", .attempt = 1,
                               .threads = 2, .cpus = "12-13", .numa_node = 1, .mem_bytes = 5e6};
    o->mem_total_bytes = 1e9;
    o->mem_used_bytes = 5e6;
}

START_TEST(test_api_node_placement)
{
    ls_api_config cfg = {.store = store, .events = events, .state_dir = dir,
                         .data_roots = (const char *[]){root}, .ndata_roots = 1, .token = TOKEN,
                         .hooks = {.node_status = topo_node}};
    ls_err err = {0};
    json_t *j, *cores;

    ls_api_destroy(api);
    ck_assert_msg(ls_api_create(&api, &cfg, &err) == 0, "%s", err.msg);
    j = call_json("GET", "/api/v1/node", NULL, 200);
    cores = json_object_get(j, "cores");
    ck_assert_uint_eq(json_array_size(cores), 4);
    ck_assert(json_is_null(json_object_get(json_array_get(cores, 1), "job")));
    ck_assert_str_eq(jstr(json_array_get(cores, 2), "job"), "0123456789abcdef");
    ck_assert_str_eq(jstr(json_array_get(cores, 3), "job"), "0123456789abcdef");
    ck_assert_int_eq(jint(json_array_get(cores, 3), "numa"), 1);
    ck_assert_int_eq(jint(json_array_get(json_object_get(j, "running"), 0), "numa_node"), 1);
    ck_assert(json_number_value(json_object_get(j, "mem_used_bytes")) == 5e6);
    json_decref(j);
    /* no web root: no dashboard */
    expect_error("GET", "/app.js", NULL, 404, "no dashboard");
}
END_TEST

/* A case of the suite with the fixture and these tests. */
static void add_case(Suite *s, const char *name, const TTest *const *tests, size_t n)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
}

Suite *api_suite(void)
{
    const TTest *core[] = {test_api_auth, test_api_routes, test_api_submit_and_resubmit,
                           test_api_paths_under_state, test_api_jobs_pages, test_api_job,
                           test_api_state_changes, test_api_fence, test_api_csv, test_api_curve_files,
                           test_api_metrics, test_api_cache, test_api_events_route, test_events_ring, test_events_shapes,
                           test_token_file, test_api_web_login, test_api_web_csrf,
                           test_api_jobs_sort_filter, test_api_node, test_api_node_placement};
    const TTest *limits[] = {test_api_submit_refusals, test_api_data_roots};
    Suite *s = suite_create("api");
    add_case(s, "Core", core, sizeof core / sizeof *core);
    add_case(s, "Limits", limits, sizeof limits / sizeof *limits);
    return s;
}

LS_CHECK_MAIN(api_suite)
