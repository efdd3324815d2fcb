/* client_out.h - what the server's clients print: a sweep's JSON (api.h's
 * SWEEP) read into a struct, and shown as a table row, a detail block or
 * watch's one progress line; the text of an error answer.  Pure
 * formatting: no requests, no exit codes (cmd_client.c has those). */
#ifndef LSTMSWEEP_CLIENT_OUT_H
#define LSTMSWEEP_CLIENT_OUT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

typedef struct cli_sweep {
    char name[128], state[16];
    int priority, busy_cores;
    double submitted;                  /* epoch seconds */
    double core_seconds, left_core_seconds;
    double eta_seconds;                /* < 0: unknown (null) */
    long total, queued, running, done, cancelled;   /* jobs by state */
    long ok, diverged, failed;         /* final rows by status */
    long stopped, paused;              /* an asha search's: final rows; queued
                                          jobs at a rung */
} cli_sweep;

/* 0, or -1 if o is not a SWEEP object. */
int cli_sweep_parse(const json_t *o, cli_sweep *s);

/* A sweep's state is final: nothing more will run. */
int cli_sweep_finished(const cli_sweep *s);

/* The sweeps as an aligned table with a header. */
void cli_sweep_table(FILE *f, const cli_sweep *s, size_t n);

/* One sweep, several lines. */
void cli_sweep_detail(FILE *f, const cli_sweep *s);

/* "q1 active: 5/12 done (5 ok, 0 failed), 2 running, 5 queued" into buf;
 * the ETA and busy cores after it when with_eta. */
void cli_sweep_progress(char *buf, size_t len, const cli_sweep *s, int with_eta);

/* The "error" of a JSON error body, else the body itself (cut short),
 * into buf. */
void cli_error_text(const char *body, size_t len, char *buf, size_t cap);

#endif
