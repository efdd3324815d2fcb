/* check_faults.c - faults injected on purpose into whole sweeps, in the
 * style of SQLite's fault-injection tests: an allocation failure inside one
 * job, a diverging job, and a results file that fails mid-sweep (disk full,
 * or replaced by something unwritable).  In every case the other jobs
 * finish or wait, nothing already written is damaged, the process
 * survives, and a rerun after the fault completes the sweep. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/results.h"
#include "lstmsweep/runner.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/topo.h"

static char dir[64], ini[128], csv[128];

static void setup(void)
{
    ls_test_mkdtemp(dir, sizeof dir, "faults");
    snprintf(ini, sizeof ini, "%s/s.ini", dir);
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
}

static void teardown(void)
{
    ls_test_rmtree(dir);
}

static void write_sweep(const char *results, const char *lrs, const char *hidden,
                        int epochs)
{
    FILE *f = fopen(ini, "w");
    ck_assert(f);
    fprintf(f, "[sweep]\nname = f\nresults = %s\n[bitcount]\nbits = 10\n"
               "train_size = 500\nbatch = 50\nlr = %s\nhidden = %s\nepochs = %d\n"
               "eval_every = 5\n", results, lrs, hidden, epochs);
    fclose(f);
}

/* Run the sweep in this process; returns the call's code. */
static int run_here(ls_run_summary *sum, int retry_failed, ls_err *err)
{
    ls_sweep *sw;
    ls_topo *topo;
    ls_run_opts o = {.retry_failed = retry_failed};
    ck_assert_msg(ls_sweep_load(&sw, ini, NULL, 0, err) == 0, "%s", err->msg);
    ck_assert(ls_topo_load(&topo, err) == 0);
    int rc = ls_runner_run(sw, topo, &o, sum, err);
    ls_topo_destroy(topo);
    ls_sweep_destroy(sw);
    return rc;
}

/* Allocations run_here makes before its first job: loading the sweep and
 * the machine, and the runner's preparation, counted in a dry run (the
 * same ls_queue), plus a margin for the worker pool. */
static long prep_allocations(void)
{
    ls_sweep *sw;
    ls_topo *topo;
    ls_err err = {0};
    ls_run_opts o = {0};
    FILE *devnull = fopen("/dev/null", "w");
    long before = ls_alloc_calls();
    ck_assert(devnull && ls_sweep_load(&sw, ini, NULL, 0, &err) == 0);
    ck_assert(ls_topo_load(&topo, &err) == 0);
    ck_assert_msg(ls_runner_plan(sw, topo, &o, devnull, &err) == 0, "%s", err.msg);
    long n = ls_alloc_calls() - before;
    ls_topo_destroy(topo);
    ls_sweep_destroy(sw);
    fclose(devnull);
    return n + 4;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (!f)
        return -1;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

START_TEST(test_fault_allocation_failure_fails_one_job)
{
    ls_run_summary sum;
    ls_err err = {0};
    write_sweep(csv, "0.01", "4, 8, 12, 16", 5);
    /* Some allocation of some job fails; which job depends on timing.  The
     * runner's own preparation allocates too (and its failure would fail
     * the call): aim past it, counted in a dry run of the same sweep. */
    long prep = prep_allocations();
    ls_alloc_fail_at(prep + 40);
    ck_assert_int_eq(run_here(&sum, 0, &err), 0); /* the process goes on */
    ls_alloc_fail_at(0);
    ck_assert_int_eq(sum.failed, 1);
    ck_assert_int_eq(sum.ok, 3);
    FILE *f = fopen(csv, "r");
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_msg(strstr(buf, ",failed,") &&
                  (strstr(buf, "allocat") || strstr(buf, "out of memory")), "%s", buf);
    /* fixed: --retry-failed reruns it, the others are not run again */
    ck_assert_int_eq(run_here(&sum, 1, &err), 0);
    ck_assert_int_eq(sum.ok, 1);
    ck_assert_int_eq(sum.already_done, 3);
}
END_TEST

START_TEST(test_fault_diverging_job_alone)
{
    ls_run_summary sum;
    ls_err err = {0};
    write_sweep(csv, "0.01, 1e38", "8, 12", 20);
    ck_assert_int_eq(run_here(&sum, 0, &err), 0);
    ck_assert_int_eq(sum.diverged, 2);
    ck_assert_int_eq(sum.ok, 2);
    ck_assert_int_eq(count_lines(csv), 5);
}
END_TEST

START_TEST(test_fault_disk_full_stops_the_sweep)
{
    ls_run_summary sum;
    ls_err err = {0};
    write_sweep("/dev/full", "0.01", "4, 8, 12, 16", 3);
    ck_assert_int_eq(run_here(&sum, 0, &err), LS_EIO);
    ck_assert_msg(strstr(err.msg, "/dev/full"), "%s", err.msg);
    /* it stopped starting jobs: at most one per core ran (in size_t, 4 -
     * cores would wrap on a machine with more than 4) */
    size_t cores = (size_t)sysconf(_SC_NPROCESSORS_ONLN);
    ck_assert(sum.not_started >= 4 - (cores < 4 ? cores : 4));
}
END_TEST

/* The results file is replaced by a directory while the sweep runs (as a
 * full or read-only disk would make it unwritable): the runner reports it
 * and stops starting jobs; the rows already written are intact; after the
 * fault is fixed a rerun completes the sweep, every job once. */
START_TEST(test_fault_results_unwritable_mid_sweep)
{
    const char *b = getenv("top_builddir");
    char prog[512], moved[160];
    snprintf(prog, sizeof prog, "%s/lstmsweep", b ? b : ".");
    snprintf(moved, sizeof moved, "%s/kept.csv", dir);
    write_sweep(csv, "0.01", "4, 5, 6, 7, 8, 9, 10, 11", 60);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(126);
        execl(prog, prog, "run", ini, (char *)NULL);
        _exit(127);
    }
    int rows = 0;
    for (int i = 0; i < 600 && rows < 3; i++) { /* header + 2 rows */
        usleep(20000);
        rows = count_lines(csv);
    }
    ck_assert_msg(rows >= 3, "no rows appeared");
    ck_assert(rename(csv, moved) == 0);
    ck_assert(mkdir(csv, 0755) == 0);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    int kept = count_lines(moved);
    ck_assert(kept >= 3 && kept < 9); /* not all jobs ran */
    /* fix the fault, rerun */
    ck_assert(rmdir(csv) == 0);
    ck_assert(rename(moved, csv) == 0);
    pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(126);
        execl(prog, prog, "run", ini, (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(count_lines(csv), 9); /* header + 8 jobs, once each */
}
END_TEST

Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("Faults");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    ls_add_tests(tc, LS_TESTS(test_fault_allocation_failure_fails_one_job,
                              test_fault_diverging_job_alone));
    LS_ADD_TEST_IF(tc, test_fault_disk_full_stops_the_sweep,
                   access("/dev/full", W_OK) == 0, "no writable /dev/full");
    tcase_add_test(tc, test_fault_results_unwritable_mid_sweep);
    suite_add_tcase(s, tc);
    return s;
}

LS_CHECK_MAIN(faults_suite)
