/* check_place.c - the scheduler's placement policy (place.h) and plan
 * simulator (plan.h) without threads, on synthetic hwloc machines; the cost
 * model (cost.h); and the queue's preparation (queue.h): order, shard
 * before data, finished jobs load no data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hwloc.h>

#include "check_util.h"
#include "lstmsweep/cost.h"
#include "lstmsweep/place.h"
#include "lstmsweep/plan.h"
#include "lstmsweep/queue.h"
#include "lstmsweep/results.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/topo.h"

enum { MAXJ = 64 };

/* A machine from an hwloc synthetic description, as plain arrays. */
typedef struct machine {
    ls_topo *topo;
    int ncores, nnodes, core_node[256];
} machine;

static machine make_machine(const char *desc)
{
    machine m;
    ls_err err = {0};
    ck_assert_msg(ls_topo_load_synthetic(&m.topo, desc, &err) == 0, "%s", err.msg);
    m.ncores = ls_topo_ncores(m.topo);
    m.nnodes = ls_topo_nnodes(m.topo);
    ck_assert(m.ncores <= 256);
    for (int c = 0; c < m.ncores; c++)
        m.core_node[c] = ls_topo_core_node(m.topo, c);
    return m;
}

static ls_place_job job(double est_s, size_t mem, int useful)
{
    ls_place_job j;
    memset(&j, 0, sizeof j);
    j.est_s = est_s;
    j.mem = mem;
    j.useful = useful;
    return j;
}

static void identity(size_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
}

/* A policy on a synthetic machine, its queue in index order. */
typedef struct world {
    machine m;
    ls_place p;
    size_t order[MAXJ];
} world;

static void world_init(world *w, const char *desc, size_t mem_limit, int tpj,
                       const ls_place_job *jobs, size_t n)
{
    ls_err err = {0};
    ck_assert(n <= MAXJ);
    w->m = make_machine(desc);
    identity(w->order, n);
    ck_assert_msg(ls_place_init(&w->p, w->m.ncores, w->m.nnodes, w->m.core_node,
                                mem_limit, tpj, jobs, n, &err) == 0, "%s", err.msg);
}

static void world_free(world *w)
{
    ls_place_free(&w->p);
    ls_topo_destroy(w->m.topo);
}

static long next(world *w, ls_place_job *jobs, size_t n, double now)
{
    return ls_place_next(&w->p, jobs, w->order, n, now);
}

/* All cores of a started job are distinct and on its node. */
static void assert_on_one_node(const machine *m, const ls_place_job *j)
{
    for (int i = 0; i < j->k; i++) {
        ck_assert_int_eq(m->core_node[j->cores[i]], j->node);
        for (int k = 0; k < i; k++)
            ck_assert_int_ne(j->cores[i], j->cores[k]);
    }
}

START_TEST(test_place_synthetic_topologies)
{
    machine a = make_machine("pack:2 numa:1 core:4 pu:1");
    ck_assert_int_eq(a.ncores, 8);
    ck_assert_int_eq(a.nnodes, 2);
    machine b = make_machine("numa:2 core:8 pu:2");
    ck_assert_int_eq(b.ncores, 16); /* one thread per core */
    ck_assert_int_eq(b.nnodes, 2);
    for (int c = 0; c < 16; c++) /* cores grouped node by node */
        ck_assert_int_eq(b.core_node[c], c / 8);
    ls_topo *bad;
    ls_err err = {0};
    ck_assert_int_eq(ls_topo_load_synthetic(&bad, "no such thing:3", &err), LS_EINVAL);
    ck_assert(err.msg[0]);
    ls_topo_destroy(a.topo);
    ls_topo_destroy(b.topo);
}
END_TEST

/* A k-thread job gets k cores of ONE node, never split across nodes, even
 * when the free cores of the machine would add up. */
START_TEST(test_place_k_threads_on_one_node_never_split)
{
    ls_place_job jobs[3] = {job(100, 1, 8), job(90, 1, 8), job(80, 1, 8)};
    world w;
    world_init(&w, "pack:2 numa:1 core:4 pu:1", 1000, 3, jobs, 3);
    ck_assert_int_eq(next(&w, jobs, 3, 0), 0);
    ck_assert_int_eq(next(&w, jobs, 3, 0), 1);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(jobs[i].k, 3);
        assert_on_one_node(&w.m, &jobs[i]);
    }
    ck_assert_int_ne(jobs[0].node, jobs[1].node);
    /* 2 cores free, one per node: the third 3-thread job waits */
    ck_assert_int_eq(next(&w, jobs, 3, 0), -1);
    ls_place_finish(&w.p, &jobs[0]);
    ck_assert_int_eq(next(&w, jobs, 3, 1), 2);
    ck_assert_int_eq(jobs[2].node, jobs[0].node);
    assert_on_one_node(&w.m, &jobs[2]);
    world_free(&w);
}
END_TEST

/* 1-thread jobs: every core is used once, over both nodes; best fit fills
 * one node before it opens the other (keeping whole nodes free). */
START_TEST(test_place_one_thread_jobs_use_every_core_of_both_nodes)
{
    ls_place_job jobs[9];
    int used[8] = {0}, per_node[2] = {0};
    world w;
    for (int i = 0; i < 9; i++)
        jobs[i] = job(100 - i, 1, 1);
    world_init(&w, "numa:2 core:4 pu:2", 1000, 0, jobs, 9);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(next(&w, jobs, 9, 0), i);
        ck_assert_int_eq(jobs[i].k, 1);
        used[jobs[i].cores[0]]++;
        per_node[jobs[i].node]++;
        ck_assert_int_eq(jobs[i].node, i < 4 ? jobs[0].node : 1 - jobs[0].node);
    }
    for (int c = 0; c < 8; c++)
        ck_assert_int_eq(used[c], 1);
    ck_assert_int_eq(per_node[0], 4);
    ck_assert_int_eq(per_node[1], 4);
    ck_assert_int_eq(next(&w, jobs, 9, 0), -1); /* machine full */
    world_free(&w);
}
END_TEST

/* The machines lstmsweep's users have, as hwloc synthetic descriptions:
 * cores (not hardware threads), NUMA nodes with cores, and the cores per
 * node.  The last has a memory-only node (HBM, CXL) beside each socket's
 * DDR node: it holds no core, so it is not the scheduler's. */
static const struct big_server {
    const char *what, *desc;
    int ncores, nnodes, per_node;
} big_servers[] = {
    {"2-socket AMD EPYC, NPS4, SMT", "pack:2 numa:4 l3:2 core:8 pu:2", 128, 8, 16},
    {"2-socket Xeon, sub-NUMA clustering", "pack:2 numa:2 l3:1 core:14 pu:2", 56, 4, 14},
    {"4-socket server", "pack:4 numa:1 core:24 pu:2", 96, 4, 24},
    {"memory-only nodes beside DDR", "pack:2 [numa(memory=64GB)] [numa(memory=16GB)] core:8 pu:2",
     16, 2, 8},
};

/* On each: one-thread jobs fill every core once, never one per hardware
 * thread; node-wide jobs (threads_per_job = cores per node) get one whole
 * node each and never span two; and a wider request is cut to a node. */
START_TEST(test_place_big_servers)
{
    enum { N = 300 };
    static ls_place_job jobs[N];
    static size_t order[N];
    for (size_t b = 0; b < sizeof big_servers / sizeof *big_servers; b++) {
        const struct big_server *bs = &big_servers[b];
        machine m = make_machine(bs->desc);
        ck_assert_msg(m.ncores == bs->ncores && m.nnodes == bs->nnodes, "%s: %d cores, %d nodes",
                      bs->what, m.ncores, m.nnodes);
        for (int tpj = 1; tpj <= bs->per_node + 1; tpj += bs->per_node) {
            ls_place p;
            ls_err err = {0};
            int used[256] = {0}, jobs_on[16] = {0}, started = 0;
            size_t n = (size_t)m.ncores + 5;
            for (size_t i = 0; i < n; i++)
                jobs[i] = job(1000 - (double)i, 1, 1024);
            identity(order, n);
            ck_assert(ls_place_init(&p, m.ncores, m.nnodes, m.core_node, 1u << 30, tpj, jobs, n,
                                    &err) == 0);
            for (long i; (i = ls_place_next(&p, jobs, order, n, 0)) >= 0; started++) {
                const ls_place_job *j = &jobs[i];
                ck_assert_int_eq(j->k, tpj == 1 ? 1 : bs->per_node);
                assert_on_one_node(&m, j);
                jobs_on[j->node]++;
                for (int c = 0; c < j->k; c++)
                    used[j->cores[c]]++;
            }
            ck_assert_int_eq(started, tpj == 1 ? m.ncores : m.nnodes);
            for (int c = 0; c < m.ncores; c++)
                ck_assert_int_eq(used[c], 1);
            for (int nd = 0; nd < m.nnodes; nd++)
                ck_assert_int_eq(jobs_on[nd], tpj == 1 ? bs->per_node : 1);
            ls_place_free(&p);
        }
        ls_topo_destroy(m.topo);
    }
}
END_TEST

/* A machine read from the XML that lstopo writes (here exported by hwloc
 * from a synthetic one) is the same machine; anything else that is not a
 * file is taken as a synthetic description, and a bad one is refused. */
START_TEST(test_topo_from_xml_file)
{
    char dir[64], path[128];
    hwloc_topology_t h;
    ls_topo *t;
    ls_err err = {0};
    ls_test_mkdtemp(dir, sizeof dir, "topoxml");
    snprintf(path, sizeof path, "%s/epyc.xml", dir);
    ck_assert(hwloc_topology_init(&h) == 0);
    ck_assert(hwloc_topology_set_synthetic(h, big_servers[0].desc) == 0);
    ck_assert(hwloc_topology_load(h) == 0);
    ck_assert(hwloc_topology_export_xml(h, path, 0) == 0);
    hwloc_topology_destroy(h);
    ck_assert_msg(ls_topo_load_described(&t, path, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ls_topo_ncores(t), 128);
    ck_assert_int_eq(ls_topo_nnodes(t), 8);
    ck_assert(ls_topo_memory(t) > 0);
    ls_topo_destroy(t);
    ck_assert_msg(ls_topo_load_described(&t, "numa:2 core:3 pu:1", &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ls_topo_ncores(t), 6);
    ls_topo_destroy(t);
    ck_assert_int_eq(ls_topo_load_described(&t, "/nonexistent.xml", &err), LS_EINVAL);
    ls_test_rmtree(dir);
}
END_TEST

/* The critical path: a job longer than the machine's share of the work
 * gets the threads that shorten the makespan's bound most (here all of a
 * node's 8 on 32 cores; both cores of a 2-core machine, where one thread
 * would end 1000 s after the start and two end the whole sweep by 885);
 * many equally long jobs are not widened past an even split of the cores,
 * so none waits (36 on 64 cores: all start at once, on one or two cores). */
START_TEST(test_place_widens_the_critical_path)
{
    enum { N = 64 };
    static ls_place_job jobs[N];
    static size_t order[N];
    static const struct { const char *desc; int nshort, want_k; } cases[] = {
        {"pack:2 numa:2 core:8 pu:1", 40, 8}, {"numa:1 core:2 pu:1", 40, 2}};
    for (int c = 0; c < 2; c++) {
        machine m = make_machine(cases[c].desc);
        ls_place p;
        ls_err err = {0};
        size_t n = 1 + (size_t)cases[c].nshort;
        jobs[0] = job(1000, 1, 16);
        for (size_t i = 1; i < n; i++)
            jobs[i] = job(10, 1, 1);
        identity(order, n);
        ck_assert(ls_place_init(&p, m.ncores, m.nnodes, m.core_node, 1u << 30, 0, jobs, n,
                                &err) == 0);
        ck_assert_int_eq(ls_place_next(&p, jobs, order, n, 0), 0);
        ck_assert_int_eq(jobs[0].k, cases[c].want_k);
        assert_on_one_node(&m, &jobs[0]);
        ls_place_free(&p);
        ls_topo_destroy(m.topo);
    }
    machine m = make_machine("pack:2 numa:4 core:8 pu:1");
    ls_place p;
    ls_err err = {0};
    for (int i = 0; i < 36; i++)
        jobs[i] = job(100, 1, 16);
    identity(order, 36);
    ck_assert(ls_place_init(&p, m.ncores, m.nnodes, m.core_node, 1u << 30, 0, jobs, 36, &err) == 0);
    int cores = 0;
    for (int i = 0; i < 36; i++) {
        ck_assert_int_eq(ls_place_next(&p, jobs, order, 36, 0), i);
        ck_assert_int_le(jobs[i].k, 2);   /* the idle cores, split */
        cores += jobs[i].k;
    }
    ck_assert_int_le(cores, 64);
    ls_place_free(&p);
    ls_topo_destroy(m.topo);
}
END_TEST

/* A job's own fixed thread count (its sweep's threads_per_job, as each of
 * the server's sweeps has) beats the auto policy, and the policy's fixed
 * count stands for jobs that have none. */
START_TEST(test_place_job_threads_of_its_sweep)
{
    ls_place_job jobs[3] = {job(100, 1, 8), job(90, 1, 8), job(80, 1, 8)};
    world w;
    jobs[0].threads = 3;
    jobs[1].threads = 1;
    world_init(&w, "pack:2 numa:1 core:4 pu:1", 1000, 0, jobs, 3);
    ck_assert_int_eq(next(&w, jobs, 3, 0), 0);
    ck_assert_int_eq(jobs[0].k, 3);
    ck_assert_int_eq(next(&w, jobs, 3, 0), 1);
    ck_assert_int_eq(jobs[1].k, 1);
    world_free(&w);
    jobs[0] = job(100, 1, 8), jobs[1] = job(90, 1, 8);
    jobs[1].threads = 1;
    world_init(&w, "pack:2 numa:1 core:4 pu:1", 1000, 2, jobs, 3);
    ck_assert_int_eq(next(&w, jobs, 3, 0), 0);
    ck_assert_int_eq(jobs[0].k, 2);
    ck_assert_int_eq(next(&w, jobs, 3, 0), 1);
    ck_assert_int_eq(jobs[1].k, 1);
    world_free(&w);
}
END_TEST

START_TEST(test_place_skips_node_with_too_few_free_cores)
{
    ls_place_job jobs[1] = {job(100, 1, 4)};
    world w;
    world_init(&w, "pack:2 numa:1 core:4 pu:1", 1000, 2, jobs, 1);
    for (int c = 0; c < 3; c++) /* node 0: one core left */
        w.p.core_busy[c] = 1;
    ck_assert_int_eq(w.m.core_node[0], 0);
    ck_assert_int_eq(next(&w, jobs, 1, 0), 0);
    ck_assert_int_eq(jobs[0].node, 1);
    assert_on_one_node(&w.m, &jobs[0]);
    world_free(&w);
}
END_TEST

/* Running jobs never exceed the limit; a job over the whole limit comes
 * back once as too big (k = 0) and the others go on. */
START_TEST(test_place_memory_limit_and_too_big)
{
    ls_place_job jobs[3] = {job(300, 150, 1), job(200, 60, 1), job(100, 60, 1)};
    world w;
    world_init(&w, "numa:1 core:4 pu:1", 100, 0, jobs, 3);
    ck_assert_int_eq(next(&w, jobs, 3, 0), 0);
    ck_assert_int_eq(jobs[0].k, 0);
    ck_assert_int_eq(jobs[0].state, LS_PLACE_DONE);
    ck_assert_int_eq(next(&w, jobs, 3, 0), 1);
    ck_assert_int_eq(next(&w, jobs, 3, 0), -1); /* 120 > 100 */
    ck_assert(w.p.mem_used <= w.p.mem_limit);
    ls_place_finish(&w.p, &jobs[1]);
    ck_assert_int_eq(next(&w, jobs, 3, 200), 2);
    ck_assert_int_eq(w.p.pending, 0);
    world_free(&w);
}
END_TEST

/* The policy starts jobs in the queue's order; the queue puts the largest
 * estimate first (and a job's estimate grows with its work). */
START_TEST(test_place_largest_first)
{
    ls_place_job jobs[4] = {job(1, 1, 1), job(50, 1, 1), job(9, 1, 1), job(20, 1, 1)};
    const size_t order[4] = {1, 3, 2, 0};
    world w;
    world_init(&w, "numa:1 core:2 pu:1", 1000, 0, jobs, 4);
    ls_plan_simulate(&w.p, jobs, order, 4);
    ck_assert(jobs[1].start == 0 && jobs[3].start == 0);
    ck_assert(jobs[2].start == 20 && jobs[0].start == 29);
    world_free(&w);

    ls_job small, big;
    ls_job_defaults(&small, LS_TASK_BITCOUNT);
    big = small;
    big.hidden *= 4;
    size_t tr, te;
    ls_cost_samples(&small, &tr, &te);
    ck_assert_uint_eq(tr, 10000);
    ck_assert_uint_eq(te, (1u << 20) - 10000);
    ck_assert(ls_cost_seconds(&big, tr, te, 10) > ls_cost_seconds(&small, tr, te, 10));
}
END_TEST

/* Defect 6: under memory pressure a stream of small jobs overtook the big
 * head of the queue forever.  Two cores, limit 100: B1 (60) runs, the
 * head B2 (80) waits for memory, small jobs (30, 10 s each) keep one core
 * busy.  Without the reservation one small job always holds memory and B2
 * starts only after every small one; with it B2 starts when B1 ends. */
static double head_start(int reserve)
{
    enum { NS = 40 };
    ls_place_job jobs[2 + NS];
    world w;
    jobs[0] = job(100, 60, 1);
    jobs[1] = job(90, 80, 1);
    for (int i = 0; i < NS; i++)
        jobs[2 + i] = job(10, 30, 1);
    world_init(&w, "numa:1 core:2 pu:1", 100, 0, jobs, 2 + NS);
    w.p.reserve = reserve;
    ls_plan_simulate(&w.p, jobs, w.order, 2 + NS);
    ck_assert_int_eq(w.p.pending, 0);
    for (int i = 0; i < 2 + NS; i++)
        ck_assert_int_eq(jobs[i].state, LS_PLACE_DONE);
    double last_small = 0;
    for (int i = 0; i < NS; i++)
        last_small = jobs[2 + i].start > last_small ? jobs[2 + i].start : last_small;
    ck_assert_msg(reserve || jobs[1].start > last_small,
                  "without reservation B2 started at %g, before the last small job (%g)",
                  jobs[1].start, last_small);
    world_free(&w);
    return jobs[1].start;
}

START_TEST(test_place_reservation_stops_small_jobs_overtaking_head)
{
    double without = head_start(0), with = head_start(1);
    ck_assert_msg(without > 200, "without reservation: head at %g", without);
    /* B1 ends at 100; the small job then running ends by 100 too, as
     * the reservation only let through small jobs that end by then */
    ck_assert_msg(with == 100, "with reservation: head at %g, expected 100", with);
}
END_TEST

/* Backfilling goes on under the reservation: a job that ends before the
 * head can start, or fits in the bytes left beside the head then, starts;
 * one that would hold the head's bytes past that time waits. */
START_TEST(test_place_reservation_keeps_backfilling)
{
    /* limit 110: X (30) runs long, R (40) ends at 100; the head H (60)
     * waits for R: then 20 bytes are spare beside it.  S (5) ends at 60;
     * L (30) fits now but would hold 30 > 20 past 100; T (10) fits in the
     * spare. */
    ls_place_job jobs[6] = {job(1000, 30, 1), job(100, 40, 1), job(90, 60, 1),
                            job(60, 5, 1), job(500, 30, 1), job(400, 10, 1)};
    world w;
    world_init(&w, "numa:1 core:4 pu:1", 110, 0, jobs, 6);
    ck_assert_int_eq(next(&w, jobs, 6, 0), 0);  /* X */
    ck_assert_int_eq(next(&w, jobs, 6, 0), 1);  /* R */
    ck_assert_int_eq(next(&w, jobs, 6, 0), 3);  /* S */
    ck_assert_int_eq(next(&w, jobs, 6, 0), 5);  /* T, not L */
    ck_assert_int_eq(jobs[4].state, LS_PLACE_PENDING);
    ck_assert_int_eq(jobs[2].state, LS_PLACE_PENDING);
    /* R ends: H starts at once */
    ls_place_finish(&w.p, &jobs[1]);
    ck_assert_int_eq(next(&w, jobs, 6, 100), 2);
    world_free(&w);
}
END_TEST

START_TEST(test_place_init_rejects_bad_machines)
{
    int nodes[2] = {0, 3};
    ls_place p;
    ls_err err = {0};
    ck_assert_int_eq(ls_place_init(&p, 0, 1, nodes, 1, 0, NULL, 0, &err), LS_EINVAL);
    ck_assert(err.msg[0]);
    ls_place_free(&p);
    err.msg[0] = '\0';
    ck_assert_int_eq(ls_place_init(&p, 2, 2, nodes, 1, 0, NULL, 0, &err), LS_EINVAL);
    ck_assert(strstr(err.msg, "node 3"));
    ls_place_free(&p);
}
END_TEST

/* ---- the queue: shard first, then finished jobs, then data ---- */

static char dir[64], ini[128], csv[128], nodata[128];

static void setup(void)
{
    ls_test_mkdtemp(dir, sizeof dir, "place");
    snprintf(ini, sizeof ini, "%s/s.ini", dir);
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    /* an mnist directory without its IDX files: loading it fails */
    snprintf(nodata, sizeof nodata, "%s/nomnist", dir);
    ck_assert(mkdir(nodata, 0755) == 0);
}

static void teardown(void)
{
    ls_test_rmtree(dir);
}

/* Two small bitcount jobs and one mnist job whose data cannot load. */
static ls_sweep *load_sweep(void)
{
    FILE *f = fopen(ini, "w");
    ls_sweep *sw;
    ls_err err = {0};
    ck_assert(f);
    fprintf(f, "[sweep]\nname = q\nresults = %s\n"
               "[bitcount]\nbits = 6\ntrain_size = 20\nhidden = 2, 3\nepochs = 2\n"
               "[mnist]\ndata = %s\nhidden = 16\nepochs = 1\n", csv, nodata);
    fclose(f);
    ck_assert_msg(ls_sweep_load(&sw, ini, NULL, 0, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(sw->njobs, 3);
    return sw;
}

static ls_run_opts opts(int index, int count)
{
    return (ls_run_opts){.mem_limit = (size_t)1 << 30, .shard_index = index,
                         .shard_count = count};
}

START_TEST(test_queue_shard_loads_only_its_own_data)
{
    ls_sweep *sw = load_sweep();
    machine m = make_machine("numa:1 core:2 pu:1");
    int ok = 0, failed = 0;
    for (int s = 0; s < 2; s++) {
        ls_queue q;
        ls_err err = {0};
        ls_run_opts o = opts(s, 2);
        int rc = ls_queue_prepare(&q, sw, m.topo, &o, &err);
        if (rc == 0) {
            ok++;
            /* the mnist job (nominal 60,000 images) is a shard alone */
            ck_assert_int_eq(q.n, 2);
            for (size_t i = 0; i < q.n; i++)
                ck_assert_int_eq(q.e[i].job.task, LS_TASK_BITCOUNT);
            ck_assert_int_eq(q.ndata, 1); /* one bitcount set, no mnist */
            ck_assert(q.pj[q.order[0]].est_s >= q.pj[q.order[1]].est_s);
        } else {
            failed++;
            ck_assert_msg(strstr(err.msg, "nomnist"), "%s", err.msg);
        }
        ls_queue_free(&q);
    }
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(failed, 1);
    ls_sweep_destroy(sw);
    ls_topo_destroy(m.topo);
}
END_TEST

START_TEST(test_queue_all_done_loads_no_data)
{
    ls_sweep *sw = load_sweep();
    machine m = make_machine("numa:1 core:2 pu:1");
    ls_err err = {0};
    for (size_t i = 0; i < sw->njobs; i++) {
        ls_result r;
        ls_result_init(&r);
        r.status = LS_STATUS_OK;
        ck_assert_msg(ls_results_append(csv, &sw->jobs[i], &r, &err) == 0, "%s", err.msg);
    }
    ls_queue q;
    ls_run_opts o = opts(0, 1);
    ck_assert_msg(ls_queue_prepare(&q, sw, m.topo, &o, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(q.n, 3);
    ck_assert_int_eq(q.already_done, 3);
    ck_assert_int_eq(q.ndata, 0);
    ck_assert_int_eq(q.place.pending, 0);
    ls_queue_free(&q);
    ls_sweep_destroy(sw);
    ls_topo_destroy(m.topo);
}
END_TEST

Suite *place_suite(void)
{
    Suite *s = suite_create("place");
    ls_add_case(s, "Core", NULL, NULL,
                LS_TESTS(test_place_synthetic_topologies, test_place_big_servers,
                         test_topo_from_xml_file, test_place_widens_the_critical_path,
                         test_place_job_threads_of_its_sweep,
                         test_place_k_threads_on_one_node_never_split,
                         test_place_one_thread_jobs_use_every_core_of_both_nodes,
                         test_place_skips_node_with_too_few_free_cores,
                         test_place_memory_limit_and_too_big, test_place_largest_first,
                         test_place_reservation_stops_small_jobs_overtaking_head,
                         test_place_reservation_keeps_backfilling));
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, test_place_init_rejects_bad_machines);
    suite_add_tcase(s, lim);
    ls_add_case(s, "Queue", setup, teardown,
                LS_TESTS(test_queue_shard_loads_only_its_own_data,
                         test_queue_all_done_loads_no_data));
    return s;
}

LS_CHECK_MAIN(place_suite)
