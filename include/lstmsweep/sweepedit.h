/* sweepedit.h - --set overrides written into a sweep file's text.
 *
 * `run` applies --set SECTION.KEY=VALUES while it parses (sweep.h); a
 * client of the server cannot, since the server takes the INI text only.
 * So the client edits the text: an override replaces the line of its key
 * in its section (the key matched as sweep.c matches it: '-' and '_' the
 * same), or adds a "KEY = VALUES" line at the end of the section, or, for
 * [sweep] only, adds the section at the end of the file (like run, an
 * override never adds a task section).  Everything else (comments, blank
 * lines, indentation, the order) stays as it was.
 *
 * The edit keeps, for each line of the new text, where it came from, so
 * that a message the server gives about the sent text
 * ("<submitted>:7: [bitcount] hidden: ...") is told back in the user's
 * terms: "sweep.ini:5: ..." for an original line, "--set bitcount.hidden=x:
 * ..." for an override's.
 *
 * The overrides themselves are checked by whoever parses the result
 * (unknown keys, bad values); the edit refuses only what it cannot write:
 * no '.' or '=', an unknown section, a task section the file lacks, a line
 * break in the value (LS_EINVAL, "--set ARG: ...").
 *
 * Ownership: ls_sweep_edit_apply fills *out with ls_alloc'ed text and map,
 * freed by ls_sweep_edit_free (which also takes a zeroed one);
 * ls_sweep_edit_message returns an ls_alloc'ed string.  Threading: none
 * kept.  Errors: LS_EINVAL, LS_ENOMEM.
 */
#ifndef LSTMSWEEP_SWEEPEDIT_H
#define LSTMSWEEP_SWEEPEDIT_H

#include <stddef.h>

#include "lstmsweep/error.h"

typedef struct ls_sweep_edit {
    char *text;             /* the edited sweep, NUL-terminated */
    int nlines;
    int *origin;            /* [nlines + 1], by 1-based line: > 0 that line of
                               the original, -(i + 1) override i, 0 a line
                               the edit made (a "[sweep]" header) */
    const char *const *overrides;   /* the caller's (must outlive the edit) */
} ls_sweep_edit;

int ls_sweep_edit_apply(ls_sweep_edit *out, const char *text, const char *const *overrides,
                        int noverrides, ls_err *err);
void ls_sweep_edit_free(ls_sweep_edit *e);

/* msg, a message about the edited text under the name `sent` ("<submitted>"),
 * with its "SENT:LINE:" or "SENT:" prefix put in terms of `file` and the
 * overrides; other messages are copied as they are.  NULL when out of
 * memory. */
char *ls_sweep_edit_message(const ls_sweep_edit *e, const char *msg, const char *sent,
                            const char *file);

#endif
