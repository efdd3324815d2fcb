/* sysinfo.c - see include/lstmsweep/sysinfo.h. */
#include "lstmsweep/sysinfo.h"

#include <errno.h>
#include <sched.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

void ls_sys_onednn_version(char *buf, size_t len)
{
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, len, "%d.%d.%d", v->major, v->minor, v->patch);
}

const char *ls_sys_isa(void)
{
    /* "cpu_isa_avx512_core_amx" -> "avx512_core_amx" */
    const char *s = dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa());
    if (!s)
        return "?";
    return strncmp(s, "cpu_isa_", 8) == 0 ? s + 8 : s;
}

void ls_sys_hostname(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0)
        snprintf(buf, len, "?");
    buf[len - 1] = '\0';
}

void ls_sys_now_iso(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double ls_sys_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fallback without hwloc: sched_getaffinity of the calling thread. */
static void affinity_list(char *buf, size_t len)
{
    cpu_set_t set;
    size_t n = 0;
    buf[0] = '\0';
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    for (int c = 0; c < CPU_SETSIZE && n + 8 < len; c++)
        if (CPU_ISSET(c, &set))
            n += (size_t)snprintf(buf + n, len - n, n ? ",%d" : "%d", c);
}

void ls_sys_thread_cpus(char *buf, size_t len, int *numa_node)
{
    hwloc_topology_t topo;
    hwloc_bitmap_t set = NULL;

    *numa_node = -1;
    if (hwloc_topology_init(&topo) != 0) {
        affinity_list(buf, len);
        return;
    }
    if (hwloc_topology_load(topo) == 0 && (set = hwloc_bitmap_alloc()) &&
        hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_THREAD) == 0) {
        hwloc_bitmap_list_snprintf(buf, len, set);
        /* The one NUMA node whose cpuset covers the whole binding. */
        hwloc_obj_t node = NULL;
        while ((node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, node)))
            if (hwloc_bitmap_isincluded(set, node->cpuset)) {
                *numa_node = (int)node->os_index;
                break;
            }
    } else {
        affinity_list(buf, len);
    }
    hwloc_bitmap_free(set);
    hwloc_topology_destroy(topo);
}

size_t ls_sys_total_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (size_t)pages * (size_t)size : 0;
}

size_t ls_sys_available_memory(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;

    if (f) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
                break;
        fclose(f);
    }
    return kb ? (size_t)kb * 1024 : ls_sys_total_memory() / 10 * 8;
}

void ls_sys_format_duration(double s, char *buf, size_t len)
{
    if (s < 60)
        snprintf(buf, len, "%.1fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

int ls_sys_mkdirs(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof buf)
        return errno = EINVAL, -1;
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = c;
            if (!c)
                return 0;
        }
    }
}
