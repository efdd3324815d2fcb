/* sweep.c - sweep files; see include/lstmsweep/sweep.h.
 *
 * The file goes through libinih's ini_parse_stream() with our own line
 * reader.  inih calls the handler for a line before it reads the next, so
 * the reader's line count is the handler's line number (Debian's inih is
 * built without INI_HANDLER_LINENO).  The reader also
 *  - strips leading whitespace: Debian's build allows Python-style
 *    continuation lines, which would silently glue an indented line onto
 *    the previous value; stripped, such a line is a syntax error instead;
 *  - refuses lines longer than inih's buffer, which inih would split;
 *  - sees the section headers, which inih does not report (an empty
 *    [mnist] must still run, an empty [cifar] must still be an error).
 * inih handles comments: whole-line ';' or '#', inline ';' after a blank.
 *
 * Expansion order: [bitcount] then [mnist]; within a section the keys in
 * order of first appearance, the first key varying slowest, values in the
 * order given, and the seeds of [sweep] innermost.  With [search] samples
 * (search.h), each section is drawn from instead: samples configurations,
 * in the order drawn, each times the seeds.
 */
#include "lstmsweep/sweep.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/schema.h"

/* 100k jobs are ~70 MB of ls_job and far more training than any machine
 * will do; a larger product is a typo. */
#define MAX_JOBS 100000
#define MAX_KEYS 32     /* per section; unknown and repeated keys are errors */
#define KEY_MAX 32

enum { SEC_SWEEP, SEC_SEARCH, SEC_BITCOUNT, SEC_MNIST, NSECTIONS };
static const char *const section_names[NSECTIONS] = {"sweep", "search", "bitcount", "mnist"};
#define SECTIONS_EXPECTED "[sweep], [search], [bitcount] or [mnist]"

static const char *const sweep_keys[] = {"name", "results", "curves", "checkpoints",
                                         "seeds", "threads_per_job", "mem_limit"};
#define NSWEEP_KEYS ((int)(sizeof sweep_keys / sizeof *sweep_keys))

/* One key of a section, its value split into items (pointers into text). */
typedef struct entry {
    char name[KEY_MAX];     /* canonical spelling, '_' */
    char written[KEY_MAX];  /* as written, for messages */
    char *text;             /* ls_alloc'd copy of the value, split in place */
    char **items;           /* ls_alloc'd [nitems] */
    int nitems;
    int nranges;            /* items that are ranges (search.h) */
    int line;               /* line in the file; 0 if from an override */
    const char *override;   /* the --set argument, if line == 0 */
} entry;

typedef struct section {
    int line;               /* line of the header; 0 = section absent */
    int nentries;
    entry entries[MAX_KEYS];
} section;

typedef struct parser {
    const char *path;       /* the file, or the display name of text */
    const char *text;       /* ls_sweep_load_text: the sweep itself */
    unsigned flags;         /* LS_SWEEP_* */
    FILE *f;
    char buf[1024];         /* one raw line */
    int lineno;
    int cur;                /* current section, -1 before the first */
    int rc;                 /* first error, 0 if none */
    int err_line;           /* its line, for ordering against inih's */
    ls_err *err;
    section sec[NSECTIONS];
} parser;

/* ---- errors ------------------------------------------------------------ */

/* "FILE:LINE" or "--set ARG" */
static void where(const parser *p, int line, const char *override, char *buf, size_t len)
{
    if (override)
        snprintf(buf, len, "--set %s", override);
    else if (line > 0)
        snprintf(buf, len, "%s:%d", p->path, line);
    else
        snprintf(buf, len, "%s", p->path);
}

/* Record "WHERE: [section] key: message" as the first error; returns code. */
static int failv(parser *p, int code, int line, const char *override, int sec,
                 const char *key, const char *fmt, va_list ap)
{
    char w[LS_SWEEP_PATH_MAX + 64], msg[400];

    if (p->rc)
        return p->rc;
    where(p, line, override, w, sizeof w);
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (sec < 0)
        ls_err_set(p->err, code, "%s: %s", w, msg);
    else if (!key)
        ls_err_set(p->err, code, "%s: [%s]: %s", w, section_names[sec], msg);
    else
        ls_err_set(p->err, code, "%s: [%s] %s: %s", w, section_names[sec], key, msg);
    p->rc = code;
    p->err_line = line;
    return code;
}

static int fail(parser *p, int code, int line, const char *override, int sec,
                const char *key, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int fail(parser *p, int code, int line, const char *override, int sec,
                const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(p, code, line, override, sec, key, fmt, ap);
    va_end(ap);
    return code;
}

static int entry_fail(parser *p, int sec, const entry *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int entry_fail(parser *p, int sec, const entry *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(p, LS_EINVAL, e->line, e->override, sec, e->written, fmt, ap);
    va_end(ap);
    return LS_EINVAL;
}

/* ls_job_set's messages start with the key's name; drop it, ours has it. */
static const char *strip_key(const char *msg, const char *key)
{
    size_t n = strlen(key);
    return !strncmp(msg, key, n) && msg[n] == ':' && msg[n + 1] == ' ' ? msg + n + 2 : msg;
}

/* ---- keys -------------------------------------------------------------- */

static int is_job_key(const char *canon)
{
    for (int i = 0; i < ls_job_key_count(); i++)
        if (!strcmp(ls_job_key_at(i)->name, canon))
            return 1;
    return 0;
}

static int is_task(int sec) { return sec >= SEC_BITCOUNT; }

static int is_known_key(int sec, const char *canon)
{
    if (is_task(sec))
        return strcmp(canon, "task") && is_job_key(canon);
    if (sec == SEC_SEARCH) {
        for (int i = 0; i < ls_search_key_count(); i++)
            if (!strcmp(ls_search_key_at(i), canon))
                return 1;
        return 0;
    }
    for (int i = 0; i < NSWEEP_KEYS; i++)
        if (!strcmp(sweep_keys[i], canon))
            return 1;
    return 0;
}

/* Lists: every task key and [sweep] seeds; other [sweep] keys are single
 * values (paths may contain commas). */
static int is_list_key(int sec, const char *canon)
{
    return is_task(sec) || (sec == SEC_SWEEP && !strcmp(canon, "seeds"));
}

static entry *find_entry(section *s, const char *canon)
{
    for (int i = 0; i < s->nentries; i++)
        if (!strcmp(s->entries[i].name, canon))
            return &s->entries[i];
    return NULL;
}

static void entry_free(entry *e)
{
    ls_free(e->text);
    ls_free(e->items);
    e->text = NULL;
    e->items = NULL;
    e->nitems = 0;
}

static char *trim(char *s)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Copy `value` into e and split it into trimmed items. */
static int split_value(parser *p, int sec, entry *e, const char *value)
{
    size_t len = strlen(value);
    int n = 1, list = is_list_key(sec, e->name);
    char *s;

    e->text = ls_alloc(len + 1);
    if (!e->text)
        return fail(p, LS_ENOMEM, e->line, e->override, sec, e->written, "out of memory");
    memcpy(e->text, value, len + 1);
    for (const char *c = value; list && *c; c++)
        n += *c == ',';
    e->items = ls_alloc((size_t)n * sizeof *e->items);
    if (!e->items)
        return fail(p, LS_ENOMEM, e->line, e->override, sec, e->written, "out of memory");
    if (!*trim(e->text))
        return entry_fail(p, sec, e, list ? "empty list" : "empty value");
    s = e->text;
    for (int i = 0; i < n; i++) {
        char *comma = list ? strchr(s, ',') : NULL;
        if (comma)
            *comma = '\0';
        e->items[i] = trim(s);
        if (!*e->items[i])
            return entry_fail(p, sec, e, "empty item %d in list '%s'", i + 1, value);
        e->nitems++;
        s = comma ? comma + 1 : s + strlen(s);
    }
    return 0;
}

/* ---- checking values --------------------------------------------------- */

static int set_item(parser *p, int sec, const entry *e, ls_job *job, const char *item)
{
    ls_err e2 = {0};
    const char *key = strcmp(e->name, "seeds") ? e->name : "seed";

    if (ls_job_set(job, key, item, &e2) == 0)
        return 0;
    return entry_fail(p, sec, e, "%s%s", strip_key(e2.msg, key),
                      strchr(item, '#')   ? " (comments start with ';')"
                      : strchr(item, ';') ? " (an inline ';' needs a blank before it)"
                                          : "");
}

/* A range item ("LO..HI [log]", search.h) of a number key: both ends must
 * set the field.  1 if item is a range, 0 if not, or the error. */
static int check_range(parser *p, int sec, entry *e, const char *item, ls_job *job)
{
    double lo, hi;
    int log_scale;
    ls_err rerr = {0};
    const ls_column *c = ls_schema_column(!strcmp(e->name, "seeds") ? "seed" : e->name);
    if (!c || !ls_column_is_number(c)) /* a path may hold "..": a value */
        return 0;
    int r = ls_search_range(item, &lo, &hi, &log_scale, &rerr);
    if (r <= 0)
        return r < 0 ? entry_fail(p, sec, e, "%s", rerr.msg) : 0;
    if (!strcmp(e->name, "seeds") || !strcmp(e->name, "seed"))
        return entry_fail(p, sec, e, "'%s': seeds take no ranges (list them)", item);
    char end[2][32];
    snprintf(end[0], sizeof end[0], "%.17g", lo);
    snprintf(end[1], sizeof end[1], "%.17g", hi);
    for (int k = 0; k < 2; k++) {
        ls_job one = *job; /* each end must make a valid job on its own */
        ls_err verr = {0};
        if ((ls_column_is_integer(c) && floor(k ? hi : lo) != (k ? hi : lo)) ||
            set_item(p, sec, e, &one, end[k]))
            return p->rc ? p->rc : entry_fail(p, sec, e, "'%s': the ends must be integers",
                                              item);
        if (ls_job_validate(&one, &verr))
            return entry_fail(p, sec, e, "'%s': %s", item, verr.msg);
    }
    e->nranges++;
    return 1;
}

/* Every item must set a job field (a range: both its ends), and no two
 * items may give the same job (hidden = 8, 08; or threads = 1, 2, which is
 * not part of the identity). */
static int check_list(parser *p, int sec, entry *e)
{
    char (*ids)[LS_JOB_ID_LEN] = ls_alloc((size_t)e->nitems * sizeof *ids);
    int rc = 0;

    if (!ids)
        return fail(p, LS_ENOMEM, e->line, e->override, sec, e->written, "out of memory");
    for (int i = 0; i < e->nitems && !rc; i++) {
        ls_job job;
        ls_job_defaults(&job, sec == SEC_MNIST ? LS_TASK_MNIST : LS_TASK_BITCOUNT);
        if ((rc = check_range(p, sec, e, e->items[i], &job)) != 0) {
            snprintf(ids[i], LS_JOB_ID_LEN, "range%d", i);
            rc = rc < 0 ? rc : 0;
            continue;
        }
        rc = set_item(p, sec, e, &job, e->items[i]);
        ls_job_id(&job, ids[i]);
        for (int k = 0; k < i && !rc; k++)
            if (!strcmp(ids[k], ids[i]))
                rc = entry_fail(p, sec, e, "values '%s' and '%s' give the same job",
                                e->items[k], e->items[i]);
    }
    ls_free(ids);
    return rc;
}

static int parse_threads(const char *s, int *threads)
{
    char *end;
    long v;

    if (!strcmp(s, "auto")) {
        *threads = 0;
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 4096)
        return LS_EINVAL;
    *threads = (int)v;
    return 0;
}

static int check_sweep_value(parser *p, const entry *e)
{
    const char *v = e->items[0];
    size_t bytes;
    int threads;

    if (!strcmp(e->name, "name")) {
        if (strlen(v) >= sizeof ((ls_sweep *)0)->name)
            return entry_fail(p, SEC_SWEEP, e, "longer than %zu characters",
                              sizeof ((ls_sweep *)0)->name - 1);
        for (const char *c = v; *c; c++)
            if (*c == '/' || iscntrl((unsigned char)*c))
                return entry_fail(p, SEC_SWEEP, e, "'%s' contains '/' or a control character", v);
    } else if (!strcmp(e->name, "threads_per_job")) {
        if (parse_threads(v, &threads))
            return entry_fail(p, SEC_SWEEP, e, "'%s' is not \"auto\" or an integer in 1..4096", v);
    } else if (!strcmp(e->name, "mem_limit")) {
        if (ls_parse_bytes(v, &bytes))
            return entry_fail(p, SEC_SWEEP, e,
                              "'%s' is not \"auto\" or a size such as 512M or 24G", v);
    } else if (strlen(v) >= LS_SWEEP_PATH_MAX) {
        return entry_fail(p, SEC_SWEEP, e, "path longer than %d characters",
                          LS_SWEEP_PATH_MAX - 1);
    }
    return 0;
}

static int check_search_value(parser *p, const entry *e)
{
    ls_search s;
    ls_err serr = {0};
    ls_search_defaults(&s);
    if (ls_search_set(&s, e->name, e->items[0], &serr))
        return entry_fail(p, SEC_SEARCH, e, "%s", strip_key(serr.msg, e->name));
    return 0;
}

static int is_path_key(const char *canon)
{
    return !strcmp(canon, "results") || !strcmp(canon, "curves") ||
           !strcmp(canon, "checkpoints");
}

/* Add (or, for an override, replace) key `name` of section `sec`. */
static int add_entry(parser *p, int sec, const char *name, const char *value, int line,
                     const char *override)
{
    section *s = &p->sec[sec];
    entry tmp = {.line = line, .override = override}, *e;
    size_t n = strlen(name);

    if (n >= KEY_MAX || n == 0)
        return fail(p, LS_EINVAL, line, override, sec, name, "unknown key");
    for (size_t i = 0; i <= n; i++) {
        tmp.written[i] = name[i];
        tmp.name[i] = name[i] == '-' ? '_' : name[i];
    }
    if (!is_known_key(sec, tmp.name))
        return fail(p, LS_EINVAL, line, override, sec, name, "unknown key%s",
                    !strcmp(tmp.name, "task") ? " (the section gives the task)" : "");
    if ((p->flags & LS_SWEEP_NO_PATHS) && sec == SEC_SWEEP && is_path_key(tmp.name))
        return fail(p, LS_EINVAL, line, override, sec, name, "not allowed here: the server "
                    "keeps results, curves and checkpoints in its state directory");
    e = find_entry(s, tmp.name);
    if (e && !override)
        return fail(p, LS_EINVAL, line, override, sec, name, "duplicate key (first on line %d)",
                    e->line);
    if (!e) {
        if (s->nentries == MAX_KEYS)
            return fail(p, LS_EINVAL, line, override, sec, name, "too many keys");
        e = &s->entries[s->nentries++];
    }
    entry_free(e);
    *e = tmp;
    if (split_value(p, sec, e, value))
        return p->rc;
    if (is_list_key(sec, e->name))
        return check_list(p, sec, e);
    return sec == SEC_SEARCH ? check_search_value(p, e) : check_sweep_value(p, e);
}

/* ---- reading the file -------------------------------------------------- */

static int enter_section(parser *p, char *line)
{
    char *close = strchr(line, ']'), *rest, *name;

    if (!close)
        return fail(p, LS_EINVAL, p->lineno, NULL, -1, NULL, "'%s': missing ']'", line);
    *close = '\0';
    rest = trim(close + 1);
    name = trim(line + 1);
    if (*rest && *rest != ';' && *rest != '#')
        return fail(p, LS_EINVAL, p->lineno, NULL, -1, NULL, "[%s]: unexpected '%s' after ']'",
                    name, rest);
    for (int i = 0; i < NSECTIONS; i++)
        if (!strcmp(name, section_names[i])) {
            if (p->sec[i].line)
                return fail(p, LS_EINVAL, p->lineno, NULL, i, NULL,
                            "section given twice (first on line %d)", p->sec[i].line);
            p->sec[i].line = p->lineno;
            p->cur = i;
            return 0;
        }
    return fail(p, LS_EINVAL, p->lineno, NULL, -1, NULL,
                "[%s]: unknown section (expected " SECTIONS_EXPECTED ")", name);
}

/* fgets-style reader for ini_parse_stream; returns NULL at the end of the
 * file and after the first error. */
static char *read_line(char *str, int num, void *stream)
{
    parser *p = stream;
    char *s = p->buf;
    size_t n;
    int too_long;

    if (p->rc || !fgets(p->buf, sizeof p->buf, p->f)) {
        if (!p->rc && ferror(p->f))
            fail(p, LS_EIO, p->lineno + 1, NULL, -1, NULL, "read error: %s", strerror(errno));
        return NULL;
    }
    p->lineno++;
    n = strlen(s);
    too_long = !(n && s[n - 1] == '\n') && !feof(p->f);
    if (n && s[n - 1] == '\n')
        s[n - 1] = '\0';
    if (p->lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
        s += 3;
    while (isspace((unsigned char)*s))
        s++;
    if (too_long || strlen(s) + 2 > (size_t)num) { /* inih needs room for "\n\0" */
        fail(p, LS_EINVAL, p->lineno, NULL, -1, NULL, "line longer than %d characters", num - 2);
        return NULL;
    }
    snprintf(str, (size_t)num, "%s\n", s);
    if (*s == '[' && enter_section(p, s)) /* after the copy: it cuts s */
        return NULL;
    return str;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    parser *p = user;

    if (p->rc)
        return 0;
    if (p->cur < 0) {
        fail(p, LS_EINVAL, p->lineno, NULL, -1, NULL,
             "%s: key before the first section (" SECTIONS_EXPECTED ")", name);
        return 0;
    }
    return add_entry(p, p->cur, name, value, p->lineno, NULL) == 0;
}

static int parse_file(parser *p)
{
    int ret;

    /* text goes through the same reader as a file, so its messages
     * carry line numbers the same way */
    p->f = p->text ? fmemopen((void *)p->text, strlen(p->text), "r") : fopen(p->path, "r");
    if (!p->f)
        return fail(p, LS_EIO, 0, NULL, -1, NULL, "cannot open: %s", strerror(errno));
    ret = ini_parse_stream(read_line, p, on_value, p);
    fclose(p->f);
    p->f = NULL;
    if (ret == -2) {
        p->rc = 0; /* an allocation failure inside inih beats anything else */
        return fail(p, LS_ENOMEM, 0, NULL, -1, NULL, "out of memory");
    }
    if (ret > 0 && (!p->rc || ret < p->err_line)) {
        p->rc = 0;
        return fail(p, LS_EINVAL, ret, NULL, -1, NULL,
                    "syntax error: expected '[section]' or 'key = value'");
    }
    return p->rc;
}

/* "section.key=value" */
static int apply_override(parser *p, const char *arg)
{
    char sec_name[16], key[KEY_MAX + 1];
    const char *eq = strchr(arg, '='), *dot = strchr(arg, '.');
    int sec = -1;

    if (!eq || !dot || dot > eq || dot == arg || (size_t)(dot - arg) >= sizeof sec_name ||
        (size_t)(eq - dot - 1) >= sizeof key)
        return fail(p, LS_EINVAL, 0, arg, -1, NULL, "expected section.key=value");
    snprintf(sec_name, sizeof sec_name, "%.*s", (int)(dot - arg), arg);
    snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
    for (int i = 0; i < NSECTIONS; i++)
        if (!strcmp(trim(sec_name), section_names[i]))
            sec = i;
    if (sec < 0)
        return fail(p, LS_EINVAL, 0, arg, -1, NULL,
                    "unknown section '%s' (expected sweep, search, bitcount or mnist)", sec_name);
    if (is_task(sec) && !p->sec[sec].line)
        return fail(p, LS_EINVAL, 0, arg, sec, NULL, "%s has no such section", p->path);
    return add_entry(p, sec, trim(key), eq + 1, 0, arg);
}

static void parser_free(parser *p)
{
    for (int s = 0; s < NSECTIONS; s++)
        for (int i = 0; i < p->sec[s].nentries; i++)
            entry_free(&p->sec[s].entries[i]);
}

/* ---- the [sweep] settings ---------------------------------------------- */

static const char *sweep_value(parser *p, const char *key)
{
    entry *e = find_entry(&p->sec[SEC_SWEEP], key);
    return e ? e->items[0] : NULL;
}

/* `results` with ".csv" replaced by (or, lacking it, followed by) `suffix` */
static int derive_path(parser *p, const char *results, const char *suffix, char *out)
{
    size_t n = strlen(results);

    if (n >= 4 && !strcmp(results + n - 4, ".csv"))
        n -= 4;
    if (n + strlen(suffix) >= LS_SWEEP_PATH_MAX)
        return fail(p, LS_EINVAL, 0, NULL, SEC_SWEEP, "results",
                    "path too long to derive the %s path", suffix);
    memcpy(out, results, n);
    strcpy(out + n, suffix);
    return 0;
}

static int default_name(parser *p, char *name, size_t len)
{
    const char *base = strrchr(p->path, '/');
    size_t n;

    base = base ? base + 1 : p->path;
    n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".ini"))
        n -= 4;
    if (n >= len)
        return fail(p, LS_EINVAL, 0, NULL, -1, NULL,
                    "file name too long for a sweep name; set name in [sweep]");
    snprintf(name, len, "%.*s", (int)n, base);
    return 0;
}

static int sweep_settings(parser *p, ls_sweep *s)
{
    const char *v;

    if (strlen(p->path) >= sizeof s->path)
        return fail(p, LS_EINVAL, 0, NULL, -1, NULL, "path too long");
    snprintf(s->path, sizeof s->path, "%s", p->path);
    if ((v = sweep_value(p, "name")))
        snprintf(s->name, sizeof s->name, "%s", v);
    else if (default_name(p, s->name, sizeof s->name))
        return p->rc;
    if ((v = sweep_value(p, "results")))
        snprintf(s->results, sizeof s->results, "%s", v);
    else
        snprintf(s->results, sizeof s->results, "results/%s.csv", s->name);
    if ((v = sweep_value(p, "curves")))
        snprintf(s->curves, sizeof s->curves, "%s", v);
    else if (derive_path(p, s->results, "-curves.csv", s->curves))
        return p->rc;
    if ((v = sweep_value(p, "checkpoints")))
        snprintf(s->checkpoints, sizeof s->checkpoints, "%s", v);
    else if (derive_path(p, s->results, ".ckpt", s->checkpoints))
        return p->rc;
    if ((v = sweep_value(p, "threads_per_job")))
        parse_threads(v, &s->threads_per_job); /* checked when read */
    if ((v = sweep_value(p, "mem_limit")))
        ls_parse_bytes(v, &s->mem_limit);
    if (derive_path(p, s->results, "-search.csv", s->search_log))
        return p->rc;
    ls_search_defaults(&s->search);
    const section *sec = &p->sec[SEC_SEARCH];
    for (int i = 0; i < sec->nentries; i++) /* checked when read */
        (void)ls_search_set(&s->search, sec->entries[i].name, sec->entries[i].items[0], NULL);
    if (s->search.method == LS_SEARCH_GRID && s->search.samples > 0)
        return entry_fail(p, SEC_SEARCH, find_entry(&p->sec[SEC_SEARCH], "samples"),
                          "samples draws configurations: method = random or asha");
    if (s->search.method == LS_SEARCH_RANDOM && s->search.samples == 0)
        return fail(p, LS_EINVAL, sec->line, NULL, SEC_SEARCH, "method",
                    "random needs samples = N (configurations to draw)");
    return 0;
}

/* ---- expansion --------------------------------------------------------- */

/* The section's keys that take part in the product: all but `seed` when
 * [sweep] seeds replaces it. */
static int product_keys(parser *p, int sec, const entry **keys)
{
    section *s = &p->sec[sec];
    const entry *seeds = find_entry(&p->sec[SEC_SWEEP], "seeds");
    int n = 0;

    for (int i = 0; i < s->nentries; i++)
        if (!(seeds && !strcmp(s->entries[i].name, "seed")))
            keys[n++] = &s->entries[i];
    if (seeds)
        keys[n++] = seeds; /* innermost */
    return n;
}

/* [search] samples (0: the grid), as checked when read. */
static int samples(parser *p)
{
    const entry *e = find_entry(&p->sec[SEC_SEARCH], "samples");
    return e ? atoi(e->items[0]) : 0;
}

/* What gives the seeds of a section's jobs: [sweep] seeds, else its own
 * seed key, else nothing (the default seed). */
static const entry *seed_source(parser *p, int sec)
{
    const entry *e = find_entry(&p->sec[SEC_SWEEP], "seeds");
    return e ? e : find_entry(&p->sec[sec], "seed");
}

static int count_jobs(parser *p, size_t *total)
{
    const entry *keys[MAX_KEYS + 1];

    *total = 0;
    for (int sec = SEC_BITCOUNT; sec < NSECTIONS; sec++) {
        size_t count = 1;
        int n;

        if (!p->sec[sec].line)
            continue;
        n = product_keys(p, sec, keys);
        if (samples(p) > 0) { /* the draws, times the seeds */
            const entry *seeds = seed_source(p, sec);
            n = 0;
            count = (size_t)samples(p) * (size_t)(seeds ? seeds->nitems : 1);
        }
        for (int i = 0; i < n; i++) {
            if (count > MAX_JOBS / (size_t)keys[i]->nitems)
                count = MAX_JOBS + 1;
            else
                count *= (size_t)keys[i]->nitems;
        }
        if (count > MAX_JOBS - *total)
            return fail(p, LS_EINVAL, p->sec[sec].line, NULL, sec, NULL,
                        "the sweep expands to more than %d jobs", MAX_JOBS);
        *total += count;
    }
    if (*total == 0)
        return fail(p, LS_EINVAL, 0, NULL, -1, NULL, "no [bitcount] or [mnist] section");
    return 0;
}

static int is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Blame a failed ls_job_validate on the first key its message names that
 * the section sets; else on the section header. */
static int validate_fail(parser *p, int sec, const ls_err *verr)
{
    const char *w = verr->msg, *named = NULL;

    while (*w) {
        size_t n = 0;
        while (is_word_char(w[n]))
            n++;
        if (n > 0 && n < KEY_MAX) {
            char word[KEY_MAX];
            const entry *e;
            snprintf(word, sizeof word, "%.*s", (int)n, w);
            if (is_job_key(word)) {
                if ((e = find_entry(&p->sec[sec], word)))
                    return entry_fail(p, sec, e, "%s", verr->msg);
                if (!named)
                    named = w;
            }
        }
        w += n ? n : 1;
    }
    if (named) {
        char key[KEY_MAX];
        size_t n = 0;
        while (is_word_char(named[n]) && n + 1 < sizeof key)
            n++;
        snprintf(key, sizeof key, "%.*s", (int)n, named);
        return fail(p, LS_EINVAL, p->sec[sec].line, NULL, sec, key, "%s", verr->msg);
    }
    return fail(p, LS_EINVAL, p->sec[sec].line, NULL, sec, NULL, "%s", verr->msg);
}

/* The job just set at s->jobs[s->njobs]: validated, fitted to an asha
 * search (search.h), kept. */
static int keep_job(parser *p, int sec, ls_sweep *s)
{
    ls_job *job = &s->jobs[s->njobs];
    ls_err verr = {0};
    if (ls_job_validate(job, &verr) ||
        (s->search.method == LS_SEARCH_ASHA && ls_search_fit_job(&s->search, job, &verr)))
        return validate_fail(p, sec, &verr);
    s->njobs++;
    return 0;
}

static void section_base(int sec, const ls_sweep *s, ls_job *base)
{
    ls_job_defaults(base, sec == SEC_MNIST ? LS_TASK_MNIST : LS_TASK_BITCOUNT);
    snprintf(base->sweep, sizeof base->sweep, "%s", s->name);
}

/* Append the section's jobs to s->jobs: an odometer over the keys' items,
 * the last key turning fastest. */
static int expand_section(parser *p, int sec, ls_sweep *s)
{
    const entry *keys[MAX_KEYS + 1];
    int n = product_keys(p, sec, keys), idx[MAX_KEYS + 1] = {0}, k;
    ls_job base;

    for (k = 0; k < n; k++)
        if (keys[k]->nranges)
            return entry_fail(p, sec, keys[k], "a range is drawn from: set [search] method = "
                              "random (or asha) and samples = N");
    section_base(sec, s, &base);
    do {
        s->jobs[s->njobs] = base;
        for (k = 0; k < n; k++)
            if (set_item(p, sec, keys[k], &s->jobs[s->njobs], keys[k]->items[idx[k]]))
                return p->rc; /* checked when read; cannot happen */
        if (keep_job(p, sec, s))
            return p->rc;
        for (k = n - 1; k >= 0 && ++idx[k] == keys[k]->nitems; k--)
            idx[k] = 0;
    } while (k >= 0);
    return 0;
}

/* One key's value of a random draw: an item of its list, uniformly; a
 * range item drawn from. */
static int draw_item(parser *p, int sec, const entry *e, ls_rng *rng, ls_job *job)
{
    const char *item = e->items[ls_rng_below(rng, (uint64_t)e->nitems)];
    double lo, hi;
    int log_scale;
    char buf[64];
    if (ls_search_range(item, &lo, &hi, &log_scale, NULL) == 1) {
        ls_search_draw(rng, lo, hi, log_scale, ls_column_is_integer(ls_schema_column(e->name)),
                       buf, sizeof buf);
        item = buf;
    }
    return set_item(p, sec, e, job, item);
}

/* Append the section's random draws (search.h): samples configurations,
 * each drawn key by key in the section's order, times the seeds. */
static int draw_section(parser *p, int sec, ls_sweep *s)
{
    const section *sc = &p->sec[sec];
    const entry *seeds = seed_source(p, sec);
    int want = s->search.samples, drawn = 0;
    char (*ids)[LS_JOB_ID_LEN] = ls_alloc((size_t)want * sizeof *ids);
    ls_rng rng;
    ls_job base;

    if (!ids)
        return fail(p, LS_ENOMEM, 0, NULL, sec, NULL, "out of memory");
    section_base(sec, s, &base);
    ls_rng_seed(&rng, s->search.seed, (uint64_t)sec);
    for (long tries = 0; drawn < want && tries < 100L * want && !p->rc; tries++) {
        ls_job cfg = base, probe;
        char id[LS_JOB_ID_LEN];
        for (int k = 0; k < sc->nentries && !p->rc; k++)
            if (&sc->entries[k] != seeds)
                draw_item(p, sec, &sc->entries[k], &rng, &cfg);
        probe = cfg;
        probe.seed = 0;
        ls_job_id(&probe, id);
        int dup = 0;
        for (int i = 0; i < drawn && !dup; i++)
            dup = !strcmp(ids[i], id);
        if (dup || p->rc)
            continue;
        memcpy(ids[drawn++], id, sizeof id);
        for (int i = 0; i < (seeds ? seeds->nitems : 1) && !p->rc; i++) {
            s->jobs[s->njobs] = cfg;
            if (!seeds || !set_item(p, sec, seeds, &s->jobs[s->njobs], seeds->items[i]))
                keep_job(p, sec, s);
        }
    }
    ls_free(ids);
    return p->rc;
}

/* An asha search compares a task's jobs at the same rungs: one epochs. */
static int check_one_epochs(parser *p, int sec, const ls_sweep *s, size_t first)
{
    for (size_t i = first + 1; s->search.method == LS_SEARCH_ASHA && i < s->njobs; i++)
        if (s->jobs[i].epochs != s->jobs[first].epochs) {
            const entry *e = find_entry(&p->sec[sec], "epochs");
            const char *msg = "an asha search needs one epochs per task (its last rung): "
                              "set max_epochs in [search]";
            return e ? entry_fail(p, sec, e, "%s", msg)
                     : fail(p, LS_EINVAL, p->sec[sec].line, NULL, sec, NULL, "%s", msg);
        }
    return 0;
}

static int check_dir(parser *p, const entry *e, const char *dir)
{
    struct stat st;
    int line = e ? e->line : p->sec[SEC_MNIST].line;
    const char *override = e ? e->override : NULL, *key = e ? e->written : "data";

    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return fail(p, LS_EINVAL, line, override, SEC_MNIST, key,
                        "directory '%s' not found", dir);
        return fail(p, LS_EINVAL, line, override, SEC_MNIST, key, "directory '%s': %s", dir,
                    strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return fail(p, LS_EINVAL, line, override, SEC_MNIST, key, "'%s' is not a directory", dir);
    return 0;
}

static int check_data_dirs(parser *p)
{
    const entry *e = find_entry(&p->sec[SEC_MNIST], "data");
    ls_job job;

    if (!p->sec[SEC_MNIST].line)
        return 0;
    if (!e) {
        ls_job_defaults(&job, LS_TASK_MNIST);
        return check_dir(p, NULL, job.data);
    }
    for (int i = 0; i < e->nitems; i++)
        if (check_dir(p, e, e->items[i]))
            return p->rc;
    return 0;
}

static int build(parser *p, ls_sweep *s)
{
    size_t total;

    if (count_jobs(p, &total) || sweep_settings(p, s))
        return p->rc;
    for (int sec = SEC_BITCOUNT; sec < NSECTIONS && s->search.max_epochs > 0; sec++) {
        const entry *e = find_entry(&p->sec[sec], "epochs");
        if (e)
            return entry_fail(p, sec, e, "[search] max_epochs sets every job's epochs: "
                              "leave epochs out");
    }
    s->jobs = ls_alloc(total * sizeof *s->jobs);
    if (!s->jobs)
        return fail(p, LS_ENOMEM, 0, NULL, -1, NULL, "out of memory for %zu jobs", total);
    for (int sec = SEC_BITCOUNT; sec < NSECTIONS; sec++) {
        size_t first = s->njobs;
        if (p->sec[sec].line && ((s->search.samples > 0 ? draw_section(p, sec, s)
                                                         : expand_section(p, sec, s)) ||
                                 check_one_epochs(p, sec, s, first)))
            return p->rc;
    }
    /* The server checks its data roots before anything exists or not. */
    return (p->flags & LS_SWEEP_DATA_UNCHECKED) ? 0 : check_data_dirs(p);
}

/* ---- public ------------------------------------------------------------ */

static int load(ls_sweep **out, const char *path, const char *text, unsigned flags,
                const char *const *overrides, int noverrides, ls_err *err)
{
    parser *p = ls_alloc(sizeof *p);
    ls_sweep *s = NULL;
    int rc;

    *out = NULL;
    if (!p)
        return ls_err_set(err, LS_ENOMEM, "%s: out of memory", path);
    p->path = path;
    p->text = text;
    p->flags = flags;
    p->cur = -1;
    p->err = err;
    rc = parse_file(p);
    for (int i = 0; !rc && i < noverrides; i++)
        rc = apply_override(p, overrides[i]);
    if (!rc && !(s = ls_alloc(sizeof *s)))
        rc = fail(p, LS_ENOMEM, 0, NULL, -1, NULL, "out of memory");
    if (!rc)
        rc = build(p, s);
    parser_free(p);
    ls_free(p);
    if (rc) {
        ls_sweep_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

int ls_sweep_load(ls_sweep **out, const char *path, const char *const *overrides,
                  int noverrides, ls_err *err)
{
    return load(out, path, NULL, 0, overrides, noverrides, err);
}

int ls_sweep_load_text(ls_sweep **out, const char *name, const char *text, unsigned flags,
                       const char *const *overrides, int noverrides, ls_err *err)
{
    return load(out, name, text, flags, overrides, noverrides, err);
}

void ls_sweep_destroy(ls_sweep *s)
{
    if (!s)
        return;
    ls_free(s->jobs);
    ls_free(s);
}

/* digits, an optional fraction (with a suffix), then K/M/G/T (binary,
 * optionally followed by "B" or "iB") or "B" */
int ls_parse_bytes(const char *text, size_t *bytes)
{
    const char *c = text;
    unsigned long long whole = 0;
    double frac = 0, scale = 0.1;
    int digits = 0, fdigits = 0, shift = 0;
    size_t v;

    if (!strcmp(text, "auto")) {
        *bytes = 0;
        return 0;
    }
    for (; isdigit((unsigned char)*c); c++, digits++) {
        if (whole > (ULLONG_MAX - 9) / 10)
            return LS_EINVAL;
        whole = whole * 10 + (unsigned)(*c - '0');
    }
    if (*c == '.')
        for (c++; isdigit((unsigned char)*c); c++, fdigits++, scale /= 10)
            frac += (*c - '0') * scale;
    switch (toupper((unsigned char)*c)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    }
    if (shift)
        c += 1 + (c[1] == 'i' && toupper((unsigned char)c[2]) == 'B');
    if (toupper((unsigned char)*c) == 'B')
        c++;
    if (!digits || *c || (strchr(text, '.') && (!fdigits || !shift)))
        return LS_EINVAL;
    if (whole > (SIZE_MAX >> shift))
        return LS_EINVAL;
    v = (size_t)whole << shift;
    if (fdigits) {
        double extra = frac * (double)((size_t)1 << shift);
        if ((double)(SIZE_MAX - v) < extra)
            return LS_EINVAL;
        v += (size_t)extra;
    }
    if (v == 0)
        return LS_EINVAL;
    *bytes = v;
    return 0;
}
