/* sysinfo.h - facts about the machine and the running thread that go into
 * every results row: host, oneDNN version and ISA, the CPUs the calling
 * thread may run on, clocks.  All functions are thread-safe and cannot
 * fail (they fall back to "?" or -1). */
#ifndef LSTMSWEEP_SYSINFO_H
#define LSTMSWEEP_SYSINFO_H

#include <stddef.h>

/* "2.6.3" */
void ls_sys_onednn_version(char *buf, size_t len);
/* oneDNN's effective ISA, e.g. "avx512_core_bf16" (static string). */
const char *ls_sys_isa(void);
void ls_sys_hostname(char *buf, size_t len);
/* Current UTC time as ISO 8601, "2026-11-22T13:05:01Z". */
void ls_sys_now_iso(char *buf, size_t len);
/* Monotonic seconds. */
double ls_sys_seconds(void);
/* The calling thread's CPU binding as a list ("0-1,4") and the NUMA node
 * holding all of them (-1 if several or unknown). */
void ls_sys_thread_cpus(char *buf, size_t len, int *numa_node);
/* Total physical memory in bytes (from sysconf; 0 if unknown). */
size_t ls_sys_total_memory(void);

/* mkdir -p: create dir and any missing parents.  0, or -1 with errno. */
int ls_sys_mkdirs(const char *dir);

/* A duration for people: "12.3s", "3m05s", "1h02m". */
void ls_sys_format_duration(double seconds, char *buf, size_t len);

/* MemAvailable from /proc/meminfo in bytes (what can be used without
 * swapping); falls back to 80% of total memory. */
size_t ls_sys_available_memory(void);

#endif
