/* cli.h - the subcommands of the lstmsweep program.  Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit status: 0 success, 1 the work failed, 2 bad usage. */
#ifndef LSTMSWEEP_CLI_H
#define LSTMSWEEP_CLI_H

#include "lstmsweep/job.h"

int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_topo(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_slurm(int argc, char **argv);
int cmd_serve(int argc, char **argv);
/* The server's clients (cmd_client.c); their exit codes are in --help. */
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_priority(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_fetch(int argc, char **argv);

/* Print "lstmsweep: " + message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));


#endif
