/* store.c - the server's durable state in SQLite; see
 * include/lstmsweep/store.h.
 *
 * Every public function takes the store's mutex, so the one connection is
 * used by one thread at a time; every write is one BEGIN IMMEDIATE
 * transaction that either commits whole or is rolled back. */
#include "lstmsweep/store.h"
#include "lstmsweep/alloc.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lstmsweep/csv.h"
#include "lstmsweep/results.h"
#include "lstmsweep/schema.h"

struct ls_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    char path[512];
};

static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO meta VALUES('schema', '1');"
    "CREATE TABLE IF NOT EXISTS sweeps("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,"
    "  ini TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 0,"
    "  state INTEGER NOT NULL DEFAULT 0, submitted REAL NOT NULL,"
    "  core_s REAL NOT NULL DEFAULT 0, error TEXT);"
    /* pos: the sweep's order, largest estimate first.  row: the latest
     * non-final row (interrupted, paused); final rows are in results. */
    "CREATE TABLE IF NOT EXISTS jobs("
    "  sweep TEXT NOT NULL, id TEXT NOT NULL, pos INTEGER NOT NULL,"
    "  est_s REAL NOT NULL, state INTEGER NOT NULL,"
    "  attempt INTEGER NOT NULL DEFAULT 0, row TEXT,"
    "  PRIMARY KEY(sweep, id));"
    "CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(sweep, state, pos);"
    "CREATE INDEX IF NOT EXISTS jobs_id ON jobs(id, state);"
    "CREATE INDEX IF NOT EXISTS jobs_pos ON jobs(sweep, pos);"
    "CREATE TABLE IF NOT EXISTS results("
    "  job_id TEXT PRIMARY KEY, sweep TEXT NOT NULL, status TEXT NOT NULL,"
    "  row TEXT NOT NULL);"
    /* Every row of an adaptive search's jobs (a rung column), in the order
     * recorded: what its decisions are replayed from (searchrun.h). */
    "CREATE TABLE IF NOT EXISTS rung_rows("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, sweep TEXT NOT NULL, row TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS rung_rows_sweep ON rung_rows(sweep, seq);";

static const char *const sweep_state_names[] = {"active", "paused", "cancelled", "done"};
static const char *const job_state_names[] = {"queued", "running", "done", "cancelled"};

const char *ls_sweep_state_name(ls_sweep_state s)
{
    return (unsigned)s < 4 ? sweep_state_names[s] : "unknown";
}

const char *ls_job_state_name(ls_job_state s)
{
    return (unsigned)s < 4 ? job_state_names[s] : "unknown";
}

/* ---- SQLite helpers --------------------------------------------------------- */

static int db_error(ls_store *s, ls_err *err)
{
    return ls_err_set(err, LS_EIO, "%s: %s", s->path, sqlite3_errmsg(s->db));
}

static int exec(ls_store *s, const char *sql, ls_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    int rc = ls_err_set(err, LS_EIO, "%s: %s", s->path, msg ? msg : "error");
    sqlite3_free(msg);
    return rc;
}

/* Prepare one statement of sql. */
/* A public write: the store's lock, then call (a *_tx function) inside one
 * BEGIN IMMEDIATE transaction, committed if it returns 0, rolled back
 * otherwise (end()); returns its code. */
#define IN_TRANSACTION(s, err, call)            \
    do {                                        \
        pthread_mutex_lock(&(s)->lock);         \
        int rc_ = begin(s, err);                \
        if (!rc_)                               \
            rc_ = end(s, (call), err);          \
        pthread_mutex_unlock(&(s)->lock);       \
        return rc_;                             \
    } while (0)

static int prep(ls_store *s, sqlite3_stmt **st, const char *sql, ls_err *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_error(s, err);
    return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Step a statement that returns no row, then finalize it. */
static int run_done(ls_store *s, sqlite3_stmt *st, ls_err *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}

/* The one integer a query returns (def if it returns no row). */
static int query_int(ls_store *s, sqlite3_stmt *st, long long def, long long *out,
                     ls_err *err)
{
    int r = sqlite3_step(st), rc = 0;
    if (r == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (r == SQLITE_DONE)
        *out = def;
    else
        rc = db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}

static int begin(ls_store *s, ls_err *err)
{
    return exec(s, "BEGIN IMMEDIATE", err);
}

/* Commit if rc is 0, else roll back; returns rc (or the commit's error). */
static int end(ls_store *s, int rc, ls_err *err)
{
    if (rc) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return exec(s, "COMMIT", err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- open, recovery ------------------------------------------------------------ */

/* Jobs left running by an earlier process: back to the queue (or to
 * cancelled, if their sweep was cancelled). */
static int recover(ls_store *s, size_t *requeued, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = begin(s, err);
    if (!rc && !(rc = prep(s, &st, "UPDATE jobs SET state = CASE WHEN (SELECT state "
                           "FROM sweeps WHERE name = jobs.sweep) = 2 THEN 3 ELSE 0 END "
                           "WHERE state = 1", err)))
        rc = run_done(s, st, err);
    if (!rc && requeued)
        *requeued = (size_t)sqlite3_changes(s->db);
    return end(s, rc, err);
}

/* A database of an earlier version gets the columns added since: jobs.params
 * (the job's row as the results writer makes it before the job ran, for
 * its hyperparameters while it has no row of its own; NULL for jobs of
 * older databases) and sweeps.error (why the scheduler paused a sweep). */
static int add_column(ls_store *s, const char *table, const char *column, ls_err *err)
{
    sqlite3_stmt *st;
    long long have = 0;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
             table, column);
    int rc = prep(s, &st, sql, err);
    if (rc || (rc = query_int(s, st, 0, &have, err)) || have)
        return rc;
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s TEXT", table, column);
    return exec(s, sql, err);
}

/* Store schema 2: the rows of schema 1 (results layouts 1 and 2) get the
 * columns added since, in one transaction. */
static int upgrade_rows(ls_store *s, ls_err *err)
{
    sqlite3_stmt *st;
    long long version = 1;
    int rc = prep(s, &st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema'", err);
    if (rc || (rc = query_int(s, st, 1, &version, err)) || version >= 2)
        return rc;
    if ((rc = begin(s, err)))
        return rc;
    rc = exec(s, "UPDATE results SET row = ls_upgrade(row);"
              "UPDATE jobs SET row = ls_upgrade(row) WHERE row IS NOT NULL;"
              "UPDATE jobs SET params = ls_upgrade(params) WHERE params IS NOT NULL;"
              "UPDATE meta SET value = '2' WHERE key = 'schema';", err);
    rc = end(s, rc, err);
    return rc ? ls_err_prefix(err, "%s: upgrading the stored rows: ", s->path) : 0;
}

static int migrate(ls_store *s, ls_err *err)
{
    int rc = add_column(s, "jobs", "params", err);
    if (!rc)
        rc = add_column(s, "sweeps", "error", err);
    return rc ? rc : upgrade_rows(s, err);
}

/* ---- job listings: the row's fields in SQL ------------------------------------- */

/* The idx-th field of a CSV row into out (room for the whole row); 0, or
 * -1 if the row is shorter. */
static int row_field(const char *p, int idx, char *out)
{
    for (int i = 0; i < idx; i++) {
        const char *before = p;
        ls_csv_next_field(&p, out);
        if (p == before || (!*p && p[-1] != ','))
            return -1;
    }
    ls_csv_next_field(&p, out);
    return 0;
}

/* ls_field(row, column index): the field typed by the schema (a number
 * column's value as a REAL, NULL when empty or not a number; text as
 * TEXT), NULL for a NULL row.  What sorts and filters the listings. */
static void sql_field(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *row = (const char *)sqlite3_value_text(argv[0]);
    int idx = sqlite3_value_int(argv[1]);
    const ls_column *c = idx >= 0 && idx < ls_schema_count() ? ls_schema_at(idx) : NULL;
    char small[512], *buf = small;
    size_t len = row ? strlen(row) + 1 : 0;

    if (!row || !c) {
        sqlite3_result_null(ctx);
        return;
    }
    if (len > sizeof small && !(buf = ls_alloc(len))) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (row_field(row, idx, buf) || (!*buf && ls_column_is_number(c)))
        sqlite3_result_null(ctx);
    else if (ls_column_is_number(c)) {
        char *end;
        double x = strtod(buf, &end);
        if (*end)
            sqlite3_result_null(ctx);
        else
            sqlite3_result_double(ctx, x);
    } else
        sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
    if (buf != small)
        ls_free(buf);
}

/* ls_status(row): the status of a non-final row (interrupted, paused), as
 * the listings give it for a job without a final row. */
static void sql_status(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *row = (const char *)sqlite3_value_text(argv[0]);
    char *buf = row ? ls_alloc(strlen(row) + 1) : NULL;
    (void)argc;
    if (!row)
        sqlite3_result_null(ctx);
    else if (!buf)
        sqlite3_result_error_nomem(ctx);
    else if (row_field(row, LS_COLUMN_status, buf) || !*buf)
        sqlite3_result_text(ctx, "interrupted", -1, SQLITE_STATIC);
    else
        sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
    ls_free(buf);
}

/* ls_upgrade(row): a row an earlier version stored, in today's layout
 * (results.h, ls_results_upgrade); an error for a row of no layout. */
static void sql_upgrade(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *row = (const char *)sqlite3_value_text(argv[0]), *now[LS_NCOLUMNS];
    char *f[LS_CSV_MAX_FIELDS], *buf = NULL, *out = NULL;
    (void)argc;
    if (!row) {
        sqlite3_result_null(ctx);
        return;
    }
    size_t cap = 2 * strlen(row) + 64 * LS_NCOLUMNS, n = 0;
    int nf = -1;
    if (!(buf = ls_strdup(row)) || !(out = ls_alloc(cap)))
        sqlite3_result_error_nomem(ctx);
    else if ((nf = ls_csv_split(buf, f)) < 0 || ls_results_upgrade(nf, f, now) < 0)
        sqlite3_result_error(ctx, "a stored row of no known layout", -1);
    else {
        for (int i = 0; i < LS_NCOLUMNS; i++) {
            if (i)
                out[n++] = ',';
            n += (size_t)ls_csv_quote(now[i], out + n, cap - n);
        }
        sqlite3_result_text(ctx, out, (int)n, SQLITE_TRANSIENT);
    }
    ls_free(buf);
    ls_free(out);
}

static int register_field(ls_store *s, ls_err *err)
{
    if (sqlite3_create_function(s->db, "ls_upgrade", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, sql_upgrade, NULL, NULL) != SQLITE_OK)
        return db_error(s, err);
    if (sqlite3_create_function(s->db, "ls_field", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, sql_field, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(s->db, "ls_status", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, sql_status, NULL, NULL) != SQLITE_OK)
        return db_error(s, err);
    return 0;
}

int ls_store_open(ls_store **out, const char *path, size_t *requeued, ls_err *err)
{
    ls_store *s = ls_calloc(1, sizeof *s);
    int rc;

    *out = NULL;
    if (!s)
        return ls_err_set(err, LS_ENOMEM, "%s: out of memory", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    pthread_mutex_init(&s->lock, NULL);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        rc = s->db ? db_error(s, err) : ls_err_set(err, LS_ENOMEM, "%s: out of memory", path);
        ls_store_close(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 10000);
    if ((rc = exec(s, schema_sql, err)) || (rc = register_field(s, err)) ||
        (rc = migrate(s, err)) || (rc = recover(s, requeued, err))) {
        ls_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void ls_store_close(ls_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    ls_free(s);
}

/* ---- sweeps ---------------------------------------------------------------------- */

/* 1 if the sweep exists with this text, 0 if it does not exist, LS_EINVAL
 * if it exists with another text. */
static int same_sweep(ls_store *s, const char *name, const char *ini, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT ini FROM sweeps WHERE name = ?", err);
    if (rc)
        return rc;
    bind_text(st, 1, name);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        rc = strcmp((const char *)sqlite3_column_text(st, 0), ini) == 0
                 ? 1 : ls_err_set(err, LS_EINVAL, "sweep '%s' exists with another "
                                  "definition; submit it under another name", name);
    else if (r != SQLITE_DONE)
        rc = db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}

/* A job being added, with the ls_job whose params it keeps (or NULL). */
typedef struct entry {
    ls_store_job j;
    const ls_job *job;
} entry;

static int cmp_est_desc(const void *a, const void *b)
{
    const ls_store_job *x = &((const entry *)a)->j, *y = &((const entry *)b)->j;
    if (x->est_s != y->est_s)
        return x->est_s > y->est_s ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Insert the jobs in their order; a job with a final row enters done. */
static int insert_jobs(ls_store *s, const char *name, entry *jobs, size_t n,
                       size_t *queued, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "INSERT INTO jobs(sweep, id, pos, est_s, state, params) "
                  "VALUES(?, ?, ?, ?, CASE WHEN EXISTS(SELECT 1 FROM results WHERE job_id = ?2) "
                  "THEN 2 ELSE 0 END, ?5)", err);
    char params[8192];
    ls_result none;

    ls_result_init(&none);
    qsort(jobs, n, sizeof *jobs, cmp_est_desc);
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_reset(st);
        bind_text(st, 1, name);
        bind_text(st, 2, jobs[i].j.id);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
        sqlite3_bind_double(st, 4, jobs[i].j.est_s);
        size_t len = jobs[i].job ? ls_results_format(jobs[i].job, &none, params, sizeof params) : 0;
        while (len && (params[len - 1] == '\n' || params[len - 1] == '\r'))
            params[--len] = '\0';
        if (len)
            sqlite3_bind_text(st, 5, params, (int)len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 5);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sqlite3_errcode(s->db) == SQLITE_CONSTRAINT
                     ? ls_err_set(err, LS_EINVAL, "sweep '%s' lists job %s twice", name, jobs[i].j.id)
                     : db_error(s, err);
    }
    sqlite3_finalize(st);
    if (!rc && !(rc = prep(s, &st, "SELECT count(*) FROM jobs WHERE sweep = ? AND state = 0", err))) {
        long long q = 0;
        bind_text(st, 1, name);
        if (!(rc = query_int(s, st, 0, &q, err)))
            *queued = (size_t)q;
    }
    return rc;
}

/* ACTIVE sweeps without queued or running jobs are done. */
static int settle_sweeps(ls_store *s, ls_err *err)
{
    return exec(s, "UPDATE sweeps SET state = 3 WHERE state = 0 AND NOT EXISTS("
                "SELECT 1 FROM jobs WHERE jobs.sweep = sweeps.name AND state IN (0, 1))", err);
}

static int add_sweep_tx(ls_store *s, const char *name, const char *ini, int priority,
                        entry *jobs, size_t n, size_t *new_jobs, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = same_sweep(s, name, ini, err);
    if (rc)
        return rc < 0 ? rc : 0;           /* 1: a resubmission, nothing to do */
    if ((rc = prep(s, &st, "INSERT INTO sweeps(name, ini, priority, submitted) "
                   "VALUES(?, ?, ?, ?)", err)))
        return rc;
    bind_text(st, 1, name);
    bind_text(st, 2, ini);
    sqlite3_bind_int(st, 3, priority);
    sqlite3_bind_double(st, 4, now_s());
    if (!(rc = run_done(s, st, err)) && !(rc = insert_jobs(s, name, jobs, n, new_jobs, err)))
        rc = settle_sweeps(s, err);
    return rc;
}

int ls_store_add_sweep(ls_store *s, const char *name, const char *ini, int priority,
                       const ls_store_job *jobs, size_t n, size_t *new_jobs,
                       ls_err *err)
{
    return ls_store_add_sweep_params(s, name, ini, priority, jobs, NULL, n, new_jobs, err);
}

int ls_store_add_sweep_params(ls_store *s, const char *name, const char *ini, int priority,
                              const ls_store_job *jobs, const ls_job *params, size_t n,
                              size_t *new_jobs, ls_err *err)
{
    size_t dummy = 0;
    entry *copy = ls_calloc(n ? n : 1, sizeof *copy);
    int rc;

    if (!copy)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        copy[i] = (entry){jobs[i], params ? &params[i] : NULL};
    new_jobs = new_jobs ? new_jobs : &dummy;
    *new_jobs = 0;
    pthread_mutex_lock(&s->lock);
    if (!(rc = begin(s, err)))
        rc = end(s, add_sweep_tx(s, name, ini, priority, copy, n, new_jobs, err), err);
    pthread_mutex_unlock(&s->lock);
    ls_free(copy);
    return rc;
}

/* ---- reading sweeps ------------------------------------------------------------ */

static const char sweep_cols[] =
    "SELECT name, priority, state, submitted, core_s, error FROM sweeps";

static void sweep_from_row(sqlite3_stmt *st, ls_sweep_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", (const char *)sqlite3_column_text(st, 0));
    info->priority = sqlite3_column_int(st, 1);
    info->state = (ls_sweep_state)sqlite3_column_int(st, 2);
    info->submitted = sqlite3_column_double(st, 3);
    info->core_s = sqlite3_column_double(st, 4);
    if (sqlite3_column_type(st, 5) == SQLITE_TEXT)
        snprintf(info->error, sizeof info->error, "%s", (const char *)sqlite3_column_text(st, 5));
}

/* Jobs of the sweep by state, its done jobs by result status, and its
 * queued jobs with a row (interrupted, paused) by that row's status. */
static int sweep_counts(ls_store *s, ls_sweep_info *info, ls_err *err)
{
    static const char *const sql[3] = {
        "SELECT state, count(*) FROM jobs WHERE sweep = ? GROUP BY state",
        "SELECT r.status, count(*) FROM jobs j JOIN results r ON r.job_id = j.id "
        "WHERE j.sweep = ? AND j.state = 2 GROUP BY r.status",
        "SELECT ls_status(row), count(*) FROM jobs WHERE sweep = ? AND state = 0 "
        "AND row IS NOT NULL GROUP BY 1"};
    for (int q = 0; q < 3; q++) {
        sqlite3_stmt *st;
        int rc = prep(s, &st, sql[q], err), r;
        if (rc)
            return rc;
        bind_text(st, 1, info->name);
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            ls_status status;
            size_t c = (size_t)sqlite3_column_int64(st, 1);
            if (q == 0 && (unsigned)sqlite3_column_int(st, 0) < 4)
                info->by_state[sqlite3_column_int(st, 0)] = c;
            else if (q > 0 && !ls_status_parse((const char *)sqlite3_column_text(st, 0), &status))
                info->by_status[status] = c;
        }
        sqlite3_finalize(st);
        if (r != SQLITE_DONE)
            return db_error(s, err);
    }
    return 0;
}

static int sweep_get(ls_store *s, const char *name, ls_sweep_info *info, char **ini,
                     ls_err *err)
{
    sqlite3_stmt *st;
    int rc, r;

    if ((rc = prep(s, &st, "SELECT name, priority, state, submitted, core_s, error, ini "
                   "FROM sweeps WHERE name = ?", err)))
        return rc;
    bind_text(st, 1, name);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        sweep_from_row(st, info);
        if (ini && !(*ini = ls_strdup((const char *)sqlite3_column_text(st, 6))))
            rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    } else {
        rc = r == SQLITE_DONE ? ls_err_set(err, LS_EINVAL, "no sweep named '%s'", name)
                              : db_error(s, err);
    }
    sqlite3_finalize(st);
    return rc ? rc : sweep_counts(s, info, err);
}

int ls_store_sweep(ls_store *s, const char *name, ls_sweep_info *info, char **ini,
                   ls_err *err)
{
    if (ini)
        *ini = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = sweep_get(s, name, info, ini, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sweeps_all(ls_store *s, ls_sweep_info **out, size_t *n, ls_err *err)
{
    char sql[160];
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc, r;

    snprintf(sql, sizeof sql, "%s ORDER BY seq", sweep_cols);
    if ((rc = prep(s, &st, sql, err)))
        return rc;
    while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            void *p = ls_realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof **out);
            if (!p) {
                rc = ls_err_set(err, LS_ENOMEM, "out of memory");
                break;
            }
            *out = p;
        }
        sweep_from_row(st, &(*out)[(*n)++]);
    }
    if (!rc && r != SQLITE_DONE)
        rc = db_error(s, err);
    sqlite3_finalize(st);
    for (size_t i = 0; !rc && i < *n; i++)
        rc = sweep_counts(s, &(*out)[i], err);
    return rc;
}

int ls_store_sweeps(ls_store *s, ls_sweep_info **out, size_t *n, ls_err *err)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = sweeps_all(s, out, n, err);
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        ls_free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- changing sweeps --------------------------------------------------------------- */

/* The transition's UPDATE: which states it leaves from (a mask). */
static int set_state_tx(ls_store *s, const char *name, ls_sweep_state to, ls_err *err)
{
    static const unsigned from_mask[4] = {
        [LS_SWEEP_ACTIVE] = 1u << LS_SWEEP_PAUSED,
        [LS_SWEEP_PAUSED] = 1u << LS_SWEEP_ACTIVE,
        [LS_SWEEP_CANCELLED] = 1u << LS_SWEEP_ACTIVE | 1u << LS_SWEEP_PAUSED,
    };
    ls_sweep_info info;
    sqlite3_stmt *st;
    int rc = sweep_get(s, name, &info, NULL, err);

    if (rc)
        return rc;
    if ((unsigned)to > LS_SWEEP_CANCELLED)
        return ls_err_set(err, LS_EINVAL, "a sweep cannot be set %s", ls_sweep_state_name(to));
    if (info.state == to)
        return 0;                               /* pausing a paused sweep: fine */
    if (!(from_mask[to] & 1u << info.state))
        return ls_err_set(err, LS_ECONFLICT, "sweep '%s' is %s", name,
                          ls_sweep_state_name(info.state));
    /* A new state clears what made the scheduler stop the sweep. */
    if ((rc = prep(s, &st, "UPDATE sweeps SET state = ?, error = NULL WHERE name = ?", err)))
        return rc;
    sqlite3_bind_int(st, 1, (int)to);
    bind_text(st, 2, name);
    if ((rc = run_done(s, st, err)) || to != LS_SWEEP_CANCELLED)
        return rc;
    if ((rc = prep(s, &st, "UPDATE jobs SET state = 3 WHERE sweep = ? AND state = 0", err)))
        return rc;
    bind_text(st, 1, name);
    return run_done(s, st, err);
}

int ls_store_set_state(ls_store *s, const char *name, ls_sweep_state to, ls_err *err)
{
    IN_TRANSACTION(s, err, set_state_tx(s, name, to, err));
}

static int fail_tx(ls_store *s, const char *name, const char *why, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE sweeps SET state = 1, error = ? WHERE name = ? AND state = 0",
                  err);
    if (rc)
        return rc;
    bind_text(st, 1, why);
    bind_text(st, 2, name);
    return run_done(s, st, err);
}

int ls_store_fail_sweep(ls_store *s, const char *name, const char *why, ls_err *err)
{
    IN_TRANSACTION(s, err, fail_tx(s, name, why, err));
}

static int set_priority_tx(ls_store *s, const char *name, int priority, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE sweeps SET priority = ? WHERE name = ?", err);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, priority);
    bind_text(st, 2, name);
    if (!(rc = run_done(s, st, err)) && sqlite3_changes(s->db) == 0)
        rc = ls_err_set(err, LS_EINVAL, "no sweep named '%s'", name);
    return rc;
}

int ls_store_set_priority(ls_store *s, const char *name, int priority, ls_err *err)
{
    IN_TRANSACTION(s, err, set_priority_tx(s, name, priority, err));
}

int ls_store_queued(ls_store *s, const char *sweep, ls_store_job *out, size_t max,
                    size_t *n, ls_err *err)
{
    sqlite3_stmt *st;
    int rc, r = SQLITE_DONE;

    *n = 0;
    pthread_mutex_lock(&s->lock);
    if (!(rc = prep(s, &st, "SELECT j.id, j.est_s FROM jobs j JOIN sweeps w ON w.name = j.sweep "
                    "WHERE j.sweep = ? AND j.state = 0 AND w.state = 0 ORDER BY j.pos LIMIT ?",
                    err))) {
        bind_text(st, 1, sweep);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
            snprintf(out[*n].id, sizeof out[*n].id, "%s", (const char *)sqlite3_column_text(st, 0));
            out[(*n)++].est_s = sqlite3_column_double(st, 1);
        }
        if (r != SQLITE_DONE && r != SQLITE_ROW)
            rc = db_error(s, err);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- claim and finish ------------------------------------------------------------- */

/* The job's state, attempt and its sweep's state. */
static int job_get(ls_store *s, const char *sweep, const char *id, int *state,
                   int *attempt, int *sweep_state, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT j.state, j.attempt, w.state FROM jobs j JOIN sweeps w "
                  "ON w.name = j.sweep WHERE j.sweep = ? AND j.id = ?", err), r;
    if (rc)
        return rc;
    bind_text(st, 1, sweep);
    bind_text(st, 2, id);
    if ((r = sqlite3_step(st)) == SQLITE_ROW) {
        *state = sqlite3_column_int(st, 0);
        *attempt = sqlite3_column_int(st, 1);
        *sweep_state = sqlite3_column_int(st, 2);
    } else {
        rc = r == SQLITE_DONE ? ls_err_set(err, LS_EINVAL, "no job %s in sweep '%s'", id, sweep)
                              : db_error(s, err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The job id running in any sweep (the same job in two sweeps runs once). */
static int running_elsewhere(ls_store *s, const char *id, ls_err *err)
{
    sqlite3_stmt *st;
    long long n = 0;
    int rc = prep(s, &st, "SELECT count(*) FROM jobs WHERE id = ? AND state = 1", err);
    if (rc)
        return rc;
    bind_text(st, 1, id);
    if ((rc = query_int(s, st, 0, &n, err)))
        return rc;
    return n ? ls_err_set(err, LS_ECONFLICT, "job %s is running in another sweep", id) : 0;
}

static int claim_tx(ls_store *s, const char *sweep, const char *id, int *attempt, ls_err *err)
{
    int state, sweep_state;
    sqlite3_stmt *st;
    int rc = job_get(s, sweep, id, &state, attempt, &sweep_state, err);

    if (rc)
        return rc;
    if (state != LS_JOB_QUEUED || sweep_state != LS_SWEEP_ACTIVE)
        return ls_err_set(err, LS_ECONFLICT, "job %s of sweep '%s' is %s (sweep %s)", id,
                          sweep, ls_job_state_name(state), ls_sweep_state_name(sweep_state));
    if ((rc = running_elsewhere(s, id, err)) ||
        (rc = prep(s, &st, "UPDATE jobs SET state = 1, attempt = attempt + 1 "
                   "WHERE sweep = ? AND id = ?", err)))
        return rc;
    bind_text(st, 1, sweep);
    bind_text(st, 2, id);
    if (!(rc = run_done(s, st, err)))
        ++*attempt;
    return rc;
}

int ls_store_claim(ls_store *s, const char *sweep, const char *id, int *attempt,
                   ls_err *err)
{
    IN_TRANSACTION(s, err, claim_tx(s, sweep, id, attempt, err));
}

/* A final row: the job id's result; every queued copy of the job, in any
 * sweep, is done with it. */
static int record_final(ls_store *s, const char *sweep, const char *id, const char *status,
                        const char *row, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "INSERT INTO results(job_id, sweep, status, row) VALUES(?, ?, ?, ?)", err);
    if (rc)
        return rc;
    bind_text(st, 1, id);
    bind_text(st, 2, sweep);
    bind_text(st, 3, status);
    bind_text(st, 4, row);
    if ((rc = run_done(s, st, err)) ||
        (rc = prep(s, &st, "UPDATE jobs SET state = 2, row = NULL WHERE id = ?1 AND "
                   "(state = 0 OR sweep = ?2)", err)))
        return rc;
    bind_text(st, 1, id);
    bind_text(st, 2, sweep);
    return run_done(s, st, err);
}

/* A drained run: back to the queue, or cancelled with its sweep; its row
 * is kept for the export until the job ends. */
static int record_drained(ls_store *s, const char *sweep, const char *id, const char *row,
                          ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE jobs SET row = ?3, state = CASE WHEN (SELECT state FROM "
                  "sweeps WHERE name = ?1) = 2 THEN 3 ELSE 0 END WHERE sweep = ?1 AND id = ?2",
                  err);
    if (rc)
        return rc;
    bind_text(st, 1, sweep);
    bind_text(st, 2, id);
    bind_text(st, 3, row);
    return run_done(s, st, err);
}

/* A row of a search's job (its rung field is set) into rung_rows. */
static int log_rung_row(ls_store *s, const char *sweep, const char *row, ls_err *err)
{
    char *buf = ls_alloc(strlen(row) + 1);
    sqlite3_stmt *st;
    if (!buf)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    int rung = !row_field(row, LS_COLUMN_rung, buf) && *buf;
    ls_free(buf);
    if (!rung)
        return 0;
    int rc = prep(s, &st, "INSERT INTO rung_rows(sweep, row) VALUES(?, ?)", err);
    if (rc)
        return rc;
    bind_text(st, 1, sweep);
    bind_text(st, 2, row);
    return run_done(s, st, err);
}

static int charge(ls_store *s, const char *sweep, double core_s, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE sweeps SET core_s = core_s + ? WHERE name = ?", err);
    if (rc)
        return rc;
    sqlite3_bind_double(st, 1, core_s);
    bind_text(st, 2, sweep);
    return run_done(s, st, err);
}

static int finish_tx(ls_store *s, const char *sweep, const char *id, int attempt,
                     const char *status, const char *row, double core_s, ls_err *err)
{
    int state, now_attempt, sweep_state;
    ls_status st;
    int rc = job_get(s, sweep, id, &state, &now_attempt, &sweep_state, err);

    if (rc)
        return rc;
    if (state != LS_JOB_RUNNING || now_attempt != attempt)
        return ls_err_set(err, LS_ECONFLICT, "stale end of job %s (attempt %d): it is %s "
                          "at attempt %d", id, attempt, ls_job_state_name(state), now_attempt);
    if (ls_status_parse(status, &st))
        return ls_err_set(err, LS_EINVAL, "job %s: unknown status '%s'", id, status);
    rc = !ls_status_final(st, 0) ? record_drained(s, sweep, id, row, err)
                                 : record_final(s, sweep, id, status, row, err);
    if (!rc)
        rc = log_rung_row(s, sweep, row, err);
    if (!rc && !(rc = charge(s, sweep, core_s, err)))
        rc = settle_sweeps(s, err);
    return rc;
}

int ls_store_finish(ls_store *s, const char *sweep, const char *id, int attempt,
                    const char *status, const char *row, double core_s, ls_err *err)
{
    IN_TRANSACTION(s, err, finish_tx(s, sweep, id, attempt, status, row, core_s, err));
}

static int stop_tx(ls_store *s, const char *sweep, const char *id, const char *row,
                   ls_err *err)
{
    int state, attempt, sweep_state;
    int rc = job_get(s, sweep, id, &state, &attempt, &sweep_state, err);
    if (rc)
        return rc;
    if (state != LS_JOB_QUEUED)
        return ls_err_set(err, LS_ECONFLICT, "job %s of sweep '%s' cannot be stopped: it is %s",
                          id, sweep, ls_job_state_name(state));
    if (!(rc = record_final(s, sweep, id, "stopped", row, err)) &&
        !(rc = log_rung_row(s, sweep, row, err)))
        rc = settle_sweeps(s, err);
    return rc;
}

int ls_store_stop_job(ls_store *s, const char *sweep, const char *id, const char *row,
                      ls_err *err)
{
    IN_TRANSACTION(s, err, stop_tx(s, sweep, id, row, err));
}

/* The rows, copied out under the lock, then given to fn without it. */
static int rung_rows_get(ls_store *s, const char *sweep, char ***rows, size_t *n, ls_err *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = prep(s, &st, "SELECT row FROM rung_rows WHERE sweep = ? ORDER BY seq", err), r;
    if (rc)
        return rc;
    bind_text(st, 1, sweep);
    while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            char **a = ls_realloc(*rows, sizeof *a * (cap = cap ? 2 * cap : 64));
            if (!a) {
                rc = ls_err_set(err, LS_ENOMEM, "out of memory");
                break;
            }
            *rows = a;
        }
        if (!((*rows)[*n] = ls_strdup((const char *)sqlite3_column_text(st, 0))))
            rc = ls_err_set(err, LS_ENOMEM, "out of memory");
        else
            ++*n;
    }
    if (!rc && r != SQLITE_DONE)
        rc = db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}

int ls_store_rung_rows(ls_store *s, const char *sweep,
                       int (*fn)(void *ctx, const char *row, ls_err *err), void *ctx,
                       ls_err *err)
{
    char **rows = NULL;
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = rung_rows_get(s, sweep, &rows, &n, err);
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            rc = fn(ctx, rows[i], err);
        ls_free(rows[i]);
    }
    ls_free(rows);
    return rc;
}

/* ---- export ------------------------------------------------------------------------- */

static int export_rows(ls_store *s, const char *sweep, FILE *f, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT COALESCE(r.row, j.row) FROM jobs j LEFT JOIN results r "
                  "ON r.job_id = j.id WHERE j.sweep = ? AND COALESCE(r.row, j.row) IS NOT NULL "
                  "ORDER BY j.pos", err), r;
    if (rc)
        return rc;
    bind_text(st, 1, sweep);
    fprintf(f, "%s\n", LS_RESULTS_COLUMNS);
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        fprintf(f, "%s\n", (const char *)sqlite3_column_text(st, 0));
    if (r != SQLITE_DONE)
        rc = db_error(s, err);
    sqlite3_finalize(st);
    if (!rc && ferror(f))
        rc = ls_err_set(err, LS_EIO, "export of sweep '%s': write error", sweep);
    return rc;
}

int ls_store_export(ls_store *s, const char *sweep, FILE *f, ls_err *err)
{
    ls_sweep_info info;
    pthread_mutex_lock(&s->lock);
    int rc = sweep_get(s, sweep, &info, NULL, err);
    if (!rc)
        rc = export_rows(s, sweep, f, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- reading jobs --------------------------------------------------------------- */

/* Columns of ls_store_job_info; a job without a final row has its
 * non-final row's status (interrupted, paused) or none. */
static const char job_cols[] =
    "SELECT j.sweep, j.id, j.pos, j.est_s, j.state, j.attempt, COALESCE(r.status, "
    "ls_status(j.row), '') FROM jobs j "
    "LEFT JOIN results r ON r.job_id = j.id";

static void job_from_row(sqlite3_stmt *st, ls_store_job_info *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->sweep, sizeof o->sweep, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(o->id, sizeof o->id, "%s", (const char *)sqlite3_column_text(st, 1));
    o->pos = (size_t)sqlite3_column_int64(st, 2);
    o->est_s = sqlite3_column_double(st, 3);
    o->state = (ls_job_state)sqlite3_column_int(st, 4);
    o->attempt = sqlite3_column_int(st, 5);
    snprintf(o->status, sizeof o->status, "%s", (const char *)sqlite3_column_text(st, 6));
}

/* The WHERE clause of a filter ("" if none; ?2 is its value). */
static int filter_sql(const char *filter, const char **where, ls_err *err)
{
    ls_status st;

    *where = "";
    if (!filter || !*filter)
        return 0;
    for (int i = 0; i < 4; i++)
        if (!strcmp(filter, job_state_names[i])) {
            *where = " AND j.state = ?2";
            return 0;
        }
    if (ls_status_parse(filter, &st))
        return ls_err_set(err, LS_EINVAL, "unknown job status '%s' (expected queued, running, "
                          "done, cancelled, ok, diverged, failed, stopped, interrupted or "
                          "paused)", filter);
    *where = !ls_status_final(st, 0) ? " AND r.status IS NULL AND ls_status(j.row) = ?2"
                                     : " AND r.status = ?2";
    return 0;
}

static void bind_filter(sqlite3_stmt *st, const char *filter)
{
    for (int i = 0; i < 4; i++)
        if (filter && !strcmp(filter, job_state_names[i])) {
            sqlite3_bind_int(st, 2, i);
            return;
        }
    bind_text(st, 2, filter ? filter : "");
}

static int jobs_page(ls_store *s, const char *sweep, const char *filter, size_t offset,
                     size_t max, ls_store_job_info *out, size_t *n, size_t *total,
                     ls_err *err)
{
    const char *where;
    char sql[512];
    sqlite3_stmt *st;
    long long count = 0;
    int rc = filter_sql(filter, &where, err), r;

    if (rc)
        return rc;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs j LEFT JOIN results r ON r.job_id "
             "= j.id WHERE j.sweep = ?1%s", where);
    if ((rc = prep(s, &st, sql, err)))
        return rc;
    bind_text(st, 1, sweep);
    bind_filter(st, filter);
    if ((rc = query_int(s, st, 0, &count, err)))
        return rc;
    *total = (size_t)count;
    snprintf(sql, sizeof sql, "%s WHERE j.sweep = ?1%s ORDER BY j.pos LIMIT ?3 OFFSET ?4",
             job_cols, where);
    if ((rc = prep(s, &st, sql, err)))
        return rc;
    bind_text(st, 1, sweep);
    bind_filter(st, filter);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(max > INT64_MAX ? INT64_MAX : max));
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(offset > INT64_MAX ? INT64_MAX : offset));
    while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW)
        job_from_row(st, &out[(*n)++]);
    if (*n < max && r != SQLITE_DONE)
        rc = db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}

int ls_store_jobs(ls_store *s, const char *sweep, const char *filter, size_t offset,
                  size_t max, ls_store_job_info *out, size_t *n, size_t *total,
                  ls_err *err)
{
    ls_sweep_info info;
    size_t dummy;

    *n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = sweep_get(s, sweep, &info, NULL, err);
    if (!rc)
        rc = jobs_page(s, sweep, filter, offset, max, out, n, total ? total : &dummy, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- sorted, filtered listings (ls_store_jobs_query) ---- */

#define STATUS_SQL "COALESCE(r.status, ls_status(j.row), '')"
#define WHERE_MAX 32

/* Columns a job has before it runs: what it was asked (params). */
static int is_param_column(const ls_column *c)
{
    return c->from == LS_FROM_KEY || c->from == LS_FROM_JOB || c->from == LS_FROM_RES_KEY ||
           c->index == LS_COLUMN_job_id;
}

/* The SQL expression of a sort key or a column's value. */
static void value_sql(int column, char *buf, size_t len)
{
    const ls_column *c = column >= 0 ? ls_schema_at(column) : NULL;
    if (c)
        snprintf(buf, len, "ls_field(COALESCE(r.row, j.row%s), %d)",
                 is_param_column(c) ? ", j.params" : "", column);
    else
        snprintf(buf, len, "%s", column == LS_SORT_ID ? "j.id" : column == LS_SORT_STATE
                 ? "j.state" : column == LS_SORT_STATUS ? STATUS_SQL : "j.pos");
}

/* " AND ..." for q's filter and column conditions (?2, ?5...). */
static int query_where(const ls_store_query *q, char *buf, size_t len, ls_err *err)
{
    const char *where;
    char v[128];
    size_t used;
    int rc = filter_sql(q->filter, &where, err);

    if (rc)
        return rc;
    if (q->nwhere > WHERE_MAX)
        return ls_err_set(err, LS_EINVAL, "at most %d column conditions", WHERE_MAX);
    snprintf(buf, len, "%s", where);
    for (size_t i = 0; i < q->nwhere; i++) {
        const ls_column *c = q->where[i].column >= 0 && q->where[i].column < LS_NCOLUMNS
                                 ? ls_schema_at(q->where[i].column) : NULL;
        if (!c)
            return ls_err_set(err, LS_EINVAL, "no such column");
        if (ls_column_is_number(c) && !ls_csv_is_number(q->where[i].value, 0))
            return ls_err_set(err, LS_EINVAL, "%s: '%.64s' is not a number", c->name,
                              q->where[i].value);
        value_sql(c->index, v, sizeof v);
        used = strlen(buf);
        snprintf(buf + used, len - used, " AND %s = ?%zu", v, i + 5);
    }
    return 0;
}

static void bind_where(sqlite3_stmt *st, const ls_store_query *q)
{
    bind_text(st, 1, q->sweep);
    bind_filter(st, q->filter);
    for (size_t i = 0; i < q->nwhere; i++) {
        if (ls_column_is_number(ls_schema_at(q->where[i].column)))
            sqlite3_bind_double(st, (int)i + 5, strtod(q->where[i].value, NULL));
        else
            bind_text(st, (int)i + 5, q->where[i].value);
    }
}

static char *column_dup(sqlite3_stmt *st, int i, int *oom)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    char *d = t ? ls_strdup(t) : NULL;
    if (t && !d)
        *oom = 1;
    return d;
}

static int query_page(ls_store *s, const ls_store_query *q, ls_store_job_info *out,
                      char **rows, char **params, size_t *n, size_t *total, ls_err *err)
{
    char where[WHERE_MAX * 96 + 128], key[128], sql[2 * sizeof where + 2048];
    sqlite3_stmt *st;
    long long count = 0;
    int rc = query_where(q, where, sizeof where, err), r = SQLITE_DONE, oom = 0;

    if (rc)
        return rc;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs j LEFT JOIN results r ON r.job_id "
             "= j.id WHERE j.sweep = ?1%s", where);
    if ((rc = prep(s, &st, sql, err)))
        return rc;
    bind_where(st, q);
    if ((rc = query_int(s, st, 0, &count, err)))
        return rc;
    *total = (size_t)count;
    value_sql(q->sort, key, sizeof key);
    /* a key that is never NULL (pos, id, state, status) sorts plainly, so
     * that the order of pos or id can come from an index: a page then
     * costs its offset and size, not the sweep's jobs */
    char order[400];
    if (q->sort == LS_SORT_POS)
        snprintf(order, sizeof order, "j.pos %s", q->desc ? "DESC" : "ASC");
    else if (q->sort < 0)
        snprintf(order, sizeof order, "%s %s, j.pos", key, q->desc ? "DESC" : "ASC");
    else
        snprintf(order, sizeof order, "(%s) IS NULL, %s %s, j.pos", key, key,
                 q->desc ? "DESC" : "ASC");
    /* the sort carries only rowids; the rows' text is read for the page */
    snprintf(sql, sizeof sql, "WITH page AS (SELECT j.rowid AS rid FROM jobs j LEFT JOIN "
             "results r ON r.job_id = j.id WHERE j.sweep = ?1%s ORDER BY %s LIMIT ?3 OFFSET "
             "?4) SELECT j.sweep, j.id, j.pos, j.est_s, j.state, j.attempt, " STATUS_SQL
             ", COALESCE(r.row, j.row), j.params FROM page JOIN jobs j ON j.rowid = page.rid "
             "LEFT JOIN results r ON r.job_id = j.id ORDER BY %s", where, order, order);
    if ((rc = prep(s, &st, sql, err)))
        return rc;
    bind_where(st, q);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(q->max > INT64_MAX ? INT64_MAX : q->max));
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(q->offset > INT64_MAX ? INT64_MAX : q->offset));
    while (*n < q->max && (r = sqlite3_step(st)) == SQLITE_ROW) {
        job_from_row(st, &out[*n]);
        if (rows)
            rows[*n] = column_dup(st, 7, &oom);
        if (params)
            params[*n] = column_dup(st, 8, &oom);
        (*n)++;
    }
    if (*n < q->max && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = db_error(s, err);
    else if (oom)
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    sqlite3_finalize(st);
    return rc;
}

int ls_store_jobs_query(ls_store *s, const ls_store_query *q, ls_store_job_info *out,
                        char **rows, char **params, size_t *n, size_t *total, ls_err *err)
{
    ls_sweep_info info;
    size_t dummy;

    *n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = sweep_get(s, q->sweep, &info, NULL, err);
    if (!rc)
        rc = query_page(s, q, out, rows, params, n, total ? total : &dummy, err);
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        for (size_t i = 0; i < *n; i++) {
            if (rows)
                ls_free(rows[i]);
            if (params)
                ls_free(params[i]);
        }
        *n = 0;
    }
    return rc;
}

void ls_store_free_values(char **values, size_t n)
{
    for (size_t i = 0; values && i < n; i++)
        ls_free(values[i]);
    ls_free(values);
}

int ls_store_distinct(ls_store *s, const char *sweep, int column, size_t max,
                      char ***values, size_t *n, ls_err *err)
{
    char v[128], sql[512];
    sqlite3_stmt *st;
    int rc, r = SQLITE_DONE, oom = 0;
    char **out = ls_calloc(max ? max : 1, sizeof *out);

    *values = NULL;
    *n = 0;
    if (!out)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    if (column < 0 || column >= LS_NCOLUMNS) {
        ls_free(out);
        return ls_err_set(err, LS_EINVAL, "no such column");
    }
    value_sql(column, v, sizeof v);
    snprintf(sql, sizeof sql, "SELECT DISTINCT %s AS v FROM jobs j LEFT JOIN results r ON "
             "r.job_id = j.id WHERE j.sweep = ?1 AND v IS NOT NULL ORDER BY v LIMIT %zu",
             v, max);
    pthread_mutex_lock(&s->lock);
    if (!(rc = prep(s, &st, sql, err))) {
        bind_text(st, 1, sweep);
        while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW)
            out[(*n)++] = column_dup(st, 0, &oom);
        if (*n < max && r != SQLITE_DONE && r != SQLITE_ROW)
            rc = db_error(s, err);
        else if (oom)
            rc = ls_err_set(err, LS_ENOMEM, "out of memory");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        ls_store_free_values(out, *n);
        *n = 0;
        return rc;
    }
    *values = out;
    return 0;
}

static int job_row(ls_store *s, const char *id, char **row, ls_err *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT row FROM results WHERE job_id = ?1 UNION ALL "
                  "SELECT row FROM jobs WHERE id = ?1 AND row IS NOT NULL LIMIT 1", err), r;
    if (rc)
        return rc;
    bind_text(st, 1, id);
    r = sqlite3_step(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = db_error(s, err);
    else if (r == SQLITE_ROW && !(*row = ls_strdup((const char *)sqlite3_column_text(st, 0))))
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    sqlite3_finalize(st);
    return rc;
}

static int job_entries(ls_store *s, const char *id, ls_store_job_info *out, size_t max,
                       size_t *n, ls_err *err)
{
    char sql[512];
    sqlite3_stmt *st;
    int rc, r = SQLITE_DONE;

    snprintf(sql, sizeof sql, "%s JOIN sweeps w ON w.name = j.sweep WHERE j.id = ? "
             "ORDER BY w.seq", job_cols);
    if ((rc = prep(s, &st, sql, err)))
        return rc;
    bind_text(st, 1, id);
    while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW)
        job_from_row(st, &out[(*n)++]);
    if (r != SQLITE_DONE && r != SQLITE_ROW)
        rc = db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}

int ls_store_job_of(ls_store *s, const char *id, ls_store_job_info *out, size_t max,
                 size_t *n, char **row, ls_err *err)
{
    *n = 0;
    if (row)
        *row = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = job_entries(s, id, out, max, n, err);
    if (!rc && row)
        rc = job_row(s, id, row, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int ls_store_left(ls_store *s, const char *sweep, double *est_s, ls_err *err)
{
    sqlite3_stmt *st;
    int rc, r;

    *est_s = 0;
    pthread_mutex_lock(&s->lock);
    if (!(rc = prep(s, &st, "SELECT total(est_s) FROM jobs WHERE sweep = ? AND state IN (0, 1)",
                    err))) {
        bind_text(st, 1, sweep);
        if ((r = sqlite3_step(st)) == SQLITE_ROW)
            *est_s = sqlite3_column_double(st, 0);
        else
            rc = db_error(s, err);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int ls_store_finished(ls_store *s, size_t by_status[LS_NSTATUS], ls_err *err)
{
    sqlite3_stmt *st;
    int rc, r = SQLITE_DONE;

    memset(by_status, 0, LS_NSTATUS * sizeof *by_status);
    pthread_mutex_lock(&s->lock);
    if (!(rc = prep(s, &st, "SELECT status, count(*) FROM results GROUP BY status", err))) {
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            ls_status status;
            if (!ls_status_parse((const char *)sqlite3_column_text(st, 0), &status))
                by_status[status] = (size_t)sqlite3_column_int64(st, 1);
        }
        if (r != SQLITE_DONE)
            rc = db_error(s, err);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
