/* sse.h - a parser of server-sent events (the text/event-stream format of
 * the HTML standard), fed the bytes of a stream in chunks of any size.
 *
 * Lines end with LF, CR LF or CR; "field: value" lines set an event's
 * fields (one space after the colon is dropped), lines starting with ':'
 * are comments (the server's keepalives), and a blank line ends the event:
 * the callback gets its id (the last "id:" seen on the stream so far, as a
 * browser's lastEventId: "" if none), its type ("message" unless "event:"
 * said otherwise) and its data ("data:" lines joined with '\n').  An event
 * without data is not delivered, as the standard says.  Lines longer than
 * LS_SSE_LINE_MAX are dropped whole.
 *
 * Ownership: the parser is a plain value, no heap.  The strings passed to
 * the callback are the parser's: valid during the call.  Threading: one
 * parser per stream.  Errors: none; the callback's non-zero return stops
 * the parse and is returned.
 */
#ifndef LSTMSWEEP_SSE_H
#define LSTMSWEEP_SSE_H

#include <stddef.h>

#define LS_SSE_LINE_MAX 4096
#define LS_SSE_ID_MAX 64

typedef int (*ls_sse_fn)(void *ctx, const char *id, const char *type, const char *data);

typedef struct ls_sse {
    ls_sse_fn fn;
    void *ctx;
    char line[LS_SSE_LINE_MAX];
    size_t len;
    int too_long;                  /* the line being read is dropped */
    int after_cr;                  /* an LF right after a CR ends nothing */
    char id[LS_SSE_ID_MAX];        /* the stream's last event id */
    char type[64];
    char data[LS_SSE_LINE_MAX];
    size_t dlen;
    int has_data;
} ls_sse;

void ls_sse_init(ls_sse *p, ls_sse_fn fn, void *ctx);

/* Parse n more bytes: 0, or the callback's non-zero return. */
int ls_sse_feed(ls_sse *p, const char *buf, size_t n);

#endif
