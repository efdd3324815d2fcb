/* client_out.c - what the server's clients print; see client_out.h. */
#include "client_out.h"

#include <string.h>
#include <time.h>

#include "lstmsweep/sysinfo.h"
#include "lstmsweep/table.h"

static long int_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static double num_at(const json_t *o, const char *key, double none)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : none;
}

int cli_sweep_parse(const json_t *o, cli_sweep *s)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *state = json_string_value(json_object_get(o, "state"));

    memset(s, 0, sizeof *s);
    if (!json_is_object(o) || !name || !state)
        return -1;
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->state, sizeof s->state, "%s", state);
    s->priority = (int)int_at(o, "priority", NULL);
    s->busy_cores = (int)int_at(o, "busy_cores", NULL);
    s->submitted = num_at(o, "submitted", 0);
    s->core_seconds = num_at(o, "core_seconds", 0);
    s->left_core_seconds = num_at(o, "left_core_seconds", 0);
    s->eta_seconds = num_at(o, "eta_seconds", -1);
    s->total = int_at(o, "jobs", "total");
    s->queued = int_at(o, "jobs", "queued");
    s->running = int_at(o, "jobs", "running");
    s->done = int_at(o, "jobs", "done");
    s->cancelled = int_at(o, "jobs", "cancelled");
    s->ok = int_at(o, "results", "ok");
    s->diverged = int_at(o, "results", "diverged");
    s->failed = int_at(o, "results", "failed");
    s->stopped = int_at(o, "results", "stopped");
    s->paused = int_at(o, "results", "paused");
    return 0;
}

int cli_sweep_finished(const cli_sweep *s)
{
    return !strcmp(s->state, "done") || !strcmp(s->state, "cancelled");
}

static void eta_text(const cli_sweep *s, char *buf, size_t len)
{
    if (s->eta_seconds >= 0)
        ls_sys_format_duration(s->eta_seconds, buf, len);
    else
        snprintf(buf, len, "-");
}

void cli_sweep_table(FILE *f, const cli_sweep *s, size_t n)
{
    ls_table t;
    char eta[32];

    ls_table_init(&t, 10, 0x3u);
    ls_table_row(&t);
    static const char *const head[] = {"sweep", "state", "priority", "jobs", "done",
                                       "running", "queued", "failed", "cores", "ETA"};
    for (int i = 0; i < 10; i++)
        ls_table_put(&t, "%s", head[i]);
    for (size_t i = 0; i < n; i++) {
        eta_text(&s[i], eta, sizeof eta);
        ls_table_row(&t);
        ls_table_put(&t, "%s", s[i].name);
        ls_table_put(&t, "%s", s[i].state);
        ls_table_put(&t, "%d", s[i].priority);
        ls_table_put(&t, "%ld", s[i].total);
        ls_table_put(&t, "%ld", s[i].done);
        ls_table_put(&t, "%ld", s[i].running);
        ls_table_put(&t, "%ld", s[i].queued);
        ls_table_put(&t, "%ld", s[i].failed);
        ls_table_put(&t, "%d", s[i].busy_cores);
        ls_table_put(&t, "%s", eta);
    }
    ls_table_text(f, &t);
    ls_table_free(&t);
}

void cli_sweep_detail(FILE *f, const cli_sweep *s)
{
    char when[64] = "?", eta[32], used[32], left[32];
    time_t t = (time_t)s->submitted;
    struct tm tm;

    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    eta_text(s, eta, sizeof eta);
    ls_sys_format_duration(s->core_seconds, used, sizeof used);
    ls_sys_format_duration(s->left_core_seconds, left, sizeof left);
    fprintf(f, "sweep %s: %s, priority %d, submitted %s\n", s->name, s->state, s->priority,
            when);
    fprintf(f, "  jobs:    %ld in all: %ld done, %ld running, %ld queued, %ld cancelled\n",
            s->total, s->done, s->running, s->queued, s->cancelled);
    fprintf(f, "  results: %ld ok, %ld diverged, %ld failed", s->ok, s->diverged, s->failed);
    if (s->stopped || s->paused) /* an asha search */
        fprintf(f, "; %ld stopped, %ld paused at a rung", s->stopped, s->paused);
    fputc('\n', f);
    fprintf(f, "  cores:   %d busy; %s core time used, about %s left; ETA %s\n",
            s->busy_cores, used, left, eta);
}

void cli_sweep_progress(char *buf, size_t len, const cli_sweep *s, int with_eta)
{
    char eta[32];
    int n = snprintf(buf, len, "%s %s: %ld/%ld done (%ld ok, %ld diverged, %ld failed), "
                     "%ld running, %ld queued", s->name, s->state, s->done, s->total, s->ok,
                     s->diverged, s->failed, s->running, s->queued);
    if (with_eta && n > 0 && (size_t)n < len && !cli_sweep_finished(s)) {
        eta_text(s, eta, sizeof eta);
        snprintf(buf + n, len - (size_t)n, ", %d cores, ETA %s", s->busy_cores, eta);
    }
}

void cli_error_text(const char *body, size_t len, char *buf, size_t cap)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *e = json_string_value(json_object_get(j, "error"));

    if (e)
        snprintf(buf, cap, "%s", e);
    else
        snprintf(buf, cap, "%.*s", (int)(len < 300 ? len : 300), body);
    json_decref(j);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
}
