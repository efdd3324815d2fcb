/* topo.c - see include/lstmsweep/topo.h. */
#include "lstmsweep/topo.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hwloc.h>

#include "lstmsweep/alloc.h"

struct ls_topo {
    hwloc_topology_t topo;
    int ncores, nnodes;  /* usable cores; NUMA nodes that hold some of them */
    int machine_nodes;   /* NUMA nodes the machine has, with cores or not */
    int *core_pu;        /* [ncores] OS index of the PU used for each core */
    int *core_node;      /* [ncores] node index */
    int *node_os;        /* [nnodes] OS index of each NUMA node */
    hwloc_obj_t *nodes;  /* [nnodes] */
};

/* Node index of the NUMA node whose cpuset holds this core's PU. */
static int node_of(const ls_topo *t, hwloc_obj_t pu)
{
    for (int n = 0; n < t->nnodes; n++)
        if (hwloc_bitmap_isset(t->nodes[n]->cpuset, pu->os_index))
            return n;
    return 0;
}

/* Only the nodes that hold usable cores are the scheduler's: a node of
 * memory only (CXL, HBM beside DDR: hwloc gives it the cpuset of its
 * neighbours, and a core goes to the first node that holds it) or one that
 * taskset leaves no core of gets no job and no copy of the data. */
static void drop_coreless_nodes(ls_topo *t)
{
    int w = 0;
    for (int n = 0; n < t->nnodes; n++) {
        int has = 0;
        for (int c = 0; c < t->ncores && !has; c++)
            has = t->core_node[c] == n;
        if (!has)
            continue;
        for (int c = 0; c < t->ncores; c++)
            if (t->core_node[c] == n)
                t->core_node[c] = w;
        t->nodes[w] = t->nodes[n];
        t->node_os[w++] = t->node_os[n];
    }
    t->nnodes = w;
}

static int collect(ls_topo *t, ls_err *err)
{
    int ncores = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_CORE);
    int npus = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PU);
    /* Some virtual machines expose PUs without cores: use PUs then. */
    hwloc_obj_type_t unit = ncores > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int nunits = ncores > 0 ? ncores : npus;

    int all = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE);
    t->machine_nodes = all;
    if (nunits < 1 || all < 1)
        return ls_err_set(err, LS_EINVAL, "topology: no usable cores");
    t->core_pu = ls_alloc(sizeof(int) * (size_t)nunits);
    t->core_node = ls_alloc(sizeof(int) * (size_t)nunits);
    t->node_os = ls_alloc(sizeof(int) * (size_t)all);
    t->nodes = ls_alloc(sizeof(hwloc_obj_t) * (size_t)all);
    if (!t->core_pu || !t->core_node || !t->node_os || !t->nodes)
        return ls_err_set(err, LS_ENOMEM, "topology: out of memory");
    for (int n = 0; n < all; n++) {
        t->nodes[n] = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_NUMANODE, (unsigned)n);
        t->node_os[n] = (int)t->nodes[n]->os_index;
    }
    t->nnodes = all;
    /* Order cores node by node so that consecutive cores share a node. */
    int c = 0;
    for (int n = 0; n < all; n++)
        for (int u = 0; u < nunits; u++) {
            hwloc_obj_t obj = hwloc_get_obj_by_type(t->topo, unit, (unsigned)u);
            hwloc_obj_t pu = unit == HWLOC_OBJ_PU ? obj
                : hwloc_get_obj_inside_cpuset_by_type(t->topo, obj->cpuset,
                                                      HWLOC_OBJ_PU, 0);
            if (!pu || node_of(t, pu) != n)
                continue;
            t->core_pu[c] = (int)pu->os_index;
            t->core_node[c] = n;
            c++;
        }
    t->ncores = c;
    if (c < 1)
        return ls_err_set(err, LS_EINVAL, "topology: no usable cores");
    drop_coreless_nodes(t);
    return 0;
}

/* This machine (synthetic and xml NULL), an hwloc synthetic description,
 * or a machine described by an XML file (lstopo FILE.xml writes one). */
static int load(ls_topo **out, const char *synthetic, const char *xml, ls_err *err)
{
    ls_topo *t = ls_alloc(sizeof *t);
    int rc;

    *out = NULL;
    if (!t)
        return ls_err_set(err, LS_ENOMEM, "topology: out of memory");
    memset(t, 0, sizeof *t);
    if (hwloc_topology_init(&t->topo) != 0) {
        ls_free(t);
        return ls_err_set(err, LS_EINVAL, "hwloc: cannot initialise: %s",
                          strerror(errno));
    }
    if (xml && hwloc_topology_set_xml(t->topo, xml) != 0) {
        rc = ls_err_set(err, LS_EINVAL, "hwloc: cannot read the topology in %s: %s", xml,
                        strerror(errno));
        goto fail;
    }
    if (synthetic && hwloc_topology_set_synthetic(t->topo, synthetic) != 0) {
        rc = ls_err_set(err, LS_EINVAL, "hwloc: bad synthetic topology '%s'",
                        synthetic);
        goto fail;
    }
    /* Only what cgroups allow (hwloc's default) and what our CPU binding
     * (taskset, srun) allows. */
    if (!synthetic && !xml)
        hwloc_topology_set_flags(t->topo, HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM |
                                              HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING);
    if (hwloc_topology_load(t->topo) != 0) {
        rc = ls_err_set(err, LS_EINVAL, "hwloc: cannot load topology: %s",
                        strerror(errno));
        goto fail;
    }
    if ((rc = collect(t, err)))
        goto fail;
    *out = t;
    return 0;
fail:
    ls_topo_destroy(t);
    return rc;
}

int ls_topo_load(ls_topo **out, ls_err *err)
{
    return load(out, NULL, NULL, err);
}

int ls_topo_load_synthetic(ls_topo **out, const char *description, ls_err *err)
{
    return load(out, description, NULL, err);
}

int ls_topo_load_described(ls_topo **out, const char *what, ls_err *err)
{
    struct stat st;
    if (stat(what, &st) == 0 && S_ISREG(st.st_mode))
        return load(out, NULL, what, err);
    return load(out, what, NULL, err);
}

size_t ls_topo_node_memory(const ls_topo *t, int n)
{
    return (size_t)t->nodes[n]->attr->numanode.local_memory;
}

size_t ls_topo_memory(const ls_topo *t)
{
    size_t sum = 0;
    int all = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE);
    for (int n = 0; n < all; n++)
        sum += (size_t)hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_NUMANODE, (unsigned)n)
                   ->attr->numanode.local_memory;
    return sum;
}

void ls_topo_destroy(ls_topo *t)
{
    if (!t)
        return;
    hwloc_topology_destroy(t->topo);
    ls_free(t->core_pu);
    ls_free(t->core_node);
    ls_free(t->node_os);
    ls_free(t->nodes);
    ls_free(t);
}

int ls_topo_ncores(const ls_topo *t) { return t->ncores; }

void ls_topo_limit_cores(ls_topo *t, int n)
{
    if (n >= 1 && n < t->ncores)
        t->ncores = n;
}
int ls_topo_nnodes(const ls_topo *t) { return t->nnodes; }
int ls_topo_machine_nnodes(const ls_topo *t) { return t->machine_nodes; }
int ls_topo_core_node(const ls_topo *t, int c) { return t->core_node[c]; }
int ls_topo_node_os_index(const ls_topo *t, int n) { return t->node_os[n]; }
int ls_topo_core_pu(const ls_topo *t, int c) { return t->core_pu[c]; }

/* Bind the calling thread to one PU and its memory to the PU's node. */
static int bind_self(ls_topo *t, int core)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    int rc;
    if (!set)
        return -1;
    hwloc_bitmap_only(set, (unsigned)t->core_pu[core]);
    rc = hwloc_set_cpubind(t->topo, set, HWLOC_CPUBIND_THREAD);
    if (rc == 0)
        /* Best effort: not every kernel/VM supports membind; first-touch
         * from a bound thread already places pages on its node. */
        (void)hwloc_set_membind(t->topo, t->nodes[t->core_node[core]]->nodeset,
                                HWLOC_MEMBIND_BIND,
                                HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET);
    hwloc_bitmap_free(set);
    return rc;
}

int ls_topo_bind_team(ls_topo *t, const int *cores, int ncores, ls_err *err)
{
    int failed = 0;

    omp_set_num_threads(ncores);
    /* libgomp keeps the same threads for later parallel regions of this
     * (calling) thread as long as the team size stays the same, so the
     * binding done here sticks for the oneDNN calls of the job. */
#pragma omp parallel num_threads(ncores) reduction(+ : failed)
    {
        int i = omp_get_thread_num();
        if (i < ncores && bind_self(t, cores[i]) != 0)
            failed++;
    }
    if (failed)
        return ls_err_set(err, LS_EINVAL, "hwloc: cannot bind %d thread(s): %s",
                          failed, strerror(errno));
    return 0;
}

void ls_topo_cpulist(const ls_topo *t, const int *cores, int n, char *buf,
                     size_t len)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set) {
        snprintf(buf, len, "?");
        return;
    }
    for (int i = 0; i < n; i++)
        hwloc_bitmap_set(set, (unsigned)t->core_pu[cores[i]]);
    hwloc_bitmap_list_snprintf(buf, len, set);
    hwloc_bitmap_free(set);
}

void ls_topo_print(const ls_topo *t, FILE *f)
{
    hwloc_obj_t root = hwloc_get_root_obj(t->topo);
    const char *model = hwloc_obj_get_info_by_name(
        hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PACKAGE, 0)
            ? hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PACKAGE, 0) : root,
        "CPUModel");
    char list[256];

    fprintf(f, "machine: %s\n", model ? model : "(unknown CPU model)");
    fprintf(f, "usable: %d core(s) in %d NUMA node(s), %d package(s); "
               "one thread per core\n", t->ncores, t->nnodes,
            hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PACKAGE));
    for (int n = 0; n < t->nnodes; n++) {
        int idx[4096], k = 0;
        for (int c = 0; c < t->ncores && k < 4096; c++)
            if (t->core_node[c] == n)
                idx[k++] = c;
        ls_topo_cpulist(t, idx, k, list, sizeof list);
        fprintf(f, "  NUMA node %d: %d core(s), PUs %s, %.1f GiB (as hwloc reports it)\n",
                t->node_os[n], k, list,
                (double)t->nodes[n]->attr->numanode.local_memory / (1 << 30));
    }
}

/* The union of the nodes holding pages of the areas, into set. */
static void area_nodeset(const ls_topo *t, const ls_area *areas, size_t n, hwloc_bitmap_t set)
{
    hwloc_bitmap_t one = hwloc_bitmap_alloc();
    hwloc_bitmap_zero(set);
    for (size_t i = 0; one && i < n; i++)
        if (hwloc_get_area_memlocation(t->topo, areas[i].addr, areas[i].bytes, one,
                                       HWLOC_MEMBIND_BYNODESET) == 0)
            hwloc_bitmap_or(set, set, one);
    hwloc_bitmap_free(one);
}

int ls_topo_area_nodes(const ls_topo *t, const ls_area *areas, size_t n, char *buf,
                       size_t cap)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    int count = 0;
    if (cap)
        buf[0] = '\0';
    if (set) {
        area_nodeset(t, areas, n, set);
        count = hwloc_bitmap_weight(set);
        if (count > 0)
            hwloc_bitmap_list_snprintf(buf, cap, set);
        count = count > 0 ? count : 0;
    }
    hwloc_bitmap_free(set);
    return count;
}

int ls_topo_area_node(const ls_topo *t, const ls_area *areas, size_t n)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    int node = -1;
    if (set) {
        area_nodeset(t, areas, n, set);
        if (hwloc_bitmap_weight(set) == 1)
            for (int i = 0; i < t->nnodes; i++)
                if (t->node_os[i] == hwloc_bitmap_first(set))
                    node = i;
    }
    hwloc_bitmap_free(set);
    return node;
}

int ls_topo_bind_areas(const ls_topo *t, const ls_area *areas, size_t n, int node)
{
    int refused = 0;
    for (size_t i = 0; i < n; i++)
        if (areas[i].bytes &&
            hwloc_set_area_membind(t->topo, areas[i].addr, areas[i].bytes,
                                   t->nodes[node]->nodeset, HWLOC_MEMBIND_BIND,
                                   HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_MIGRATE) != 0)
            refused++;
    return refused;
}
