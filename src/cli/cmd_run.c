/* cmd_run.c - `lstmsweep run` (and `plan`, its dry run) and `topo`. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lstmsweep/drain.h"
#include "lstmsweep/runner.h"
#include "lstmsweep/searchrun.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/topo.h"

#define MAX_SETS 64

static void run_usage(FILE *f)
{
    fprintf(f,
        "usage: lstmsweep run SWEEP.ini [OPTIONS]\n"
        "       lstmsweep plan SWEEP.ini [OPTIONS]     (same as run --dry-run)\n\n"
        "Run every job of a sweep on the cores this process may use, one CSV row\n"
        "per job.  Rerunning the same command skips finished jobs and resumes\n"
        "interrupted ones from their checkpoints.\n\n"
        "  --set SECTION.KEY=VALUES   override a sweep-file key, e.g.\n"
        "                             --set mnist.hidden=32,64 (repeatable)\n"
        "  --dry-run                  list jobs, placement, estimates; run nothing\n"
        "  --threads-per-job N|auto   OpenMP threads per job [auto: 1 per job,\n"
        "                             more for long jobs at the tail]\n"
        "  --mem-limit BYTES|auto     memory for all running jobs, e.g. 16G\n"
        "                             [auto: 90%% of MemAvailable]\n"
        "  --retry-failed             rerun jobs recorded as failed\n"
        "  --shard I/N                run only shard I (0-based) of N\n"
        "  --checkpoint-every SECONDS also checkpoint running jobs periodically\n"
        "                             [300; 0 = only on SIGINT/SIGTERM]\n"
        "  --quiet                    no progress output\n"
        "  --topology FILE.xml|DESC   plan only: for another machine, from the XML\n"
        "                             that `lstopo FILE.xml` writes there, or an\n"
        "                             hwloc synthetic description such as\n"
        "                             'pack:2 numa:4 core:16 pu:2' (memory: 90%% of\n"
        "                             the machine's unless --mem-limit)\n\n"
        "Exit status: 0 every job has a final row and none failed; 1 some job\n"
        "failed or an error; 2 bad usage; 3 stopped early (rerun to continue).\n");
}

typedef struct run_cli {
    const char *file;
    const char *sets[MAX_SETS];
    int nsets, dry_run, quiet;
    ls_run_opts o;
    const char *threads_arg, *mem_arg, *topology;
} run_cli;

static int parse_shard(const char *s, ls_run_opts *o)
{
    int i, n;
    char tail;
    if (sscanf(s, "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 0 || i >= n)
        return -1;
    o->shard_index = i;
    o->shard_count = n;
    return 0;
}

static int parse_run(int argc, char **argv, run_cli *c)
{
    static const struct option opts[] = {
        {"set", required_argument, NULL, 's'},
        {"dry-run", no_argument, NULL, 'n'},
        {"threads-per-job", required_argument, NULL, 't'},
        {"mem-limit", required_argument, NULL, 'm'},
        {"retry-failed", no_argument, NULL, 'r'},
        {"shard", required_argument, NULL, 'S'},
        {"checkpoint-every", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"topology", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    char *end;

    c->o.checkpoint_interval_s = 300;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (c->nsets == MAX_SETS) {
                cli_error("run: at most %d --set options", MAX_SETS);
                return 2;
            }
            c->sets[c->nsets++] = optarg;
            break;
        case 'n': c->dry_run = 1; break;
        case 't': c->threads_arg = optarg; break;
        case 'm': c->mem_arg = optarg; break;
        case 'r': c->o.retry_failed = 1; break;
        case 'S':
            if (parse_shard(optarg, &c->o)) {
                cli_error("run: --shard '%s': expected I/N with 0 <= I < N", optarg);
                return 2;
            }
            break;
        case 'c':
            c->o.checkpoint_interval_s = strtod(optarg, &end);
            if (*end || end == optarg || c->o.checkpoint_interval_s < 0) {
                cli_error("run: --checkpoint-every '%s': expected seconds >= 0", optarg);
                return 2;
            }
            break;
        case 'q': c->quiet = 1; break;
        case 'T': c->topology = optarg; break;
        case 'h': run_usage(stdout); return -1;
        default: run_usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        cli_error("run: expected one sweep file (see lstmsweep run --help)");
        return 2;
    }
    c->file = argv[optind];
    return 0;
}

/* Command-line scheduler settings beat the sweep file's [sweep] keys. */
static int apply_settings(run_cli *c, ls_sweep *sw)
{
    char *end;
    c->o.threads_per_job = sw->threads_per_job;
    c->o.mem_limit = sw->mem_limit;
    if (c->threads_arg && strcmp(c->threads_arg, "auto") != 0) {
        long k = strtol(c->threads_arg, &end, 10);
        if (*end || end == c->threads_arg || k < 1 || k > 4096) {
            cli_error("run: --threads-per-job '%s': expected auto or 1..4096", c->threads_arg);
            return 2;
        }
        c->o.threads_per_job = (int)k;
    } else if (c->threads_arg) {
        c->o.threads_per_job = 0;
    }
    /* the runner also reads the sweep's own (the server has one per sweep) */
    sw->threads_per_job = c->o.threads_per_job;
    if (c->mem_arg && ls_parse_bytes(c->mem_arg, &c->o.mem_limit) != 0) {
        cli_error("run: --mem-limit '%s': expected auto or a size like 16G", c->mem_arg);
        return 2;
    }
    return 0;
}

/* The dry run; for an asha search the grid's plan is an upper bound. */
static int plan(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o)
{
    ls_err err = {0};
    if (ls_runner_plan(sw, topo, o, stdout, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    if (sw->search.method == LS_SEARCH_ASHA)
        printf("search: asha: the plan above is the grid's (every job to its last rung), "
               "an upper bound of what the search trains\n");
    return 0;
}

/* An asha search (searchrun.h): its own summary; exit 3 while it is not
 * finished (a drain), as a grid's. */
static int run_search(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o)
{
    ls_run_summary sum = {0};
    ls_search_summary ss = {0};
    ls_err err = {0};
    int rc = 0;
    if (ls_search_run(sw, topo, o, &sum, &ss, &err)) {
        cli_error("%s", err.msg);
        rc = 1;
    }
    fprintf(stderr, "sweep %s: asha over %zu unit(s): %zu reached the last rung, %zu stopped; "
            "this run: %zu paused, %zu ok, %zu diverged, %zu failed, %zu interrupted, "
            "%zu stopped row(s); %.1fs\nresults: %s\nsearch log: %s\n", sw->name, ss.units,
            ss.done, ss.stopped, sum.paused, sum.ok, sum.diverged, sum.failed,
            sum.interrupted, ss.stopped_rows, sum.wall_s, sw->results, sw->search_log);
    if (!rc && !ss.finished) {
        rc = 3;
        fprintf(stderr, "stopped early: run the same command again to continue\n");
    }
    return rc;
}

static int do_run(int argc, char **argv, int dry_run)
{
    run_cli c = {0};
    ls_sweep *sw = NULL;
    ls_topo *topo = NULL;
    ls_run_summary sum = {0};
    ls_err err = {0};
    int rc = parse_run(argc, argv, &c);

    if (rc)
        return rc < 0 ? 0 : rc;
    c.dry_run |= dry_run;
    if (ls_sweep_load(&sw, c.file, c.sets, c.nsets, &err)) {
        cli_error("%s", err.msg);
        return 2;
    }
    if ((rc = apply_settings(&c, sw)))
        goto out;
    if (c.topology && !c.dry_run) {
        cli_error("run: --topology describes another machine: use it with plan");
        rc = 2;
        goto out;
    }
    if (c.topology ? ls_topo_load_described(&topo, c.topology, &err) : ls_topo_load(&topo, &err)) {
        cli_error("%s", err.msg);
        rc = c.topology ? 2 : 1;
        goto out;
    }
    /* Another machine's memory is its own: 90% of it, as auto is here. */
    if (c.topology && !c.o.mem_limit)
        c.o.mem_limit = ls_topo_memory(topo) / 10 * 9;
    /* Inside a Slurm allocation the cgroup/cpuset is already the limit;
     * SLURM_CPUS_PER_TASK also caps it when the cpuset is wider (no
     * task/cgroup or task/affinity plugin). */
    const char *slurm_cpus = getenv("SLURM_CPUS_PER_TASK");
    if (!c.topology && slurm_cpus && atoi(slurm_cpus) > 0)
        ls_topo_limit_cores(topo, atoi(slurm_cpus));
    c.o.log = c.quiet ? NULL : stderr;
    c.o.live = !c.quiet && isatty(STDERR_FILENO);
    c.o.stop = ls_drain_flag();
    if (c.dry_run) {
        rc = plan(sw, topo, &c.o);
        goto out;
    }
    if (ls_drain_install(&err)) {
        cli_error("%s", err.msg);
        rc = 1;
        goto out;
    }
    if (sw->search.method == LS_SEARCH_ASHA) {
        rc = run_search(sw, topo, &c.o);
        goto out;
    }
    if (ls_runner_run(sw, topo, &c.o, &sum, &err)) {
        cli_error("%s", err.msg);
        rc = 1;
    }
    fprintf(stderr, "sweep %s: %zu job(s): %zu ok, %zu diverged, %zu failed, "
            "%zu interrupted, %zu not started, %zu done before; %.1fs\n"
            "results: %s\n", sw->name, sum.jobs, sum.ok, sum.diverged, sum.failed,
            sum.interrupted, sum.not_started, sum.already_done, sum.wall_s, sw->results);
    if (!rc)
        rc = sum.failed ? 1 : (sum.interrupted || sum.not_started) ? 3 : 0;
    if (rc == 3)
        fprintf(stderr, "stopped early: run the same command again to continue\n");
out:
    ls_topo_destroy(topo);
    ls_sweep_destroy(sw);
    return rc;
}

int cmd_run(int argc, char **argv) { return do_run(argc, argv, 0); }
int cmd_plan(int argc, char **argv) { return do_run(argc, argv, 1); }

int cmd_topo(int argc, char **argv)
{
    ls_topo *topo = NULL;
    ls_err err = {0};
    char cpus[64];
    const char *described = NULL;

    if (argc > 1 && !strcmp(argv[1], "--help")) {
        printf("usage: lstmsweep topo [--topology FILE.xml|DESC]\n\nPrint the CPUs and NUMA "
               "nodes this process may use (or those of the machine\ndescribed) and how the "
               "runner places 1-thread jobs.\n");
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--topology"))
        described = argv[2];
    else if (argc > 1) {
        cli_error("topo: expected no argument or --topology FILE.xml|DESC");
        return 2;
    }
    if (described ? ls_topo_load_described(&topo, described, &err) : ls_topo_load(&topo, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    ls_topo_print(topo, stdout);
    printf("slots (threads-per-job 1): %d, one per core:\n", ls_topo_ncores(topo));
    for (int c = 0; c < ls_topo_ncores(topo); c++) {
        ls_topo_cpulist(topo, &c, 1, cpus, sizeof cpus);
        printf("  slot %d: PU %s, NUMA node %d\n", c, cpus,
               ls_topo_node_os_index(topo, ls_topo_core_node(topo, c)));
    }
    printf("wider jobs (threads-per-job k) take k free cores of one NUMA node.\n");
    ls_topo_destroy(topo);
    return 0;
}
