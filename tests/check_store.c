/* check_store.c - the server's durable queue (store.h): submission and
 * idempotent resubmission, order, claim and the attempt fence, recovery
 * after a crash (a child killed with SIGKILL while it claims and finishes
 * jobs), jobs shared between sweeps running once, pause, resume and
 * cancel, and the export as a results CSV. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/schema.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/results.h"
#include "lstmsweep/store.h"

static char dir[64], db[128];

static void setup(void)
{
    ls_test_mkdtemp(dir, sizeof dir, "store");
    snprintf(db, sizeof db, "%s/state.db", dir);
}

static void teardown(void)
{
    ls_test_rmtree(dir);
}

static ls_store *open_store(size_t *requeued)
{
    ls_store *s = NULL;
    ls_err err = {0};
    ck_assert_msg(ls_store_open(&s, db, requeued, &err) == 0, "%s", err.msg);
    return s;
}

/* Jobs "j0".."j<n-1>" (padded to 16 characters) with estimates 1..n. */
static void make_jobs(ls_store_job *j, int n, int first)
{
    for (int i = 0; i < n; i++) {
        snprintf(j[i].id, sizeof j[i].id, "%016d", first + i);
        j[i].est_s = first + i + 1;
    }
}

static void add(ls_store *s, const char *name, const char *ini, int n, int first,
                size_t want_new)
{
    ls_store_job j[64];
    size_t fresh = 99;
    ls_err err = {0};
    make_jobs(j, n, first);
    ck_assert_msg(ls_store_add_sweep(s, name, ini, 0, j, (size_t)n, &fresh, &err) == 0,
                  "%s", err.msg);
    ck_assert_uint_eq(fresh, want_new);
}

static int claim(ls_store *s, const char *sweep, int job)
{
    char id[LS_JOB_ID_LEN];
    int attempt = -1;
    ls_err err = {0};
    snprintf(id, sizeof id, "%016d", job);
    ck_assert_msg(ls_store_claim(s, sweep, id, &attempt, &err) == 0, "%s", err.msg);
    return attempt;
}

static int finish(ls_store *s, const char *sweep, int job, int attempt, const char *status)
{
    char id[LS_JOB_ID_LEN], row[64];
    ls_err err = {0};
    snprintf(id, sizeof id, "%016d", job);
    snprintf(row, sizeof row, "%s,%s,%s", id, sweep, status);
    return ls_store_finish(s, sweep, id, attempt, status, row, 1.5, &err);
}

static ls_sweep_info info_of(ls_store *s, const char *name)
{
    ls_sweep_info in;
    ls_err err = {0};
    ck_assert_msg(ls_store_sweep(s, name, &in, NULL, &err) == 0, "%s", err.msg);
    return in;
}

START_TEST(test_store_order_and_resubmission)
{
    ls_store *s = open_store(NULL);
    ls_store_job q[8], j[3];
    size_t n, fresh;
    ls_err err = {0};

    add(s, "a", "[bitcount]\n", 4, 0, 4);
    ck_assert_int_eq(ls_store_queued(s, "a", q, 8, &n, &err), 0);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++)   /* largest estimate first */
        ck_assert_double_eq(q[i].est_s, 4.0 - (double)i);
    /* the same text again: nothing new; another text: refused */
    add(s, "a", "[bitcount]\n", 4, 0, 0);
    make_jobs(j, 3, 0);
    ck_assert_int_eq(ls_store_add_sweep(s, "a", "[mnist]\n", 0, j, 3, &fresh, &err), LS_EINVAL);
    ck_assert_msg(strstr(err.msg, "exists with another definition"), "%s", err.msg);
    ck_assert_uint_eq(info_of(s, "a").by_state[LS_JOB_QUEUED], 4);
    ck_assert_int_eq(ls_store_sweep(s, "nope", &(ls_sweep_info){0}, NULL, &err), LS_EINVAL);
    ls_store_close(s);
}
END_TEST

START_TEST(test_store_claim_and_fence)
{
    ls_store *s = open_store(NULL);
    char id[LS_JOB_ID_LEN];
    int attempt;
    ls_err err = {0};

    add(s, "a", "x", 2, 0, 2);
    ck_assert_int_eq(claim(s, "a", 1), 1);
    snprintf(id, sizeof id, "%016d", 1);
    /* a running job cannot be claimed again */
    ck_assert_int_eq(ls_store_claim(s, "a", id, &attempt, &err), LS_ECONFLICT);
    /* a finish naming another attempt changes nothing */
    ck_assert_int_eq(finish(s, "a", 1, 2, "ok"), LS_ECONFLICT);
    ck_assert_uint_eq(info_of(s, "a").by_state[LS_JOB_RUNNING], 1);
    ck_assert_int_eq(finish(s, "a", 1, 1, "ok"), 0);
    /* and a second finish of the same attempt is refused: no second row */
    ck_assert_int_eq(finish(s, "a", 1, 1, "ok"), LS_ECONFLICT);
    ls_sweep_info in = info_of(s, "a");
    ck_assert_uint_eq(in.by_state[LS_JOB_DONE], 1);
    ck_assert_uint_eq(in.by_status[LS_STATUS_OK], 1);
    ck_assert_double_eq(in.core_s, 1.5);
    ck_assert_int_eq(in.state, LS_SWEEP_ACTIVE);
    ck_assert_int_eq(finish(s, "a", 0, claim(s, "a", 0), "failed"), 0);
    ck_assert_int_eq(info_of(s, "a").state, LS_SWEEP_DONE);
    ls_store_close(s);
}
END_TEST

/* A server killed while a job runs: at the next open the job is queued
 * again, its next claim is attempt 2, and the stale worker of attempt 1
 * cannot record its row. */
START_TEST(test_store_recovery_fences_stale_worker)
{
    ls_store *s = open_store(NULL);
    size_t requeued = 0;

    add(s, "a", "x", 3, 0, 3);
    ck_assert_int_eq(claim(s, "a", 2), 1);
    ck_assert_int_eq(claim(s, "a", 1), 1);
    ls_store_close(s);                 /* as if killed: nothing finished */
    s = open_store(&requeued);
    ck_assert_uint_eq(requeued, 2);
    ck_assert_uint_eq(info_of(s, "a").by_state[LS_JOB_QUEUED], 3);
    ck_assert_int_eq(claim(s, "a", 2), 2);
    ck_assert_int_eq(finish(s, "a", 2, 1, "ok"), LS_ECONFLICT);
    ck_assert_int_eq(finish(s, "a", 2, 2, "ok"), 0);
    ck_assert_uint_eq(info_of(s, "a").by_status[LS_STATUS_OK], 1);
    ls_store_close(s);
}
END_TEST

/* A child claims and finishes jobs, telling the parent each job it has
 * finished, and is killed with SIGKILL at a random moment: every job it
 * reported is done, none is left running, and the rest can still run. */
START_TEST(test_store_kill9_loses_nothing)
{
    enum { N = 60 };
    ls_store *s = open_store(NULL);
    int fds[2], reported[N] = {0};
    unsigned seed = (unsigned)time(NULL);

    if (getenv("LS_STORE_SEED"))
        seed = (unsigned)atoi(getenv("LS_STORE_SEED"));
    printf("store kill -9 test: seed %u (LS_STORE_SEED to replay)\n", seed);
    srand(seed);
    add(s, "a", "x", N, 0, N);
    ls_store_close(s);
    ck_assert(pipe(fds) == 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        ls_store *c = NULL;
        if (ls_store_open(&c, db, NULL, NULL))
            _exit(1);
        for (int i = 0; i < N; i++) {
            int a = claim(c, "a", i);
            if (finish(c, "a", i, a, "ok") == 0 && write(fds[1], &i, sizeof i) != sizeof i)
                _exit(2);
        }
        _exit(0);
    }
    close(fds[1]);
    usleep((useconds_t)(rand() % 150000));
    kill(pid, SIGKILL);
    int i, status;
    while (read(fds[0], &i, sizeof i) == sizeof i)
        reported[i] = 1;
    close(fds[0]);
    waitpid(pid, &status, 0);

    size_t requeued;
    s = open_store(&requeued);
    ck_assert_uint_le(requeued, 1);    /* at most the job it was in */
    ls_sweep_info in = info_of(s, "a");
    ck_assert_uint_eq(in.by_state[LS_JOB_RUNNING], 0);
    size_t done = 0;
    for (int k = 0; k < N; k++)
        done += reported[k];
    printf("store kill -9 test: %zu of %d jobs reported finished before the kill\n", done, N);
    ck_assert_uint_ge(in.by_state[LS_JOB_DONE], done);
    ck_assert_uint_eq(in.by_state[LS_JOB_DONE] + in.by_state[LS_JOB_QUEUED], N);
    ls_store_job q[N];
    size_t n;
    ck_assert_int_eq(ls_store_queued(s, "a", q, N, &n, NULL), 0);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(!reported[atoi(q[k].id)], "finished job %s queued again", q[k].id);
    ls_store_close(s);
}
END_TEST

/* The same job id in two sweeps runs once: not in both at once, and a final
 * row in one is the other's; a sweep submitted later takes it as done. */
START_TEST(test_store_shared_job_runs_once)
{
    ls_store *s = open_store(NULL);
    char id[LS_JOB_ID_LEN];
    int attempt;
    ls_err err = {0};

    add(s, "a", "x", 2, 0, 2);
    add(s, "b", "y", 2, 1, 2);         /* jobs 1 and 2: job 1 in both */
    ck_assert_int_eq(claim(s, "a", 1), 1);
    snprintf(id, sizeof id, "%016d", 1);
    ck_assert_int_eq(ls_store_claim(s, "b", id, &attempt, &err), LS_ECONFLICT);
    ck_assert_int_eq(finish(s, "a", 1, 1, "ok"), 0);
    ck_assert_uint_eq(info_of(s, "b").by_state[LS_JOB_DONE], 1);
    add(s, "c", "z", 3, 0, 2);         /* jobs 0..2: job 1 already done */
    ls_store_close(s);
}
END_TEST

START_TEST(test_store_pause_resume_cancel)
{
    ls_store *s = open_store(NULL);
    ls_store_job q[4];
    size_t n;
    char id[LS_JOB_ID_LEN];
    int attempt;
    ls_err err = {0};

    add(s, "a", "x", 3, 0, 3);
    int a = claim(s, "a", 2);
    ck_assert_int_eq(ls_store_set_state(s, "a", LS_SWEEP_PAUSED, &err), 0);
    ck_assert_int_eq(ls_store_queued(s, "a", q, 4, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    snprintf(id, sizeof id, "%016d", 1);
    ck_assert_int_eq(ls_store_claim(s, "a", id, &attempt, &err), LS_ECONFLICT);
    ck_assert_int_eq(ls_store_set_state(s, "a", LS_SWEEP_ACTIVE, &err), 0);
    ck_assert_int_eq(ls_store_queued(s, "a", q, 4, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    /* cancel: queued jobs at once, the running one when it drains */
    ck_assert_int_eq(ls_store_set_state(s, "a", LS_SWEEP_CANCELLED, &err), 0);
    ls_sweep_info in = info_of(s, "a");
    ck_assert_uint_eq(in.by_state[LS_JOB_CANCELLED], 2);
    ck_assert_uint_eq(in.by_state[LS_JOB_RUNNING], 1);
    ck_assert_int_eq(finish(s, "a", 2, a, "interrupted"), 0);
    ck_assert_uint_eq(info_of(s, "a").by_state[LS_JOB_CANCELLED], 3);
    ck_assert_int_eq(ls_store_set_state(s, "a", LS_SWEEP_ACTIVE, &err), LS_ECONFLICT);
    ls_store_close(s);
}
END_TEST

/* A sweep the scheduler cannot run is paused with its reason; a later
 * change of state (the owner resumes it) clears the reason.  A database of
 * the first schema (no error column) gets the column at open. */
START_TEST(test_store_failed_sweep_and_migration)
{
    ls_store *s = open_store(NULL);
    ls_err err = {0};

    add(s, "a", "x", 2, 0, 2);
    ck_assert_str_eq(info_of(s, "a").error, "");
    ck_assert_int_eq(ls_store_fail_sweep(s, "a", "data: cannot read", &err), 0);
    ls_sweep_info in = info_of(s, "a");
    ck_assert_int_eq(in.state, LS_SWEEP_PAUSED);
    ck_assert_str_eq(in.error, "data: cannot read");
    ck_assert_int_eq(ls_store_set_state(s, "a", LS_SWEEP_ACTIVE, &err), 0);
    ck_assert_str_eq(info_of(s, "a").error, "");
    /* only an active sweep is failed: a cancelled one stays cancelled */
    ck_assert_int_eq(ls_store_set_state(s, "a", LS_SWEEP_CANCELLED, &err), 0);
    ck_assert_int_eq(ls_store_fail_sweep(s, "a", "late", &err), 0);
    ck_assert_int_eq(info_of(s, "a").state, LS_SWEEP_CANCELLED);
    ls_store_close(s);

    /* the first schema, as round 2's first server wrote it */
    sqlite3 *old;
    unlink(db);
    ck_assert(sqlite3_open(db, &old) == SQLITE_OK);
    ck_assert(sqlite3_exec(old, "CREATE TABLE sweeps(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                           "name TEXT NOT NULL UNIQUE, ini TEXT NOT NULL, priority INTEGER "
                           "NOT NULL DEFAULT 0, state INTEGER NOT NULL DEFAULT 0, submitted "
                           "REAL NOT NULL, core_s REAL NOT NULL DEFAULT 0); INSERT INTO "
                           "sweeps(name, ini, submitted) VALUES('old', 'x', 1);",
                           NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(old);
    s = open_store(NULL);
    ck_assert_str_eq(info_of(s, "old").error, "");
    ck_assert_int_eq(ls_store_fail_sweep(s, "old", "why", &err), 0);
    ck_assert_str_eq(info_of(s, "old").error, "why");
    ls_store_close(s);
}
END_TEST

/* A row of today's layout for job `job`: status, rung ("" for none) set,
 * the other fields their column's name (distinct, so misplaced fields show). */
static void full_row(char *row, size_t len, int job, const char *status, const char *rung)
{
    size_t n = 0;
    for (int i = 0; i < LS_NCOLUMNS; i++) {
        const char *v = ls_schema_at(i)->name;
        char id[LS_JOB_ID_LEN];
        if (i == LS_COLUMN_job_id) {
            snprintf(id, sizeof id, "%016d", job);
            v = id;
        }
        v = i == LS_COLUMN_status ? status : i == LS_COLUMN_rung ? rung : v;
        n += (size_t)snprintf(row + n, len - n, "%s%s", i ? "," : "", v);
    }
}

/* "status/rung " of each row, appended to ctx. */
static int collect_status(void *ctx, const char *row, ls_err *err)
{
    char f[4096];
    const char *p = row;
    (void)err;
    for (int i = 0; i <= LS_COLUMN_rung; i++) {
        ls_csv_next_field(&p, f);
        if (i == LS_COLUMN_status || i == LS_COLUMN_rung)
            snprintf((char *)ctx + strlen(ctx), 64, "%s%s", f,
                     i == LS_COLUMN_status ? "/" : " ");
    }
    return 0;
}

/* An adaptive search's job: paused (back to the queue, its row kept, listed
 * "paused"), stopped for good (final, only when queued), every row with a
 * rung in the sweep's rung record in order; rows without a rung are not. */
START_TEST(test_store_search_jobs)
{
    ls_store *s = open_store(NULL);
    char row[4096], id[LS_JOB_ID_LEN];
    ls_store_job_info in[4];
    size_t n = 0;
    ls_err err = {0};
    int a;

    add(s, "a", "x", 3, 0, 3);
    snprintf(id, sizeof id, "%016d", 0);
    full_row(row, sizeof row, 0, "paused", "1");
    a = claim(s, "a", 0);
    ck_assert_int_eq(ls_store_finish(s, "a", id, a, "paused", row, 1, &err), 0);
    ck_assert_int_eq(ls_store_jobs(s, "a", "paused", 0, 4, in, &n, NULL, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(in[0].state, LS_JOB_QUEUED);
    ck_assert_str_eq(in[0].status, "paused");
    /* a grid-like row (no rung) is not in the record */
    ck_assert_int_eq(finish(s, "a", 1, claim(s, "a", 1), "ok"), 0);
    /* the stop: refused while running, final when queued */
    a = claim(s, "a", 0);
    full_row(row, sizeof row, 0, "stopped", "1");
    ck_assert_int_eq(ls_store_stop_job(s, "a", id, row, &err), LS_ECONFLICT);
    full_row(row, sizeof row, 0, "paused", "2");
    ck_assert_int_eq(ls_store_finish(s, "a", id, a, "paused", row, 1, &err), 0);
    full_row(row, sizeof row, 0, "stopped", "2");
    ck_assert_msg(ls_store_stop_job(s, "a", id, row, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ls_store_jobs(s, "a", "stopped", 0, 4, in, &n, NULL, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(in[0].state, LS_JOB_DONE);
    ck_assert_int_eq(ls_store_stop_job(s, "a", id, row, &err), LS_ECONFLICT);
    ls_store_close(s);
    /* the record survives a reopen, in order: rungs 1 (paused), 2 (paused), 2 (stopped) */
    s = open_store(NULL);
    char seen[4096] = "";
    ck_assert_int_eq(ls_store_rung_rows(s, "a", collect_status, seen, &err), 0);
    ck_assert_str_eq(seen, "paused/1 paused/2 stopped/2 ");
    ck_assert_int_eq(ls_store_rung_rows(s, "b", collect_status, seen, &err), 0);
    ck_assert_str_eq(seen, "paused/1 paused/2 stopped/2 ");
    ls_store_close(s);
}
END_TEST

/* A database of schema 1 holds rows of results layouts 1 (before cell) and
 * 2 (before precision, search, rung): opened, they are today's, each field
 * in its column and the added ones as the old rows meant them. */
START_TEST(test_store_upgrades_old_rows)
{
    ls_store *s = open_store(NULL);
    char l1[4096] = "", l2[4096] = "", hdr[4096], sql[9000];
    ls_store_close(s);
    for (int k = 1; k <= 2; k++) {   /* each old row: its header's names as values */
        ck_assert_int_eq(ls_results_layout_header(k, hdr, sizeof hdr), 0);
        snprintf(k == 1 ? l1 : l2, sizeof l1, "%s", hdr);
    }
    ck_assert_int_eq(ls_results_layout_header(3, hdr, sizeof hdr), 0);
    ck_assert_str_eq(hdr, LS_RESULTS_COLUMNS);
    ck_assert_int_eq(ls_results_layout_header(4, hdr, sizeof hdr), -1);
    sqlite3 *old;
    ck_assert(sqlite3_open(db, &old) == SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE meta SET value = '1' WHERE key = 'schema';"
             "INSERT INTO results VALUES('a', 'x', 'ok', '%s');"
             "INSERT INTO results VALUES('b', 'x', 'ok', '%s');", l1, l2);
    ck_assert(sqlite3_exec(old, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(old);
    s = open_store(NULL);
    ls_store_close(s);
    ck_assert(sqlite3_open(db, &old) == SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert(sqlite3_prepare_v2(old, "SELECT job_id, row FROM results ORDER BY job_id", -1,
                                 &st, NULL) == SQLITE_OK);
    for (int k = 1; k <= 2; k++) {
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        char want[4096];
        snprintf(want, sizeof want, "%s", LS_RESULTS_COLUMNS);
        /* the added columns hold their old rows' values, not their names */
        char *p = strstr(want, ",search,");
        memmove(p + 1, p + 7, strlen(p + 7) + 1);          /* search -> "" */
        p = strstr(want, ",rung,");
        memmove(p + 1, p + 5, strlen(p + 5) + 1);          /* rung -> "" */
        p = strstr(want, ",precision,");                   /* precision -> f32 */
        memmove(p + 4, p + 10, strlen(p + 10) + 1);
        memcpy(p + 1, "f32", 3);
        if (k == 1) {                                      /* cell -> lstm */
            p = strstr(want, ",cell,");
            memcpy(p + 1, "lstm", 4);
        }
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 1), want);
    }
    sqlite3_finalize(st);
    /* a row of no layout: the open fails and says why */
    ck_assert(sqlite3_exec(old, "UPDATE meta SET value = '1' WHERE key = 'schema';"
                           "INSERT INTO results VALUES('c', 'x', 'ok', 'a,b,c');",
                           NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(old);
    ls_err err = {0};
    ck_assert_int_ne(ls_store_open(&s, db, NULL, &err), 0);
    ck_assert_msg(strstr(err.msg, "upgrading the stored rows") &&
                  strstr(err.msg, "no known layout"), "%s", err.msg);
}
END_TEST

/* The export is a results CSV: the header, then each job's row in the
 * sweep's order (a drained job's interrupted row until it ends). */
START_TEST(test_store_export)
{
    ls_store *s = open_store(NULL);
    char path[160], line[1024];
    ls_err err = {0};

    add(s, "a", "x", 3, 0, 3);
    ck_assert_int_eq(finish(s, "a", 0, claim(s, "a", 0), "ok"), 0);
    ck_assert_int_eq(finish(s, "a", 2, claim(s, "a", 2), "interrupted"), 0);
    snprintf(path, sizeof path, "%s/a.csv", dir);
    FILE *f = fopen(path, "w+");
    ck_assert(f);
    ck_assert_msg(ls_store_export(s, "a", f, &err) == 0, "%s", err.msg);
    rewind(f);
    static const char *const want[] = {
        LS_RESULTS_COLUMNS "\n", "0000000000000002,a,interrupted\n",
        "0000000000000000,a,ok\n"};
    for (int i = 0; i < 3; i++) {
        ck_assert(fgets(line, sizeof line, f));
        ck_assert_str_eq(line, want[i]);
    }
    ck_assert(!fgets(line, sizeof line, f));
    fclose(f);
    ls_store_close(s);
}
END_TEST

/* A database made before jobs.params existed opens (the column is added)
 * and lists its jobs, without hyperparameters until they have rows; new
 * sweeps keep their params, which sort and filter the listing. */
START_TEST(test_store_params_and_old_databases)
{
    sqlite3 *old;
    ls_store *s;
    ls_store_job j[4];
    ls_store_job_info out[8];
    char *rows[8] = {0}, *params[8] = {0};
    size_t n = 0, total = 0;
    ls_sweep *sw = NULL;
    ls_err err = {0};

    ck_assert(sqlite3_open(db, &old) == SQLITE_OK);   /* the schema of before */
    ck_assert(sqlite3_exec(old, "CREATE TABLE sweeps(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                           "name TEXT NOT NULL UNIQUE, ini TEXT NOT NULL, priority INTEGER "
                           "NOT NULL DEFAULT 0, state INTEGER NOT NULL DEFAULT 0, submitted "
                           "REAL NOT NULL, core_s REAL NOT NULL DEFAULT 0);"
                           "CREATE TABLE jobs(sweep TEXT NOT NULL, id TEXT NOT NULL, pos "
                           "INTEGER NOT NULL, est_s REAL NOT NULL, state INTEGER NOT NULL, "
                           "attempt INTEGER NOT NULL DEFAULT 0, row TEXT, PRIMARY KEY(sweep, id));"
                           "INSERT INTO sweeps(name, ini, submitted) VALUES('old', 'x', 1);"
                           "INSERT INTO jobs VALUES('old', '0000000000000001', 0, 1, 0, 0, NULL);",
                           NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(old);
    s = open_store(NULL);
    ls_store_query q = {.sweep = "old", .sort = LS_COLUMN_hidden, .max = 8};
    ck_assert_msg(ls_store_jobs_query(s, &q, out, rows, params, &n, &total, &err) == 0, "%s",
                  err.msg);
    ck_assert_uint_eq(n, 1);
    ck_assert(rows[0] == NULL && params[0] == NULL);
    /* a new sweep with its jobs' params */
    ck_assert_msg(ls_sweep_load_text(&sw, "new", "[bitcount]\nbits = 4\ntrain_size = 10\n"
                                     "hidden = 4, 8, 16\nepochs = 1\n", 0, NULL, 0, &err) == 0,
                  "%s", err.msg);
    make_jobs(j, 3, 10);
    ck_assert_msg(ls_store_add_sweep_params(s, "new", "y", 0, j, sw->jobs, 3, NULL, &err) == 0,
                  "%s", err.msg);
    q = (ls_store_query){.sweep = "new", .sort = LS_COLUMN_hidden, .desc = 1, .max = 8};
    ck_assert(ls_store_jobs_query(s, &q, out, rows, params, &n, &total, &err) == 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_msg(params[0] && strstr(params[0], ",bitcount,16,"), "%s", params[0]);
    ck_assert(strstr(params[2], ",bitcount,4,"));
    for (size_t i = 0; i < n; i++)
        ls_free(params[i]);
    ls_store_where w = {LS_COLUMN_hidden, "8"};
    q = (ls_store_query){.sweep = "new", .where = &w, .nwhere = 1, .max = 8};
    ck_assert(ls_store_jobs_query(s, &q, out, NULL, NULL, &n, &total, &err) == 0);
    ck_assert_uint_eq(total, 1);
    char **v = NULL;
    ck_assert(ls_store_distinct(s, "new", LS_COLUMN_hidden, 10, &v, &n, &err) == 0);
    ck_assert_uint_eq(n, 3);
    ls_store_free_values(v, n);
    ls_sweep_destroy(sw);
    ls_store_close(s);
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    ls_add_case(s, "Core", setup, teardown,
                LS_TESTS(test_store_order_and_resubmission, test_store_claim_and_fence,
                         test_store_recovery_fences_stale_worker,
                         test_store_kill9_loses_nothing, test_store_shared_job_runs_once,
                         test_store_pause_resume_cancel, test_store_export,
                         test_store_failed_sweep_and_migration,
                         test_store_search_jobs, test_store_upgrades_old_rows,
                         test_store_params_and_old_databases));
    return s;
}

LS_CHECK_MAIN(store_suite)
