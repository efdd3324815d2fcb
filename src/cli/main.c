/* main.c - lstmsweep: parse the subcommand and hand over to it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lstmsweep/sysinfo.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run, "run a sweep file: every job, in parallel, one CSV row each"},
    {"plan", cmd_plan, "show what `run` would do: jobs, placement, estimates"},
    {"slurm", cmd_slurm, "write (and submit) a Slurm job array that runs a sweep"},
    {"merge", cmd_merge, "combine results files (e.g. Slurm shards) into one row per job"},
    {"report", cmd_report, "tables and charts of results: best configurations, pivots, speed"},
    {"train", cmd_train, "train one model (one job) and report its result"},
    {"predict", cmd_predict, "classify bit strings or MNIST images with a saved model"},
    {"topo", cmd_topo, "show the cores and NUMA nodes the runner would use"},
    {"serve", cmd_serve, "the experiment server: a durable queue of sweeps, an HTTP API"},
    {"submit", cmd_submit, "send a sweep file to the server's queue"},
    {"status", cmd_status, "the server's sweeps, or one sweep in detail"},
    {"watch", cmd_watch, "follow a sweep's progress on the server until it ends"},
    {"fetch", cmd_fetch, "a sweep's results (and curves) CSV from the server"},
    {"pause", cmd_pause, "pause a sweep on the server (running jobs drain)"},
    {"resume", cmd_resume, "resume a paused sweep on the server"},
    {"cancel", cmd_cancel, "cancel a sweep on the server (running jobs drain)"},
    {"priority", cmd_priority, "set a sweep's priority on the server"},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("lstmsweep: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}


static void usage(FILE *f)
{
    fprintf(f, "usage: lstmsweep COMMAND [OPTIONS]\n\n"
               "LSTM hyperparameter sweeps on oneDNN (version %s).\n\n"
               "Commands:\n", PACKAGE_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'lstmsweep COMMAND --help' lists a command's options and defaults.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        char v[32];
        ls_sys_onednn_version(v, sizeof v);
        printf("lstmsweep %s\noneDNN %s, ISA %s\n", PACKAGE_VERSION, v, ls_sys_isa());
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return 2;
}
