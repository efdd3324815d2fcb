/* topo.h - the machine as the sweep runner may use it, from hwloc.
 *
 * Only the CPUs this process is allowed to run on count: hwloc drops what
 * cgroups (Slurm, containers) disallow, and the topology is further
 * restricted to the process's CPU binding (taskset, srun --cpu-bind), so
 * the runner never places a job outside its allocation.  One hardware
 * thread per core is used (SMT siblings would only share the core's FMA
 * units, which these GEMM-bound jobs saturate).
 *
 * Cores are numbered 0..ncores-1 in topology order and grouped by NUMA node;
 * a job is given a set of cores inside one node, and each thread of its
 * OpenMP team is bound to one of them (ls_topo_bind_team).
 *
 * Ownership: ls_topo_load allocates; ls_topo_destroy frees (NULL no-op).
 * Binding calls are thread-safe (hwloc's binding functions are).
 */
#ifndef LSTMSWEEP_TOPO_H
#define LSTMSWEEP_TOPO_H

#include <stddef.h>
#include <stdio.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/error.h"

typedef struct ls_topo ls_topo;

int ls_topo_load(ls_topo **out, ls_err *err);
/* A made-up machine from an hwloc synthetic description, e.g.
 * "pack:2 numa:1 core:4 pu:1" (2 nodes of 4 cores) or "numa:2 core:8 pu:2",
 * for tests of placement on machines this one is not.  Not for binding
 * (ls_topo_bind_team): its cores are not this machine's.  LS_EINVAL for a
 * description hwloc rejects. */
int ls_topo_load_synthetic(ls_topo **out, const char *description, ls_err *err);
/* A machine you are not on, for planning: an XML file that lstopo wrote
 * (`lstopo FILE.xml` on that machine) if `what` names a file, else an hwloc
 * synthetic description ("pack:2 numa:4 core:16 pu:2").  No binding. */
int ls_topo_load_described(ls_topo **out, const char *what, ls_err *err);
/* Bytes of node n (hwloc's local memory; 0 if unknown), and of every NUMA
 * node of the machine, memory-only ones included. */
size_t ls_topo_node_memory(const ls_topo *t, int n);
size_t ls_topo_memory(const ls_topo *t);
void ls_topo_destroy(ls_topo *t);

int ls_topo_ncores(const ls_topo *t);

/* Use at most n cores (the first n in topology order, i.e. filling NUMA
 * nodes in turn); for SLURM_CPUS_PER_TASK when the allocation's cpuset is
 * wider than the task's share.  n < 1 or n >= ncores changes nothing. */
void ls_topo_limit_cores(ls_topo *t, int n);
/* NUMA nodes of the machine, those without usable cores included. */
int ls_topo_machine_nnodes(const ls_topo *t);
int ls_topo_nnodes(const ls_topo *t);
/* NUMA node index (0..nnodes-1) of core c, and its OS number. */
int ls_topo_core_node(const ls_topo *t, int c);
int ls_topo_node_os_index(const ls_topo *t, int node);
/* OS index of the PU that core c's thread is bound to. */
int ls_topo_core_pu(const ls_topo *t, int c);

/* Bind the calling thread's OpenMP team (of ncores threads, which this call
 * sets with omp_set_num_threads) one thread per core cores[0..ncores), and
 * the calling thread itself to cores[0].  Also sets the memory binding
 * policy of those threads to their NUMA node, so first-touch allocations
 * land there.  Returns 0 or LS_EINVAL with hwloc's error. */
int ls_topo_bind_team(ls_topo *t, const int *cores, int ncores, ls_err *err);

/* "0-1,4" style list of the PUs of cores[0..n). */
void ls_topo_cpulist(const ls_topo *t, const int *cores, int n, char *buf,
                     size_t len);

/* Human-readable description: machine, NUMA nodes with their cores and
 * PUs, memory. */
void ls_topo_print(const ls_topo *t, FILE *f);

/* The NUMA nodes that hold pages of the n areas (hwloc's
 * hwloc_get_area_memlocation: move_pages(2) on Linux), as an OS-index list
 * ("1", "0-1") into buf: the count of such nodes, 0 if none is known (no
 * page touched yet, or the system cannot tell). */
int ls_topo_area_nodes(const ls_topo *t, const ls_area *areas, size_t n, char *buf,
                       size_t cap);
/* The index of the one node that holds all their touched pages, or -1. */
int ls_topo_area_node(const ls_topo *t, const ls_area *areas, size_t n);
/* Bind the pages of the n areas to node (an index as above) for good: an
 * mbind(2) policy of their own, moving any page elsewhere onto it.  Why:
 * the kernel's automatic NUMA balancing (on by default on NUMA machines)
 * moves a page towards the threads that read it, and a node's shared data
 * copy is read by other nodes' threads when they make their own copy; a
 * bound area is one the balancer leaves alone (hwloc's BIND: MPOL_BIND, or
 * MPOL_PREFERRED_MANY on kernels 5.15+, which still lets a full node's
 * pages fall back elsewhere).  The bind covers the whole
 * pages the areas touch.  Best effort: returns the count of areas the
 * system refused (no NUMA support), 0 when all are bound. */
int ls_topo_bind_areas(const ls_topo *t, const ls_area *areas, size_t n, int node);

#endif
