/* cmd_merge.c - `lstmsweep merge [--curves] -o OUT.csv FILES...`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lstmsweep/merge.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: lstmsweep merge -o OUT.csv RESULTS.csv...\n"
               "       lstmsweep merge --curves -o OUT-curves.csv CURVES.csv...\n\n"
               "Combine results files (e.g. the shards of a Slurm array) into one\n"
               "row per job: a final row (ok, diverged, failed) beats an\n"
               "interrupted one, and a later row beats an earlier one of the same\n"
               "kind.  With --curves, combine per-epoch curves files into one row\n"
               "per job and epoch: the later row wins (a job resumed from an older\n"
               "checkpoint trains some epochs again).  OUT may be one of the inputs.\n\n"
               "  -o, --output FILE   the merged file (replaced)\n"
               "  --curves            the inputs are curves files [results files]\n");
}

static void print_stats(const ls_merge_stats *st, int n, const char *out, int curves)
{
    fprintf(stderr, "merged %d file(s), %zu row(s) -> %zu %s in %s", n, st->rows,
            st->jobs, curves ? "(job, epoch) row(s)" : "job(s)", out);
    if (st->replaced)
        fprintf(stderr, curves ? "; %zu repeated epoch row(s) dropped (the later kept)"
                               : "; %zu superseded row(s) dropped", st->replaced);
    if (st->torn)
        fprintf(stderr, "; %zu torn last line(s) skipped", st->torn);
    if (st->interrupted)
        fprintf(stderr, "; %zu job(s) still interrupted (rerun to finish)", st->interrupted);
    fputc('\n', stderr);
}

int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"curves", no_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    ls_merge_stats st;
    ls_err err = {0};
    int ch, curves = 0, rc;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (ch == 'o')
            out = optarg;
        else if (ch == 'c')
            curves = 1;
        else {
            usage(ch == 'h' ? stdout : stderr);
            return ch == 'h' ? 0 : 2;
        }
    }
    if (!out || optind >= argc) {
        cli_error("merge: need -o OUT.csv and at least one input file");
        return 2;
    }
    const char *const *in = (const char *const *)argv + optind;
    if (curves)
        rc = ls_curves_merge(out, in, argc - optind, &st, &err);
    else
        rc = ls_results_merge(out, in, argc - optind, &st, &err);
    if (rc) {
        cli_error("merge: %s", err.msg);
        return 1;
    }
    print_stats(&st, argc - optind, out, curves);
    return 0;
}
