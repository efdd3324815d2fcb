/* asha.h - asynchronous successive halving (ASHA; Li et al., MLSys 2020):
 * the decisions, and nothing else.
 *
 * Pure: no threads, no I/O, no clock.  The state is a function of the
 * results fed to ls_asha_result and their order, and so is every decision
 * it makes; a search killed and replayed from its recorded results makes
 * the same decisions (the search CSV of a search is that record).  The
 * sweep driver, the replay benchmark and the unit tests (tests/check_asha.c)
 * all go through these calls.
 *
 * The objects:
 *  - units: what is decided on, numbered 0..nunits-1, each with a key for
 *    the last tie-break (a job id, or a configuration's first job id).
 *    With seeds = mean a unit is a configuration and its value the mean of
 *    its seeds' values: the caller averages (ls_asha_mean) and reports once
 *    per rung;
 *  - rungs: epochs[0] < epochs[1] < ... < epochs[nrungs-1] (ls_asha_rungs:
 *    min_epochs * eta^k below max_epochs, then max_epochs).  Every unit
 *    starts at rung 0; a unit promoted from rung r trains on to rung r+1
 *    (the promotion variant: it resumes from its checkpoint at rung r).
 *
 * The rules:
 *  - Order at a rung: valid entries before bad ones (NaN or infinite
 *    value: diverged, failed), then value ascending, then training loss
 *    (NaN counts as +inf), then key.
 *  - Promotion (ASHA's rule), checked at rung r whenever a result arrives
 *    there: every entry among the first floor(n/eta) of the n entries so
 *    far that is valid and not yet promoted is promoted.  (So a unit can be
 *    promoted long after its result, when later results leave it in the
 *    top; and the count promoted can exceed floor(n/eta) of the final n:
 *    ASHA's known slight over-promotion.)
 *  - Close-out, so that a search over a finite set of units ends: rung 0
 *    is complete when every unit has a result there; rung r > 0 when rung
 *    r-1 is complete and every unit promoted into r has its result.  When
 *    a rung below the last completes, its first max(1, floor(n/eta)) valid
 *    entries are promoted if they are not already (at least one, so that a
 *    search of fewer than eta units still trains one to max_epochs), and
 *    every other entry is stopped, for good.  Bad entries are never
 *    promoted.  The search is finished when every rung is complete.
 *
 * Events: each ls_asha_result returns what it decided, in order: the
 * result itself, then promotions and stops, each with the unit's rank at
 * its rung, the rung's size and its cutoff (the value of the last entry
 * inside the promoted fraction), for the audit log.
 *
 * Ownership: ls_asha_new copies the keys and epochs; free with
 * ls_asha_free (NULL is a no-op).  Not thread-safe: one caller, or a lock.
 * Errors: LS_EINVAL for bad arguments (with a message), LS_ENOMEM.
 */
#ifndef LSTMSWEEP_ASHA_H
#define LSTMSWEEP_ASHA_H

#include <stddef.h>

#include "lstmsweep/error.h"

#define LS_ASHA_MAX_RUNGS 32

typedef enum {
    LS_ASHA_NEW = 0,   /* not started: will train to rung 0 */
    LS_ASHA_RUNNING,   /* training towards its rung (ls_asha_start, or promoted) */
    LS_ASHA_WAITING,   /* has its result at its rung; may still be promoted */
    LS_ASHA_STOPPED,   /* its rung closed without it: final */
    LS_ASHA_DONE       /* has its result at the last rung: final */
} ls_asha_state;

typedef enum {
    LS_ASHA_EV_RESULT = 0, /* a result entered its rung */
    LS_ASHA_EV_PROMOTE,    /* promoted from rung to rung + 1 */
    LS_ASHA_EV_STOP,       /* stopped at rung (its rung closed) */
    LS_ASHA_EV_DONE        /* reached the last rung */
} ls_asha_event_kind;

typedef struct ls_asha_event {
    ls_asha_event_kind kind;
    int unit;
    int rung;              /* the rung of the result / promoted from / stopped at */
    double value, loss;    /* the unit's result at that rung */
    int rank;              /* 1-based, at that rung, when the event happened */
    int size;              /* entries at that rung then */
    double cutoff;         /* value of entry floor(size/eta) (NAN if none) */
} ls_asha_event;

typedef struct ls_asha ls_asha;

/* The rung epochs for a search: min_epochs * eta^k while below max_epochs,
 * then max_epochs; min_epochs >= max_epochs gives the one rung max_epochs.
 * Returns the count (<= cap), or -1 for min_epochs < 1, eta < 2 or a cap
 * too small. */
int ls_asha_rungs(int min_epochs, int max_epochs, int eta, int *epochs, int cap);

int ls_asha_new(ls_asha **out, int nunits, const char *const *keys, const int *epochs,
                int nrungs, int eta, ls_err *err);
void ls_asha_free(ls_asha *a);

/* Mark unit u (NEW) as started towards rung 0.  The driver calls it when it
 * starts the unit's jobs; it changes no decision.  LS_EINVAL if u is not
 * NEW. */
int ls_asha_start(ls_asha *a, int u);

/* Unit u's result at the rung it was training to (state RUNNING, or NEW:
 * then it is started first).  *ev gets the events this result caused (the
 * array is valid until the next call), the return value their count; a
 * negative LS_EINVAL if u has no result due (WAITING, STOPPED, DONE). */
int ls_asha_result(ls_asha *a, int u, double value, double loss,
                   const ls_asha_event **ev, ls_err *err);

ls_asha_state ls_asha_state_of(const ls_asha *a, int u);
/* The rung u trains to (RUNNING, NEW: 0), or holds its last result at. */
int ls_asha_rung_of(const ls_asha *a, int u);
/* u's result at rung r (1 and the value and loss) or 0 if none. */
int ls_asha_value(const ls_asha *a, int u, int r, double *value, double *loss);
/* Units with a result at rung r, and whether rung r is complete. */
int ls_asha_rung_size(const ls_asha *a, int r);
int ls_asha_rung_complete(const ls_asha *a, int r);
int ls_asha_finished(const ls_asha *a);
int ls_asha_nrungs(const ls_asha *a);
int ls_asha_rung_epochs(const ls_asha *a, int r);

/* The search's choice: the unit with the best entry at the highest rung
 * that has a valid one (the rung order above), or -1.  Not const: it
 * ranks in the object's scratch space (no decision changes). */
int ls_asha_best(ls_asha *a);

/* Mean of n values, NAN if any is NaN or infinite (a seed that diverged
 * makes its configuration bad); the loss mean likewise. */
double ls_asha_mean(const double *v, int n);

#endif
