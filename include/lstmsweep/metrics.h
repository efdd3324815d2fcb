/* metrics.h - the server's metrics in the Prometheus text format (0.0.4),
 * for GET /metrics.  One prefix, lstmsweep_; base units; counters end in
 * _total; no per-job labels (a label per job would be a series per job):
 *   lstmsweep_queued_jobs            gauge   queued jobs of active sweeps
 *   lstmsweep_running_jobs           gauge
 *   lstmsweep_cores / _cores_busy    gauge   from the node_status hook
 *   lstmsweep_memory_bytes / lstmsweep_memory_used_bytes     gauge
 *   lstmsweep_train_samples_per_second                       gauge
 *   lstmsweep_jobs_finished_total{status}    counter  final rows by status
 *   lstmsweep_sweeps{state}                  gauge
 *   lstmsweep_sweep_jobs{sweep,state}        gauge    per-sweep progress
 *   lstmsweep_sweep_core_seconds_total{sweep} counter
 * Values come from the store and the hooks at the moment of the call.
 * Threading: as the store.  Errors: the store's (nothing is written then
 * that a scraper would take for a full answer: the caller discards f).
 */
#ifndef LSTMSWEEP_METRICS_H
#define LSTMSWEEP_METRICS_H

#include <stdio.h>

#include "lstmsweep/api.h"
#include "lstmsweep/error.h"
#include "lstmsweep/store.h"

int ls_metrics_write(ls_store *store, const ls_api_hooks *hooks, FILE *f, ls_err *err);

#endif
