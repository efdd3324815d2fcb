/* check_runner.c - the sweep runner end to end, through the real
 * `lstmsweep` program: placement inside the allowed CPUs, every job exactly
 * once, resume after kill -9 at random moments, drain on SIGTERM and
 * continue from checkpoints, jobs too big for the memory limit; and, in
 * process, a results file that cannot be written. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/results.h"
#include "lstmsweep/runner.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/topo.h"

static char dir[64], ini[128], csv[128], curves[128], prog[512];

static void setup(void)
{
    const char *b = getenv("top_builddir");
    ls_test_mkdtemp(dir, sizeof dir, "runner");
    snprintf(ini, sizeof ini, "%s/s.ini", dir);
    /* results in a directory that does not exist yet: the runner makes it
     * (and the checkpoint directory) before any job needs it */
    snprintf(csv, sizeof csv, "%s/out/r.csv", dir);
    snprintf(curves, sizeof curves, "%s/out/r-curves.csv", dir);
    snprintf(prog, sizeof prog, "%s/lstmsweep", b ? b : ".");
}

static void teardown(void)
{
    ls_test_rmtree(dir);
}

/* A sweep of small bitcount jobs: `hidden` list x 2 seeds. */
static void write_sweep(const char *hidden, int epochs, const char *extra)
{
    FILE *f = fopen(ini, "w");
    ck_assert(f);
    fprintf(f, "[sweep]\nname = t\nresults = %s\nseeds = 1, 2\n%s\n"
               "[bitcount]\nbits = 10\ntrain_size = 500\nbatch = 50\nlr = 0.01\n"
               "hidden = %s\nepochs = %d\neval_every = 10\n",
            csv, extra ? extra : "", hidden, epochs);
    fclose(f);
}

/* Start `lstmsweep run ini args...` with output to dir/log; return pid. */
static pid_t start_run(const char *arg1, const char *arg2)
{
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        char log[160];
        snprintf(log, sizeof log, "%s/log", dir);
        if (!freopen(log, "a", stderr))
            _exit(126);
        execl(prog, prog, "run", ini, "--checkpoint-every", "0",
              arg1, arg2, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st;
    ck_assert(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run_sync(const char *arg1, const char *arg2)
{
    return wait_exit(start_run(arg1, arg2));
}

/* Rows of the results file by job id and status. */
typedef struct tally {
    char ids[64][LS_JOB_ID_LEN];
    int final[64], interrupted[64], epochs[64], hidden[64], n;
    char cpus[64][32];
} tally;

static int tally_row(void *ctx, const char *path, long line, int nf, char **f,
                     ls_err *err)
{
    tally *t = ctx;
    int id = ls_csv_column(LS_RESULTS_COLUMNS, "job_id");
    int st = ls_csv_column(LS_RESULTS_COLUMNS, "status");
    int ep = ls_csv_column(LS_RESULTS_COLUMNS, "epochs_run");
    int cp = ls_csv_column(LS_RESULTS_COLUMNS, "cpus");
    int i;
    (void)path, (void)line, (void)nf, (void)err;
    for (i = 0; i < t->n && strcmp(t->ids[i], f[id]); i++)
        ;
    if (i == t->n) {
        ck_assert(t->n < 64);
        snprintf(t->ids[t->n++], LS_JOB_ID_LEN, "%s", f[id]);
    }
    if (!strcmp(f[st], "interrupted"))
        t->interrupted[i]++;
    else
        t->final[i]++;
    t->epochs[i] = atoi(f[ep]);
    t->hidden[i] = atoi(f[ls_csv_column(LS_RESULTS_COLUMNS, "hidden")]);
    snprintf(t->cpus[i], sizeof t->cpus[i], "%s", f[cp]);
    return 0;
}

static tally read_tally(void)
{
    tally t;
    ls_err err = {0};
    int torn = 0;
    memset(&t, 0, sizeof t);
    if (access(csv, F_OK) != 0)
        return t; /* killed before the first row */
    ck_assert_msg(ls_csv_read(csv, LS_RESULTS_COLUMNS, tally_row, &t, &torn, &err) == 0,
                  "%s", err.msg);
    ck_assert_msg(!torn, "torn line in %s", csv);
    return t;
}

START_TEST(test_runner_every_job_once_and_resume_skips)
{
    write_sweep("4, 8, 12", 5, NULL);
    ck_assert_int_eq(run_sync(NULL, NULL), 0);
    tally t = read_tally();
    ck_assert_int_eq(t.n, 6);
    for (int i = 0; i < t.n; i++)
        ck_assert_int_eq(t.final[i], 1);
    ck_assert_int_eq(run_sync(NULL, NULL), 0); /* nothing left to do */
    t = read_tally();
    ck_assert_int_eq(t.n, 6);
    for (int i = 0; i < t.n; i++)
        ck_assert_int_eq(t.final[i], 1);
}
END_TEST

/* The seed of the kill timing: LS_KILL_SEED to replay a failure, else
 * the clock.  Printed either way, so every failure can be replayed. */
static unsigned kill_seed(void)
{
    const char *env = getenv("LS_KILL_SEED");
    unsigned seed = env && *env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    fprintf(stderr, "check_runner: kill -9 timing seed %u (replay: LS_KILL_SEED=%u)\n",
            seed, seed);
    return seed;
}

/* kill -9 at random moments, rerun each time; in the end every job is
 * there exactly once and no line is torn. */
START_TEST(test_runner_kill9_then_rerun_exactly_once)
{
    write_sweep("4, 6, 8, 10, 12, 14", 20, NULL);
    unsigned seed = kill_seed();
    srand(seed);
    for (int round = 0; round < 12; round++) {
        pid_t pid = start_run(NULL, NULL);
        usleep(50000 + (useconds_t)(rand() % 400000));
        kill(pid, SIGKILL);
        wait_exit(pid);
        read_tally(); /* never a torn or malformed line */
    }
    ck_assert_int_eq(run_sync(NULL, NULL), 0);
    tally t = read_tally();
    ck_assert_msg(t.n == 12, "%d jobs (kill seed %u)", t.n, seed);
    for (int i = 0; i < t.n; i++)
        ck_assert_msg(t.final[i] == 1, "job %s has %d final rows (kill seed %u)", t.ids[i],
                      t.final[i], seed);
}
END_TEST

/* Epoch numbers of one job in the curve file, in file order. */
static int curve_epochs(const char *id, int *out, int cap)
{
    FILE *f = fopen(curves, "r");
    char line[512];
    int n = 0;
    ck_assert(f);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, id, 16) && n < cap)
            out[n++] = atoi(line + 17);
    fclose(f);
    return n;
}

START_TEST(test_runner_sigterm_drains_and_resumes_from_checkpoint)
{
    write_sweep("32", 1500, NULL); /* 2 jobs, long enough to outlast the 2 s */
    pid_t pid = start_run(NULL, NULL);
    sleep(2);
    kill(pid, SIGTERM);
    ck_assert_int_eq(wait_exit(pid), 3); /* stopped early */
    /* Each job that had started is recorded interrupted (with one core,
     * e.g. under taskset, the second job never started). */
    tally t = read_tally();
    ck_assert(t.n >= 1 && t.n <= 2);
    for (int i = 0; i < t.n; i++) {
        ck_assert_int_eq(t.interrupted[i], 1);
        ck_assert_int_eq(t.final[i], 0);
        ck_assert(t.epochs[i] > 0 && t.epochs[i] < 1500);
    }
    ck_assert_int_eq(run_sync(NULL, NULL), 0);
    tally u = read_tally();
    ck_assert_int_eq(u.n, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(u.final[i], 1);
        ck_assert_int_eq(u.epochs[i], 1500);
        /* continued, not restarted: every epoch appears once, in order */
        static int ep[2000];
        int n = curve_epochs(u.ids[i], ep, 2000);
        ck_assert_int_eq(n, 1500);
        for (int k = 0; k < n; k++)
            ck_assert_int_eq(ep[k], k + 1);
    }
}
END_TEST

START_TEST(test_runner_job_over_memory_limit_fails_alone)
{
    write_sweep("4, 8, 2048", 3, "mem_limit = 64M");
    ck_assert_int_eq(run_sync(NULL, NULL), 1); /* some job failed */
    tally t = read_tally();
    ck_assert_int_eq(t.n, 6);
    char log[160], buf[8192];
    snprintf(log, sizeof log, "%s/log", dir);
    FILE *l = fopen(log, "r");
    size_t got = fread(buf, 1, sizeof buf - 1, l);
    buf[got] = '\0';
    fclose(l);
    ck_assert_msg(strstr(buf, "more than the memory limit"), "log: %s", buf);
}
END_TEST

/* Placement: every job ran on CPUs inside the allowed set, one core each
 * (auto threads with more jobs than cores). */
START_TEST(test_runner_places_jobs_inside_allowed_cpus)
{
    ls_topo *topo;
    ls_err err = {0};
    char allowed[256];
    int cores[256];
    ck_assert(ls_topo_load(&topo, &err) == 0);
    int n = ls_topo_ncores(topo);
    for (int i = 0; i < n; i++)
        cores[i] = i;
    ls_topo_cpulist(topo, cores, n, allowed, sizeof allowed);
    write_sweep("4, 8, 12", 3, NULL);
    ck_assert_int_eq(run_sync(NULL, NULL), 0);
    tally t = read_tally();
    for (int i = 0; i < t.n; i++) {
        int found = 0;
        for (int c = 0; c < n; c++) {
            char one[16];
            ls_topo_cpulist(topo, &c, 1, one, sizeof one);
            found |= !strcmp(one, t.cpus[i]);
        }
        ck_assert_msg(found, "job ran on '%s', allowed %s", t.cpus[i], allowed);
    }
    /* Slots are disjoint: the two largest jobs (hidden 12, seeds 1 and 2)
     * start together and so must be on different cores. */
    if (n >= 2) {
        const char *first[2];
        int k = 0;
        for (int i = 0; i < t.n && k < 2; i++)
            if (t.hidden[i] == 12)
                first[k++] = t.cpus[i];
        ck_assert_int_eq(k, 2);
        ck_assert_str_ne(first[0], first[1]);
    }
    ls_topo_destroy(topo);
}
END_TEST

/* A results file that cannot be written stops the run with LS_EIO; with
 * err == NULL (allowed by error.h) that must not crash, and with an err
 * the message names the file.  /dev/full: every write fails (ENOSPC). */
START_TEST(test_runner_results_error_with_null_err)
{
    FILE *f = fopen(ini, "w");
    ls_sweep *sw;
    ls_topo *topo;
    ls_err err = {0};
    ck_assert(f);
    fprintf(f, "[sweep]\nname = t\nresults = /dev/full\ncurves = %s/c.csv\n"
               "checkpoints = %s/ck\n[bitcount]\nbits = 6\ntrain_size = 20\n"
               "batch = 10\nhidden = 2\nepochs = 1\n", dir, dir);
    fclose(f);
    ck_assert_msg(ls_sweep_load(&sw, ini, NULL, 0, &err) == 0, "%s", err.msg);
    ck_assert_msg(ls_topo_load(&topo, &err) == 0, "%s", err.msg);
    ls_run_opts o = {.mem_limit = (size_t)1 << 30};
    ls_run_summary sum;
    ck_assert_int_eq(ls_runner_run(sw, topo, &o, &sum, NULL), LS_EIO);
    ck_assert_int_eq(sum.ok + sum.failed, 1); /* it ran; its row failed */
    ck_assert_int_eq(ls_runner_run(sw, topo, &o, NULL, &err), LS_EIO);
    ck_assert_msg(strstr(err.msg, "/dev/full"), "message: %s", err.msg);
    ls_topo_destroy(topo);
    ls_sweep_destroy(sw);
}
END_TEST

Suite *runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = ls_add_case(s, "Core", setup, teardown,
                LS_TESTS(test_runner_every_job_once_and_resume_skips,
                         test_runner_kill9_then_rerun_exactly_once,
                         test_runner_sigterm_drains_and_resumes_from_checkpoint,
                         test_runner_job_over_memory_limit_fails_alone,
                         test_runner_places_jobs_inside_allowed_cpus,
                         test_runner_results_error_with_null_err));
    tcase_set_timeout(tc, 300);
    return s;
}

LS_CHECK_MAIN(runner_suite)
