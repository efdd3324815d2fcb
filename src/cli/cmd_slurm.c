/* cmd_slurm.c - `lstmsweep slurm`: write (and optionally submit) a
 * self-submitting sbatch script that runs a sweep as a Slurm job array,
 * one shard per array task, plus a merge job that depends on the array.
 *
 * The script has three roles, chosen by its first argument:
 *   bash SCRIPT [submit]    submit the array (split if it exceeds the
 *                           cluster's MaxArraySize) and the merge job
 *   (sbatch) SCRIPT task K  array task: shard K + SLURM_ARRAY_TASK_ID
 *   (sbatch) SCRIPT merge   merge the shards' results and curves into the
 *                           sweep's results and curves files
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lstmsweep/sweep.h"

#define MAX_SETS 64

typedef struct slurm_cli {
    const char *file, *out, *time, *mem, *partition, *account, *max_array;
    const char *sets[MAX_SETS];
    int nsets, tasks, cpus, submit;
} slurm_cli;

static void slurm_usage(FILE *f)
{
    fprintf(f,
        "usage: lstmsweep slurm SWEEP.ini [OPTIONS]\n\n"
        "Write an sbatch script that runs the sweep as a Slurm job array: each\n"
        "array task runs one shard of the jobs (balanced by estimated cost) on\n"
        "the CPUs Slurm gives it, into its own results and curves files; a\n"
        "merge job that depends on the whole array (afterany) combines them into\n"
        "the sweep's results and curves files.  Submit with `bash SCRIPT`, or use\n"
        "--submit.\n\n"
        "  -o, --output FILE        script to write [slurm-<sweep>.sbatch]\n"
        "  --tasks N                array tasks (shards) [min(jobs, 8)]\n"
        "  --cpus-per-task K        cores per array task [1]\n"
        "  --time T                 time limit per array task [24:00:00]\n"
        "  --mem M                  memory per array task, Slurm syntax (e.g. 64G)\n"
        "  --partition P            partition\n"
        "  --account A              account\n"
        "  --max-array-size M|auto  split arrays larger than this [auto: the\n"
        "                           cluster's MaxArraySize at submission, else 1001]\n"
        "  --set SECTION.KEY=VALUES sweep-file override, passed to every task\n"
        "  --submit                 also submit now and print the job ids\n");
}

static int parse_slurm(int argc, char **argv, slurm_cli *c)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"tasks", required_argument, NULL, 'n'},
        {"cpus-per-task", required_argument, NULL, 'c'},
        {"time", required_argument, NULL, 't'},
        {"mem", required_argument, NULL, 'm'},
        {"partition", required_argument, NULL, 'p'},
        {"account", required_argument, NULL, 'A'},
        {"max-array-size", required_argument, NULL, 'M'},
        {"set", required_argument, NULL, 's'},
        {"submit", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    char *end;

    c->time = "24:00:00";
    c->cpus = 1;
    c->max_array = "auto";
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': c->out = optarg; break;
        case 'n':
        case 'c': {
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 1000000) {
                cli_error("slurm: --%s '%s': expected a positive integer",
                          ch == 'n' ? "tasks" : "cpus-per-task", optarg);
                return 2;
            }
            *(ch == 'n' ? &c->tasks : &c->cpus) = (int)v;
            break;
        }
        case 't': c->time = optarg; break;
        case 'm': c->mem = optarg; break;
        case 'p': c->partition = optarg; break;
        case 'A': c->account = optarg; break;
        case 'M':
            if (strcmp(optarg, "auto") && (strtol(optarg, &end, 10) < 1 || *end)) {
                cli_error("slurm: --max-array-size '%s': expected auto or a positive integer", optarg);
                return 2;
            }
            c->max_array = optarg;
            break;
        case 's':
            if (c->nsets == MAX_SETS) {
                cli_error("slurm: at most %d --set options", MAX_SETS);
                return 2;
            }
            c->sets[c->nsets++] = optarg;
            break;
        case 'S': c->submit = 1; break;
        case 'h': slurm_usage(stdout); return -1;
        default: slurm_usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        cli_error("slurm: expected one sweep file (see lstmsweep slurm --help)");
        return 2;
    }
    c->file = argv[optind];
    return 0;
}

/* Single-quote s for bash. */
static void shq(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

static void write_header(FILE *f, const slurm_cli *c, const ls_sweep *sw,
                         const char *logdir)
{
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(f,
        "#!/bin/bash\n"
        "# Slurm job array for the lstmsweep sweep '%s' (%zu jobs in %d shards),\n"
        "# written by lstmsweep %s on %s.\n"
        "#\n"
        "#   bash %s     submits the array and the merge job, printing their ids.\n"
        "#\n"
        "# Each array task runs one shard of the sweep's jobs (the shards are balanced\n"
        "# by estimated cost and the same in every run) on the CPUs Slurm gives it,\n"
        "# writing its own results and curves files; the merge job, which starts when\n"
        "# the whole array has ended (afterany), combines them into %s\n"
        "# and %s.\n"
        "# Rerunning this script after a time-out, a cancel or a node failure resumes:\n"
        "# finished jobs are skipped and interrupted ones continue from checkpoints.\n"
        "#\n",
        sw->name, sw->njobs, c->tasks, PACKAGE_VERSION, date,
        c->out, sw->results, sw->curves);
    fprintf(f, "#SBATCH --job-name=lstmsweep-%s   # shown by squeue\n", sw->name);
    fprintf(f, "#SBATCH --ntasks=1                   # one runner process per array task...\n");
    fprintf(f, "#SBATCH --cpus-per-task=%-12d # ...using this many cores, one job per core\n", c->cpus);
    fprintf(f, "#SBATCH --time=%-19s   # limit per array task\n", c->time);
    if (c->mem)
        fprintf(f, "#SBATCH --mem=%-20s   # memory per array task (the runner keeps its jobs inside 90%%)\n", c->mem);
    if (c->partition)
        fprintf(f, "#SBATCH --partition=%s\n", c->partition);
    if (c->account)
        fprintf(f, "#SBATCH --account=%s\n", c->account);
    fprintf(f,
        "#SBATCH --signal=B:USR1@300          # 5 min before the limit, tell the runner to stop:\n"
        "#                                     # running jobs checkpoint and are recorded 'interrupted'\n"
        "#SBATCH --requeue                    # on node failure Slurm reruns the task; it resumes\n"
        "#                                     # from the periodic checkpoints (every 300 s)\n"
        "#SBATCH --output=%s/slurm-%%x-%%A_%%a.out   # one log per array task\n\n",
        logdir);
}

/* The script's roles: submit the array(s) and the merge job; run one
 * array task's shard; merge the shards' results and curves. */
static const char script_roles[] =
        "case \"${1:-submit}\" in\n"
        "submit)\n"
        "    # Arrays larger than the cluster's MaxArraySize go as several arrays,\n"
        "    # each task adding its array's offset to its index.\n"
        "    max=$MAX_ARRAY_SIZE\n"
        "    if [ \"$max\" = auto ]; then\n"
        "        max=$(scontrol show config 2>/dev/null | sed -n 's/^MaxArraySize *= *//p')\n"
        "        max=${max:-1001}\n"
        "    fi\n"
        "    ids=()\n"
        "    for ((off = 0; off < TASKS; off += max)); do\n"
        "        n=$((TASKS - off < max ? TASKS - off : max))\n"
        "        ids+=(\"$(sbatch --parsable --array=0-$((n - 1)) \"$0\" task \"$off\")\")\n"
        "    done\n"
        "    dep=$(IFS=:; echo \"afterany:${ids[*]}\")\n"
        "    merge=$(sbatch --parsable --dependency=\"$dep\" --job-name=lstmsweep-merge \\\n"
        "            --output=\"$(dirname \"$RESULTS\")/slurm-%x-%j.out\" \\\n"
        "            --cpus-per-task=1 --time=00:30:00 --no-requeue \"$0\" merge)\n"
        "    echo \"array job(s): ${ids[*]}\"\n"
        "    echo \"merge job: $merge (writes $RESULTS)\"\n"
        "    ;;\n"
        "task)\n"
        "    shard=$((SLURM_ARRAY_TASK_ID + ${2:-0}))\n"
        "    base=${RESULTS%.csv}.shard-$(printf %04d \"$shard\")\n"
        "    # The runner uses only this task's CPUs: the cpuset Slurm bound it to,\n"
        "    # capped by SLURM_CPUS_PER_TASK; and only its memory, when --mem is set.\n"
        "    mem=()\n"
        "    if [ \"${SLURM_MEM_PER_NODE:-0}\" -gt 0 ]; then\n"
        "        mem=(--mem-limit \"$((SLURM_MEM_PER_NODE * 9 / 10))M\")\n"
        "    fi\n"
        "    # exec: the runner itself receives Slurm's USR1 (and scancel's TERM).\n"
        "    exec \"$LSTMSWEEP\" run \"$SWEEP\" \"${SETS[@]}\" \"${mem[@]}\" \\\n"
        "        --shard \"$shard/$TASKS\" --set \"sweep.results=$base.csv\" \\\n"
        "        --set \"sweep.curves=$base-curves.csv\"\n"
        "    ;;\n"
        "merge)\n"
        "    # The tasks' files: results/<name>.shard-NNNN.csv and\n"
        "    # results/<name>.shard-NNNN-curves.csv (an asha search's audit logs,\n"
        "    # .shard-NNNN-search.csv, stay as they are: each is its shard's search).\n"
        "    shopt -s nullglob\n"
        "    shards=()\n"
        "    curves=()\n"
        "    for f in \"${RESULTS%.csv}\".shard-*.csv; do\n"
        "        case $f in\n"
        "        *-curves.csv) curves+=(\"$f\") ;;\n"
        "        *-search.csv) ;;\n"
        "        *) shards+=(\"$f\") ;;\n"
        "        esac\n"
        "    done\n"
        "    \"$LSTMSWEEP\" merge -o \"$RESULTS\" \"${shards[@]}\"\n"
        "    if [ ${#curves[@]} -eq 0 ]; then\n"
        "        echo \"no curves files of the shards: $CURVES not written\" >&2\n"
        "        exit 0\n"
        "    fi\n"
        "    mkdir -p \"$(dirname \"$CURVES\")\"\n"
        "    exec \"$LSTMSWEEP\" merge --curves -o \"$CURVES\" \"${curves[@]}\"\n"
        "    ;;\n"
        "*)\n"
        "    echo \"usage: bash $0 [submit]\" >&2\n"
        "    exit 2\n"
        "    ;;\n"
        "esac\n";

static void write_vars(FILE *f, const slurm_cli *c, const ls_sweep *sw,
                       const char *prog, const char *sweep_path, const char *cwd)
{
    fprintf(f, "set -euo pipefail\n\n");
    fprintf(f, "LSTMSWEEP=");
    shq(f, prog);
    fprintf(f, "\nSWEEP=");
    shq(f, sweep_path);
    fprintf(f, "\nWORKDIR=");
    shq(f, cwd);
    fprintf(f, "          # relative paths of the sweep file are taken from here\n");
    fprintf(f, "TASKS=%d\nRESULTS=", c->tasks);
    shq(f, sw->results);
    fprintf(f, "\nCURVES=");
    shq(f, sw->curves);
    fprintf(f, "\nMAX_ARRAY_SIZE=%s\n", c->max_array);
    fprintf(f, "SETS=(");
    for (int i = 0; i < c->nsets; i++) {
        fputs(i ? " --set " : "--set ", f);
        shq(f, c->sets[i]);
    }
    fprintf(f, ")\n\ncd \"$WORKDIR\"\n");
    fprintf(f, "mkdir -p \"$(dirname %s)\"\n\n", "\"$RESULTS\"");
}

static void write_body(FILE *f, const slurm_cli *c, const ls_sweep *sw,
                       const char *prog, const char *sweep_path, const char *cwd)
{
    write_vars(f, c, sw, prog, sweep_path, cwd);
    fputs(script_roles, f);
}

int cmd_slurm(int argc, char **argv)
{
    slurm_cli c = {0};
    ls_sweep *sw = NULL;
    ls_err err = {0};
    char prog[PATH_MAX], sweep_path[PATH_MAX], cwd[PATH_MAX], out_buf[600];
    int rc = parse_slurm(argc, argv, &c);
    FILE *f;

    if (rc)
        return rc < 0 ? 0 : rc;
    if (ls_sweep_load(&sw, c.file, c.sets, c.nsets, &err)) {
        cli_error("%s", err.msg);
        return 2;
    }
    if (!c.tasks)
        c.tasks = sw->njobs < 8 ? (int)sw->njobs : 8;
    if (!c.out) {
        snprintf(out_buf, sizeof out_buf, "slurm-%s.sbatch", sw->name);
        c.out = out_buf;
    }
    ssize_t n = readlink("/proc/self/exe", prog, sizeof prog - 1);
    prog[n > 0 ? n : 0] = '\0';
    if (!realpath(c.file, sweep_path) || !getcwd(cwd, sizeof cwd) || n <= 0) {
        cli_error("slurm: cannot resolve paths of %s", c.file);
        rc = 1;
        goto out;
    }
    if (!(f = fopen(c.out, "w"))) {
        cli_error("slurm: cannot write %s", c.out);
        rc = 1;
        goto out;
    }
    /* Slurm does not create log directories: use the results directory,
     * which the script creates before submitting. */
    char logdir[PATH_MAX + 8];
    snprintf(logdir, sizeof logdir, "%s", sw->results);
    char *slash = strrchr(logdir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(logdir, sizeof logdir, ".");
    write_header(f, &c, sw, logdir);
    write_body(f, &c, sw, prog, sweep_path, cwd);
    if (fclose(f) != 0) {
        cli_error("slurm: cannot write %s", c.out);
        rc = 1;
        goto out;
    }
    fprintf(stderr, "wrote %s: %zu jobs in %d array task(s) of %d core(s); submit with: bash %s\n",
            c.out, sw->njobs, c.tasks, c.cpus, c.out);
    if (c.submit) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "bash '%s' submit", c.out);
        rc = system(cmd) == 0 ? 0 : 1;
        if (rc)
            cli_error("slurm: submission failed (is sbatch on the PATH and the cluster up?)");
    }
out:
    ls_sweep_destroy(sw);
    return rc;
}
