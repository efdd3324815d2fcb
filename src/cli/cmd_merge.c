/* cmd_merge.c - `lstmsweep merge -o OUT.csv FILES...`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lstmsweep/merge.h"

int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    ls_merge_stats st;
    ls_err err = {0};
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (ch == 'o')
            out = optarg;
        else {
            FILE *f = ch == 'h' ? stdout : stderr;
            fprintf(f, "usage: lstmsweep merge -o OUT.csv RESULTS.csv...\n\n"
                       "Combine results files (e.g. the shards of a Slurm array) into one\n"
                       "row per job: a final row (ok, diverged, failed) beats an\n"
                       "interrupted one, and a later row beats an earlier one of the same\n"
                       "kind.  OUT may be one of the inputs.\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    if (!out || optind >= argc) {
        cli_error("merge: need -o OUT.csv and at least one input file");
        return 2;
    }
    if (ls_results_merge(out, (const char *const *)argv + optind, argc - optind, &st, &err)) {
        cli_error("merge: %s", err.msg);
        return 1;
    }
    fprintf(stderr, "merged %d file(s), %zu row(s) -> %zu job(s) in %s", argc - optind,
            st.rows, st.jobs, out);
    if (st.replaced)
        fprintf(stderr, "; %zu superseded row(s) dropped", st.replaced);
    if (st.torn)
        fprintf(stderr, "; %zu torn last line(s) skipped", st.torn);
    if (st.interrupted)
        fprintf(stderr, "; %zu job(s) still interrupted (rerun to finish)", st.interrupted);
    fputc('\n', stderr);
    return 0;
}
