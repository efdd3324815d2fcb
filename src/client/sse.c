/* sse.c - server-sent events, parsed; see include/lstmsweep/sse.h. */
#include "lstmsweep/sse.h"

#include <stdio.h>
#include <string.h>

void ls_sse_init(ls_sse *p, ls_sse_fn fn, void *ctx)
{
    memset(p, 0, sizeof *p);
    p->fn = fn;
    p->ctx = ctx;
}

static int dispatch(ls_sse *p)
{
    int rc = 0;

    if (p->has_data) {
        p->data[p->dlen] = '\0';
        rc = p->fn(p->ctx, p->id, p->type[0] ? p->type : "message", p->data);
    }
    p->type[0] = '\0';
    p->dlen = 0;
    p->has_data = 0;
    return rc;
}

static void field(ls_sse *p, const char *name, const char *value)
{
    if (!strcmp(name, "data")) {
        size_t n = strlen(value), room = sizeof p->data - 1 - p->dlen;
        if (p->has_data && room)                    /* lines joined with '\n' */
            p->data[p->dlen++] = '\n', room--;
        n = n < room ? n : room;
        memcpy(p->data + p->dlen, value, n);
        p->dlen += n;
        p->has_data = 1;
    } else if (!strcmp(name, "event")) {
        snprintf(p->type, sizeof p->type, "%s", value);
    } else if (!strcmp(name, "id") && strlen(value) < sizeof p->id) {
        snprintf(p->id, sizeof p->id, "%s", value);
    }   /* "retry" and unknown fields: ignored */
}

static int end_line(ls_sse *p)
{
    char *colon, *value;

    if (p->too_long) {
        p->too_long = 0;
        p->len = 0;
        return 0;
    }
    p->line[p->len] = '\0';
    p->len = 0;
    if (!p->line[0])
        return dispatch(p);
    if (p->line[0] == ':')
        return 0;
    colon = strchr(p->line, ':');
    value = colon ? colon + 1 : p->line + strlen(p->line);
    if (colon)
        *colon = '\0';
    if (*value == ' ')
        value++;
    field(p, p->line, value);
    return 0;
}

int ls_sse_feed(ls_sse *p, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        int rc;

        if (c == '\n' && p->after_cr) {
            p->after_cr = 0;
            continue;
        }
        p->after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            if ((rc = end_line(p)))
                return rc;
        } else if (p->len + 1 < sizeof p->line) {
            p->line[p->len++] = c;
        } else {
            p->too_long = 1;
        }
    }
    return 0;
}
