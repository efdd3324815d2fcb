/* cmd_report.c - `lstmsweep report RESULTS.csv... [options]`: tables on
 * stdout, charts with --plots. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lstmsweep/report.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lstmsweep report RESULTS.csv... [--format text|markdown|csv]\n"
            "           [--by KEY,KEY[,KEY...]] [--top N] [--peak GFLOPS]\n"
            "           [--plots DIR] [--curves FILE]\n\n"
            "Summarize results files: jobs by status; the failed, diverged and\n"
            "interrupted jobs with their messages; per task, the best configurations\n"
            "(every key but the seed) with the mean, std, min and max of their test\n"
            "error over seeds; pivot tables of test error and samples/s; GFLOP/s by\n"
            "configuration.  Each job counts once, with its best row (as in merge).\n\n"
            "  --format F     text (aligned columns; default), markdown (pipe tables),\n"
            "                 or csv (each line starts with its section's name; the\n"
            "                 first line of a section is its header)\n"
            "  --by KEYS      pivot keys: rows, columns, then one table per value\n"
            "                 combination of the others (default hidden,layers,batch);\n"
            "                 a cell is the mean over the keys not listed (the seed...)\n"
            "  --top N        configurations listed per task (default 5)\n"
            "  --peak G       the machine's measured peak, GFLOP/s, to compare the\n"
            "                 fastest configuration with (default: unknown)\n"
            "  --plots DIR    also draw charts into DIR, PNG and SVG, with gnuplot\n"
            "                 (gnuplot-nox): test error vs hidden size, learning\n"
            "                 curves of the 3 best configurations, throughput\n"
            "  --curves FILE  the per-epoch CSV for the learning curves (default: each\n"
            "                 RESULTS.csv with .csv replaced by -curves.csv)\n\n"
            "Exit status: 0 done, 1 unreadable or malformed input, 2 bad usage.\n");
}

/* Parse one option into o; 0, or 2 (bad usage, message printed). */
static int option(int ch, char *arg, ls_report_opts *o)
{
    ls_err err = {0};
    char *end;
    switch (ch) {
    case 'f':
        if (!strcmp(arg, "text"))
            o->format = LS_REPORT_TEXT;
        else if (!strcmp(arg, "markdown") || !strcmp(arg, "md"))
            o->format = LS_REPORT_MARKDOWN;
        else if (!strcmp(arg, "csv"))
            o->format = LS_REPORT_CSV;
        else
            break;
        return 0;
    case 'b':
        if (!ls_report_parse_by(o, arg, &err))
            return 0;
        cli_error("report: %s", err.msg);
        return 2;
    case 't':
        o->top = (int)strtol(arg, &end, 10);
        if (*end || o->top < 1)
            break;
        return 0;
    case 'p':
        o->peak_gflops = strtod(arg, &end);
        if (*end || !(o->peak_gflops > 0))
            break;
        return 0;
    case 'P':
        o->plots_dir = arg;
        return 0;
    case 'c':
        o->curves = arg;
        return 0;
    }
    cli_error("report: --%s: bad value '%s' (see lstmsweep report --help)",
              ch == 'f' ? "format" : ch == 't' ? "top" : "peak", arg);
    return 2;
}

static int plots(const ls_report *r, const ls_report_opts *o)
{
    ls_report_plot_info info;
    ls_err err = {0};
    int rc = ls_report_plots(r, o, &info, &err);

    for (char *line = info.notes, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        fprintf(stderr, "lstmsweep report: %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
        if (!nl)
            break;
    }
    if (rc) {
        cli_error("report: %s", err.msg);
        return 1;
    }
    if (info.drawn)
        fprintf(stderr, "lstmsweep report: %d chart(s) in %s (.png and .svg, beside each "
                        "its .dat data and .gp gnuplot script)\n", info.charts, o->plots_dir);
    return 0;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"by", required_argument, NULL, 'b'},
                                         {"top", required_argument, NULL, 't'},
                                         {"peak", required_argument, NULL, 'p'},
                                         {"plots", required_argument, NULL, 'P'},
                                         {"curves", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    ls_report_opts o;
    ls_report *r = NULL;
    ls_err err = {0};
    int ch, rc = 0;

    ls_report_opts_init(&o);
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'h' || ch == '?') {
            usage(ch == 'h' ? stdout : stderr);
            return ch == 'h' ? 0 : 2;
        }
        if ((rc = option(ch, optarg, &o)))
            return rc;
    }
    if (optind >= argc) {
        cli_error("report: need at least one results file");
        usage(stderr);
        return 2;
    }
    if (ls_report_load(&r, (const char *const *)argv + optind, argc - optind, &err)) {
        cli_error("report: %s", err.msg);
        return 1;
    }
    if (ls_report_write(r, &o, stdout, &err)) {
        cli_error("report: %s", err.msg);
        rc = 1;
    } else if (o.plots_dir) {
        fflush(stdout);
        rc = plots(r, &o);
    }
    ls_report_destroy(r);
    return rc;
}
