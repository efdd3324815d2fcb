/* check_feed.c - the runner fed by a front end while it runs (the server's
 * way, runner.h: next_sweep, share, sweep_done), in process, on ONE core so
 * that the order in which jobs start is the scheduler's and nothing else:
 *  - two sweeps in the run at once share the core by core-seconds used:
 *    the later sweep's first job starts second, not after the whole first
 *    sweep (which is what one sweep at a time did);
 *  - the weight (2^priority) tilts the share: a heavy sweep takes the core
 *    until its jobs are done;
 *  - a sweep that must drain (pause, cancel) loses its pending jobs and
 *    its running one stops "interrupted", while the other sweep finishes;
 *  - a sweep added while the run goes is picked up; a sweep that cannot be
 *    loaded comes back with its error and the run goes on;
 *  - every sweep is handed back exactly once, and the run ends on stop. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check_util.h"
#include "lstmsweep/runner.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/topo.h"

static char dir[64];

static void setup(void)
{
    ls_test_mkdtemp(dir, sizeof dir, "feed");
}

static void teardown(void)
{
    ls_test_rmtree(dir);
}

#define MAXS 3
#define MAXC 64

/* The fake front end: up to MAXS sweeps, handed out in order. */
typedef struct fe {
    pthread_mutex_t lock;
    ls_sweep *sw[MAXS];
    int n, given;
    int hold_back;         /* sweep 1 is given only after this many ends (0: at once) */
    double weight[MAXS];
    int drain_after;       /* sweep 0 drains after this many claims (0: never) */
    char claims[MAXC];     /* 'a', 'b', 'c' per claim, in order */
    int nclaims, nended;
    int ok[MAXS], interrupted[MAXS], done[MAXS], failed_to_add[MAXS];
    atomic_int stop;
} fe;

static int index_of(fe *f, const ls_sweep *sw)
{
    for (int i = 0; i < f->n; i++)
        if (f->sw[i] == sw)
            return i;
    ck_abort_msg("a sweep the front end never gave");
    return -1;
}

static int claim(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                 const ls_run_place *where, int *attempt)
{
    fe *f = ctx;
    (void)job, (void)id;
    ck_assert(where && where->cpus[0] && where->numa_node >= 0 && where->mem > 0);
    pthread_mutex_lock(&f->lock);
    if (f->nclaims < MAXC - 1)
        f->claims[f->nclaims++] = (char)('a' + index_of(f, sw));
    *attempt = 1;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int ended(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                 int attempt, const ls_result *r, const char *row, ls_err *err)
{
    fe *f = ctx;
    (void)job, (void)id, (void)attempt, (void)row, (void)err;
    pthread_mutex_lock(&f->lock);
    int i = index_of(f, sw);
    f->ok[i] += r->status == LS_STATUS_OK;
    f->interrupted[i] += r->status == LS_STATUS_INTERRUPTED;
    f->nended++;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static const ls_sweep *next_sweep(void *ctx, double *used_s)
{
    fe *f = ctx;
    const ls_sweep *sw = NULL;
    pthread_mutex_lock(&f->lock);
    if (f->given < f->n && (f->given != 1 || f->nended >= f->hold_back))
        sw = f->sw[f->given++];
    pthread_mutex_unlock(&f->lock);
    *used_s = 0;
    return sw;
}

static void share(void *ctx, const ls_sweep *sw, double *weight, int *drain)
{
    fe *f = ctx;
    pthread_mutex_lock(&f->lock);
    int i = index_of(f, sw);
    *weight = f->weight[i] > 0 ? f->weight[i] : 1;
    *drain = i == 0 && f->drain_after && f->nclaims >= f->drain_after;
    pthread_mutex_unlock(&f->lock);
}

static void sweep_done(void *ctx, const ls_sweep *sw, const ls_err *why)
{
    fe *f = ctx;
    pthread_mutex_lock(&f->lock);
    int i = index_of(f, sw), all = 1;
    f->done[i]++;
    f->failed_to_add[i] += why != NULL;
    for (int k = 0; k < f->n; k++)
        all &= f->done[k] > 0;
    if (all && f->given == f->n)
        atomic_store(&f->stop, 1);      /* everything handed back: end the run */
    pthread_mutex_unlock(&f->lock);
}

/* Sweep `tag` of `njobs` small bitcount jobs (hidden sizes 4, 5, ...), its
 * files under dir; `extra` goes into its task section. */
static ls_sweep *make_sweep(const char *tag, int njobs, int epochs, const char *extra)
{
    char text[1024], hidden[128] = "", *p = hidden;
    ls_sweep *sw = NULL;
    ls_err err = {0};
    for (int i = 0; i < njobs; i++)
        p += sprintf(p, "%s%d", i ? ", " : "", 4 + i);
    snprintf(text, sizeof text,
             "[sweep]\nname = %s\nresults = %s/%s.csv\n"
             "[bitcount]\nbits = 8\ntrain_size = 200\nbatch = 50\nlr = 0.01\n"
             "hidden = %s\nepochs = %d\neval_every = 5\n",
             tag, dir, tag, hidden, epochs);
    if (extra)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s\n", extra);
    ck_assert_msg(ls_sweep_load_text(&sw, tag, text, 0, NULL, 0, &err) == 0, "%s", err.msg);
    return sw;
}

/* Run the front end's sweeps to the end on one core of this machine. */
static void run_fed(fe *f)
{
    ls_run_hooks h = {.ctx = f, .claim = claim, .ended = ended, .next_sweep = next_sweep,
                      .share = share, .sweep_done = sweep_done};
    ls_run_opts o = {.stop = &f->stop, .threads_per_job = 1, .hooks = &h};
    ls_topo *topo;
    ls_err err = {0};
    cpu_set_t all, one;

    /* One core: jobs run one after another, in the scheduler's order. */
    ck_assert(sched_getaffinity(0, sizeof all, &all) == 0);
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all)) {
            CPU_SET(c, &one);
            break;
        }
    ck_assert(sched_setaffinity(0, sizeof one, &one) == 0);
    ck_assert_msg(ls_topo_load(&topo, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ls_topo_ncores(topo), 1);
    ck_assert_msg(ls_runner_run(NULL, topo, &o, NULL, &err) == 0, "%s", err.msg);
    ls_topo_destroy(topo);
    ck_assert(sched_setaffinity(0, sizeof all, &all) == 0);
    for (int i = 0; i < f->n; i++) {
        ck_assert_msg(f->done[i] == 1, "sweep %d handed back %d times", i, f->done[i]);
        ls_sweep_destroy(f->sw[i]);
    }
    f->claims[f->nclaims] = '\0';
}

static void fe_init(fe *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
}

START_TEST(test_two_sweeps_share_the_core)
{
    fe f;
    fe_init(&f);
    f.sw[f.n++] = make_sweep("a", 4, 4, NULL);
    f.sw[f.n++] = make_sweep("b", 2, 4, NULL);
    run_fed(&f);
    ck_assert_int_eq(f.ok[0], 4);
    ck_assert_int_eq(f.ok[1], 2);
    /* both in the run from the start: a first (it came first), then b,
     * which has used nothing, instead of all of a before any of b */
    ck_assert_msg(!strncmp(f.claims, "ab", 2), "claims %s", f.claims);
}
END_TEST

START_TEST(test_weight_tilts_the_share)
{
    fe f;
    fe_init(&f);
    f.sw[f.n++] = make_sweep("a", 3, 4, NULL);
    f.sw[f.n++] = make_sweep("b", 3, 4, NULL);
    f.weight[1] = 1024;                 /* priority 10 */
    run_fed(&f);
    ck_assert_msg(!strcmp(f.claims, "abbbaa"), "claims %s", f.claims);
}
END_TEST

START_TEST(test_one_sweep_drains_alone)
{
    fe f;
    fe_init(&f);
    /* a's jobs are long enough to be caught running */
    f.sw[f.n++] = make_sweep("a", 3, 5000, NULL);
    f.sw[f.n++] = make_sweep("b", 2, 4, NULL);
    f.drain_after = 1;                  /* a drains once its first job started */
    run_fed(&f);
    ck_assert_int_eq(f.interrupted[0], 1);
    ck_assert_int_eq(f.ok[0], 0);
    ck_assert_int_eq(f.ok[1], 2);
    ck_assert_msg(!strcmp(f.claims, "abb"), "claims %s", f.claims);
}
END_TEST

START_TEST(test_sweep_added_later_and_a_bad_one)
{
    fe f;
    fe_init(&f);
    f.sw[f.n++] = make_sweep("a", 2, 4, NULL);
    f.sw[f.n++] = make_sweep("b", 2, 4, NULL);
    /* a data directory without the data: the sweep cannot be added */
    char data[128], extra[256];
    snprintf(data, sizeof data, "%s/empty", dir);
    ck_assert(mkdir(data, 0700) == 0);
    snprintf(extra, sizeof extra, "[mnist]\ndata = %s\nhidden = 4\n", data);
    f.sw[f.n++] = make_sweep("c", 1, 4, extra);
    f.hold_back = 2;                    /* b comes when both of a's jobs ended */
    run_fed(&f);
    ck_assert_int_eq(f.ok[0], 2);
    ck_assert_int_eq(f.ok[1], 2);
    ck_assert_int_eq(f.failed_to_add[2], 1);
    ck_assert_int_eq(f.failed_to_add[0] + f.failed_to_add[1], 0);
    ck_assert_msg(!strcmp(f.claims, "aabb"), "claims %s", f.claims);
}
END_TEST

static Suite *feed_suite(void)
{
    Suite *s = suite_create("feed");
    TCase *tc = ls_add_case(s, "feed", setup, teardown,
                            LS_TESTS(test_two_sweeps_share_the_core, test_weight_tilts_the_share,
                                     test_one_sweep_drains_alone,
                                     test_sweep_added_later_and_a_bad_one));
    tcase_set_timeout(tc, 120);
    return s;
}

LS_CHECK_MAIN(feed_suite)
