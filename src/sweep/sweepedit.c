/* sweepedit.c - --set overrides written into a sweep's text; see
 * include/lstmsweep/sweepedit.h.
 *
 * The text is held as an array of lines with their origins while the
 * overrides are applied one after the other (a later one for the same key
 * finds the line an earlier one wrote, as a later --set wins in `run`),
 * then joined.  A line is read as sweep.c's reader reads it: leading
 * blanks (and a UTF-8 BOM on line 1) do not count, '[' starts a section,
 * ';' and '#' a comment, and the key ends at the first '=' or ':'
 * (inih's delimiters).
 */
#include "lstmsweep/sweepedit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/alloc.h"

#define NAME_MAX_ 64

typedef struct lines {
    char **line;
    int *origin;
    int n, cap;
} lines;

static const char *const sections[] = {"sweep", "bitcount", "mnist"};

static const char *skip_blanks(const char *s, int first)
{
    if (first && !strncmp(s, "\xEF\xBB\xBF", 3))
        s += 3;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v')
        s++;
    return s;
}

/* s[0..n) trimmed, '-' as '_' when canon, into out[NAME_MAX_]; 0 if it fits. */
static int name_of(const char *s, size_t n, int canon, char *out)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= NAME_MAX_)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = canon && s[i] == '-' ? '_' : s[i];
    out[n] = '\0';
    return 0;
}

/* The section a header line names into sec (1), or 0 if not a header. */
static int header_of(const char *line, int first, char *sec)
{
    const char *s = skip_blanks(line, first), *close;
    if (*s != '[' || !(close = strchr(s, ']')))
        return 0;
    return name_of(s + 1, (size_t)(close - s - 1), 0, sec) == 0;
}

/* The canonical key of a "key = value" line into key (1), else 0. */
static int key_of(const char *line, int first, char *key)
{
    const char *s = skip_blanks(line, first);
    size_t n = strcspn(s, "=:");
    if (!*s || *s == ';' || *s == '#' || *s == '[' || !s[n])
        return 0;
    return name_of(s, n, 1, key) == 0 && *key;
}

static int insert(lines *l, int at, char *text, int origin)
{
    if (!text)
        return LS_ENOMEM;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **nl = ls_realloc(l->line, (size_t)cap * sizeof *nl);
        if (nl)
            l->line = nl;
        int *no = nl ? ls_realloc(l->origin, (size_t)cap * sizeof *no) : NULL;
        if (!no) {
            ls_free(text);
            return LS_ENOMEM;
        }
        l->origin = no;
        l->cap = cap;
    }
    memmove(l->line + at + 1, l->line + at, (size_t)(l->n - at) * sizeof *l->line);
    memmove(l->origin + at + 1, l->origin + at, (size_t)(l->n - at) * sizeof *l->origin);
    l->line[at] = text;
    l->origin[at] = origin;
    l->n++;
    return 0;
}

static int split_lines(lines *l, const char *text)
{
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, "\n");
        char *copy = ls_alloc(n + 1);
        if (copy)
            memcpy(copy, s, n);
        if (insert(l, l->n, copy, l->n + 1))
            return LS_ENOMEM;
        s += n + (s[n] == '\n');
    }
    return 0;
}

/* Where section sec starts (its header's index) and ends (one past its
 * last key line, or the header); -1 if absent. */
static int find_section(const lines *l, const char *sec, int *end)
{
    char name[NAME_MAX_], key[NAME_MAX_];
    int start = -1;

    for (int i = 0; i < l->n; i++) {
        if (header_of(l->line[i], i == 0, name)) {
            if (start >= 0)
                break;
            if (!strcmp(name, sec))
                start = *end = i;
        } else if (start >= 0 && key_of(l->line[i], i == 0, key)) {
            *end = i;
        }
    }
    if (start >= 0)
        (*end)++;
    return start;
}

/* The line of canonical key in [start, end), or -1. */
static int find_key(const lines *l, int start, int end, const char *key)
{
    char k[NAME_MAX_];
    for (int i = start + 1; i < end; i++)
        if (key_of(l->line[i], i == 0, k) && !strcmp(k, key))
            return i;
    return -1;
}

static int apply_one(lines *l, const char *arg, int index, ls_err *err)
{
    const char *eq = strchr(arg, '='), *dot = strchr(arg, '.');
    char sec[NAME_MAX_], key[NAME_MAX_], written[NAME_MAX_];
    int known = 0, start, end, at;

    if (!eq || !dot || dot > eq || name_of(arg, (size_t)(dot - arg), 0, sec) ||
        name_of(dot + 1, (size_t)(eq - dot - 1), 1, key) ||
        name_of(dot + 1, (size_t)(eq - dot - 1), 0, written) || !*sec || !*key)
        return ls_err_set(err, LS_EINVAL, "--set %s: expected section.key=value", arg);
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
        known |= !strcmp(sec, sections[i]);
    if (!known)
        return ls_err_set(err, LS_EINVAL, "--set %s: unknown section '%s' (expected sweep, "
                          "bitcount or mnist)", arg, sec);
    if (strpbrk(eq + 1, "\r\n"))
        return ls_err_set(err, LS_EINVAL, "--set %s: a line break in the value", arg);
    char *line = ls_strprintf("%s = %s", written, skip_blanks(eq + 1, 0));
    if (!line)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    start = find_section(l, sec, &end);
    if (start >= 0 && (at = find_key(l, start, end, key)) >= 0) {
        ls_free(l->line[at]);
        l->line[at] = line;
        l->origin[at] = -(index + 1);
        return 0;
    }
    if (start < 0 && strcmp(sec, "sweep")) {
        ls_free(line);
        return ls_err_set(err, LS_EINVAL, "--set %s: [%s]: the sweep has no such section",
                          arg, sec);
    }
    int rc;
    if (start >= 0)
        rc = insert(l, end, line, -(index + 1));          /* insert owns line now */
    else if ((rc = insert(l, l->n, ls_strdup("[sweep]"), 0)))
        ls_free(line);
    else
        rc = insert(l, l->n, line, -(index + 1));
    return rc ? ls_err_set(err, LS_ENOMEM, "out of memory") : 0;
}

static char *join(const lines *l)
{
    size_t len = 1;
    for (int i = 0; i < l->n; i++)
        len += strlen(l->line[i]) + 1;
    char *out = ls_alloc(len), *p = out;
    for (int i = 0; out && i < l->n; i++) {
        size_t n = strlen(l->line[i]);
        memcpy(p, l->line[i], n);
        p[n] = '\n';
        p += n + 1;
    }
    return out;
}

static void lines_free(lines *l)
{
    for (int i = 0; i < l->n; i++)
        ls_free(l->line[i]);
    ls_free(l->line);
}

int ls_sweep_edit_apply(ls_sweep_edit *out, const char *text, const char *const *overrides,
                        int noverrides, ls_err *err)
{
    lines l = {0};
    int rc = split_lines(&l, text) ? ls_err_set(err, LS_ENOMEM, "out of memory") : 0;

    memset(out, 0, sizeof *out);
    for (int i = 0; !rc && i < noverrides; i++)
        rc = apply_one(&l, overrides[i], i, err);
    if (!rc && !(out->text = join(&l)))
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    if (!rc && !(out->origin = ls_calloc((size_t)l.n + 1, sizeof *out->origin)))
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    if (!rc) {
        memcpy(out->origin + 1, l.origin, (size_t)l.n * sizeof *l.origin);
        out->nlines = l.n;
        out->overrides = overrides;
    } else {
        ls_sweep_edit_free(out);
    }
    lines_free(&l);
    ls_free(l.origin);
    return rc;
}

void ls_sweep_edit_free(ls_sweep_edit *e)
{
    ls_free(e->text);
    ls_free(e->origin);
    memset(e, 0, sizeof *e);
}

char *ls_sweep_edit_message(const ls_sweep_edit *e, const char *msg, const char *sent,
                            const char *file)
{
    size_t n = strlen(sent);
    char *end;

    if (strncmp(msg, sent, n) || msg[n] != ':')
        return ls_strdup(msg);
    long line = strtol(msg + n + 1, &end, 10);
    if (end == msg + n + 1 || *end != ':' || line < 1 || line > e->nlines)
        return ls_strprintf("%s%s", file, msg + n);       /* "SENT: ..." */
    int o = e->origin[line];
    if (o > 0)
        return ls_strprintf("%s:%d%s", file, o, end);
    if (o < 0)
        return ls_strprintf("--set %s%s", e->overrides[-o - 1], end);
    return ls_strprintf("%s%s", file, end);
}
