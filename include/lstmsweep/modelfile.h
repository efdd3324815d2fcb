/* modelfile.h - saving and loading trained models.
 *
 * Format (version 2, little-endian):
 *   "LSTMSWP\0"  8-byte magic
 *   u32 version, u32 header_bytes (= 52)
 *   header: i32 task, bits, T, I, H, L, C; f32 dropout; u64 seed;
 *           u64 nparams; i32 cell (cell.h: 0 lstm, 1 gru, 2 lbr-gru,
 *           3 rnn)
 *   f32 params[nparams]    layout of model.h (for that cell)
 *   u32 crc32 (zlib) of every byte before it
 * Version 1 (header_bytes 48, no cell: written before the other cells
 * existed) still loads, as an LSTM.  Saving writes version 2.
 * Saving goes through ls_file_replace (durable.h), so a crash never leaves
 * a half-written model under the real name.  Loading checks
 * magic, version, length, checksum and that nparams matches the shape; each
 * failure is LS_EFORMAT with the file named and what is wrong.
 */
#ifndef LSTMSWEEP_MODELFILE_H
#define LSTMSWEEP_MODELFILE_H

#include "lstmsweep/error.h"
#include "lstmsweep/job.h"
#include "lstmsweep/model.h"

typedef struct ls_modelfile_info {
    ls_task task;
    int bits;               /* bitcount string length, else 0 */
    ls_model_config cfg;    /* shape; batch = 1 */
} ls_modelfile_info;

int ls_modelfile_save(const char *path, const ls_model *m, const ls_job *job,
                      ls_err *err);

/* Create *out (caller destroys) with the saved parameters. */
int ls_modelfile_load(const char *path, ls_model **out,
                      ls_modelfile_info *info, ls_err *err);

#endif
